"""The `scale` scenario of bench.py: how each figure grows with the number of programs.

For N = 10, 100, 1,000, 10,000 configured programs (`sleep`, autostart=false, logs NONE):
launch to the first answered RPC, RSS, reloadConfig with nothing changed, `update` after
changing one program (reloadConfig + stop/remove/add of its group, the RPCs supervisorctl
sends), RSS after one and after ten reloads. For N started programs (`sleep`, startsecs=0):
launch to all RUNNING against the machine's raw posix_spawn of the same N in the same
rotation, getAllProcessInfo's server share, the web status page, /metrics, idle wake-ups and
SIGTERM to exit. And 100,000 configured programs: launch to getState and RSS. Each figure is
printed as a curve over N with the ratio per N and the growth time(10N)/time(N)."""

import math
import os
import re
import resource
import signal
import socket
import statistics
import time
import xmlrpc.client

import bench
from bench import Daemon, pct, programs, raw_call, raw_request, run_rounds

NOT_STARTED = "autostart=false\nstdout_logfile=NONE\nstderr_logfile=NONE\n"


def args(ap):
    ap.add_argument("--scale-n", default="10,100,1000,10000",
                    help="configured-program counts for the scale scenario")
    ap.add_argument("--scale-started", default="10,100,1000,10000",
                    help="started-program counts for the scale scenario")
    ap.add_argument("--scale-big", type=int, default=100000,
                    help="configured programs for the load-only point (0: none)")
    ap.add_argument("--scale-reloads", type=int, default=10)
    ap.add_argument("--scale-idle-secs", type=int, default=5)
    # Python's getAllProcessInfo is quadratic (55 s at 10,000): its started runs stop here.
    ap.add_argument("--scale-python-started", type=int, default=1000)


def ints(text):
    return [int(x) for x in text.split(",") if x.strip()]


def fds_for(n):
    """minfds for n started programs: three pipes' ends each, and room for the rest."""
    return max(8192, 3 * n + 100)


def startable(n):
    """The largest count up to n that the hard RLIMIT_NOFILE lets a daemon start (each
    started program holds three pipe ends in it: stdout, stderr, stdin). Raising the hard
    limit needs CAP_SYS_RESOURCE, which a container may not have."""
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    if hard == resource.RLIM_INFINITY or fds_for(n) <= hard:
        return n
    fit = (hard - 100) // 3
    fit -= fit % 1000 if fit >= 1000 else 0
    print(f"# scale: {n} started programs need {fds_for(n)} fds, the hard limit is {hard} "
          f"(raising it needs CAP_SYS_RESOURCE): measured at {fit} instead", flush=True)
    return fit


def first_rpc(d, timeout=600):
    """Polls getState on a fresh connection every 2 ms until it answers RUNNING; returns the
    time of that answer."""
    end = time.monotonic() + timeout
    body = xmlrpc.client.dumps((), "supervisor.getState").encode()
    req = (f"POST /RPC2 HTTP/1.0\r\nContent-Type: text/xml\r\nContent-Length: {len(body)}\r\n\r\n"
           ).encode() + body
    while time.monotonic() < end:
        if d.proc.poll() is not None:
            raise RuntimeError(f"{d.impl} daemon exited: {d.proc.returncode}")
        try:
            with socket.socket(socket.AF_UNIX) as s:
                s.connect(d.sock)
                s.sendall(req)
                buf = b""
                while True:
                    c = s.recv(65536)
                    if not c:
                        break
                    buf += c
            if b"RUNNING" in buf:
                return time.monotonic()
        except OSError:
            pass
        time.sleep(0.002)
    raise RuntimeError(f"{d.impl}: no RPC answer after {timeout} s")


class Conn:
    """One kept-alive connection to a daemon's socket, as supervisorctl and browsers keep."""

    def __init__(self, d):
        self.sock = socket.socket(socket.AF_UNIX)
        self.sock.connect(d.sock)

    def call(self, method, params=()):
        """Server share of one XML-RPC call; a fault is an error."""
        dt, body = raw_call(self.sock, method, params, body=True)
        if b"<fault>" in body:
            raise RuntimeError(f"{method}{params}: {body[-300:]!r}")
        return dt

    def get(self, path):
        return raw_request(self.sock, f"GET {path} HTTP/1.1\r\nHost: localhost\r\n\r\n".encode())

    def close(self):
        self.sock.close()


def change_one(d):
    """Rewrites the config with program p0's command changed."""
    text = open(d.conf).read()
    old = "[program:p0]\ncommand=/bin/sleep 1000000\n"
    new = "[program:p0]\ncommand=/bin/sleep 1000001\n"
    if old not in text:
        raise RuntimeError("p0 not found in the config")
    with open(d.conf, "w") as f:
        f.write(text.replace(old, new, 1))


def configured(a, n):
    def one(impl):
        out = {}
        with Daemon(impl, programs(n, extra=NOT_STARTED)) as d:
            d.start()
            t = first_rpc(d)
            out[f"launch to first RPC [N={n}]"] = ("ms", (t - d.t_launch) * 1000)
            time.sleep(0.5)
            rss = d.rss_kb()
            out[f"RSS, not started [N={n}]"] = ("kB", rss)
            reloads = a.scale_reloads if impl != "python" or n <= 1000 else 2
            c = Conn(d)
            ts = []
            for i in range(reloads):
                ts.append(c.call("supervisor.reloadConfig"))
                if i == 0:
                    out[f"RSS after 1 reload [N={n}]"] = ("kB", d.rss_kb())
            out[f"reloadConfig, nothing changed [N={n}]"] = ("ms", statistics.median(ts) * 1000)
            if reloads == a.scale_reloads and reloads > 1:
                r10 = d.rss_kb()
                out[f"RSS after {reloads} reloads [N={n}]"] = ("kB", r10)
                out[f"RSS after {reloads} reloads / after 1 [N={n}]"] = (
                    "x", r10 / out[f"RSS after 1 reload [N={n}]"][1])
            change_one(d)
            t0 = time.perf_counter()
            c.call("supervisor.reloadConfig")
            for m in ("stopProcessGroup", "removeProcessGroup", "addProcessGroup"):
                c.call("supervisor." + m, ("p0",))
            out[f"update, one program changed [N={n}]"] = ("ms", (time.perf_counter() - t0) * 1000)
            c.close()
        return out
    run_rounds("scale", a.rounds, one)


def raw_spawn(n):
    """The machine's own cost: posix_spawn n sleeps, then SIGTERM and reap them."""
    cmd = ["/bin/sleep", "1000000"]
    t0 = time.monotonic()
    pids = [os.posix_spawn(cmd[0], cmd, os.environ) for _ in range(n)]
    dt = time.monotonic() - t0
    time.sleep(0.3)
    for p in pids:
        os.kill(p, signal.SIGTERM)
    for p in pids:
        os.waitpid(p, 0)
    return dt


def count_running(logfile):
    try:
        with open(logfile, "rb") as f:
            return f.read().count(b"entered RUNNING state")
    except FileNotFoundError:
        return 0


def started(a, n):
    def one(impl):
        if impl == "raw":
            return {f"started: launch to all RUNNING [N={n}]": ("ms", raw_spawn(n) * 1000)}
        out = {}
        with Daemon(impl, programs(n), minfds=fds_for(n)) as d:
            d.start()
            # The main log's "entered RUNNING state" lines: the same in both daemons, and
            # cheaper to poll than a getAllProcessInfo of n processes.
            end = time.monotonic() + 600
            while count_running(d.logfile) < n:
                if time.monotonic() > end or d.proc.poll() is not None:
                    raise RuntimeError(f"{impl}: not all {n} RUNNING")
                time.sleep(0.01)
            out[f"started: launch to all RUNNING [N={n}]"] = ("ms", (time.monotonic() - d.t_launch) * 1000)
            c = Conn(d)
            c.call("supervisor.getAllProcessInfo")
            ts = [c.call("supervisor.getAllProcessInfo") for _ in range(5)]
            out[f"started: getAllProcessInfo server share [N={n}]"] = ("ms", pct(ts, 0.5) * 1000)
            c.get("/index.html")
            ts = [c.get("/index.html") for _ in range(3)]
            out[f"started: status page [N={n}]"] = ("ms", pct(ts, 0.5) * 1000)
            if impl != "python":  # no /metrics in Python supervisor
                c.get("/metrics")
                ts = [c.get("/metrics") for _ in range(3)]
                out[f"started: /metrics [N={n}]"] = ("ms", pct(ts, 0.5) * 1000)
            c.close()
            time.sleep(1)
            v0, c0 = d.vcsw(), d.cpu()
            time.sleep(a.scale_idle_secs)
            out[f"started: idle wake-ups / {a.scale_idle_secs} s [N={n}]"] = ("count", d.vcsw() - v0)
            out[f"started: idle CPU over {a.scale_idle_secs} s [N={n}]"] = ("ms", (d.cpu() - c0) * 1000)
            out[f"started: RSS [N={n}]"] = ("kB", d.rss_kb())
            t0 = time.monotonic()
            d.proc.send_signal(signal.SIGTERM)
            end = t0 + 120
            while d.proc.poll() is None and time.monotonic() < end:
                time.sleep(0.0005)
            out[f"started: SIGTERM to daemon exit [N={n}]"] = ("ms", (time.monotonic() - t0) * 1000)
        return out
    impls = ("ours", "python", "ours2", "raw") if n <= a.scale_python_started else ("ours", "ours2", "raw")
    run_rounds("scale", a.rounds, one, impls=impls)


def big(a, n):
    def one(impl):
        with Daemon(impl, programs(n, extra=NOT_STARTED)) as d:
            d.start()
            t = first_rpc(d, timeout=900)
            out = {f"launch to first RPC [N={n}]": ("ms", (t - d.t_launch) * 1000)}
            time.sleep(0.5)
            out[f"RSS, not started [N={n}]"] = ("kB", d.rss_kb())
            return out
    # One round each: Python needs minutes here.
    run_rounds("scale", 1, one, impls=("ours", "python"))


def scale(a):
    first = len(bench.RESULTS)
    for n in ints(a.scale_n):
        configured(a, n)
    if a.scale_big:
        big(a, a.scale_big)
    for n in ints(a.scale_started):
        started(a, startable(n))
    curves(bench.RESULTS[first:])


def curves(results):
    """Each figure over N: medians, the ratio per N (and per raw figure), and the growth
    value(10N)/value(N) with a one-line verdict from the largest tenfold step."""
    fam = {}
    for _, figure, unit, per in results:
        m = re.search(r" \[N=(\d+)\]$", figure)
        if not m:
            continue
        key, n = figure[: m.start()], int(m.group(1))
        fam.setdefault((key, unit), {})[n] = {k: statistics.median(v) for k, v in per.items() if v}
    print("# scale curves. N: ours [py python (ours/python)] [raw raw (ours/raw)]; "
          "growth = ours(10N)/ours(N)")
    for (key, unit), by_n in fam.items():
        ns = sorted(by_n)
        cells = []
        for n in ns:
            v = by_n[n]
            ours = v.get("ours")
            c = f"{n}: {fmt(ours)}"
            for other, tag in (("python", "py"), ("raw", "raw")):
                if v.get(other):
                    c += f" {tag} {fmt(v[other])}"
                    if ours is not None:
                        c += f" ({ours / v[other]:.3g})"
            cells.append(c)
        # value(hi)/value(lo) per step, and the exponent k of value ~ N^k over the last step
        # (fixed costs flatten the small steps).
        growth = [(lo, hi, by_n[hi]["ours"] / by_n[lo]["ours"]) for lo, hi in zip(ns, ns[1:])
                  if by_n[lo].get("ours") and by_n[hi].get("ours")]
        verdict = ""
        if growth and unit in ("ms", "kB"):
            lo, hi, g = growth[-1]
            k = math.log(g) / math.log(hi / lo)
            order = ("sublinear" if k < 0.8 else "linear" if k <= 1.15 else "n log n or worse"
                     if k <= 1.3 else "SUPERLINEAR")
            steps = " ".join(f"x{g:.3g}/x{hi // lo}" for lo, hi, g in growth)
            verdict = f"  growth {steps}: {order} (N^{k:.2f}, {lo}->{hi})"
        print(f"{key:45} {unit:5} " + "; ".join(cells) + verdict, flush=True)


def fmt(x):
    return "-" if x is None else bench.fmt(x)
