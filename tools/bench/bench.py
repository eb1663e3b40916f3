"""Benchmarks: our supervisord vs Python supervisor 4.3.0, side by side in the same run.

Every scenario runs its implementations interleaved (A B B A ...) for several rounds and reports
the median of the rounds per figure, the ratio ours/Python, and a noise floor: the ratio of our
daemon to itself ("ours2" is the same binary run as a third implementation in the same rotation).
Both daemons are driven identically over the unix socket with supervisor's own xmlrpc transport.

Usage: .venv/bin/python tools/bench/bench.py [--rounds 3] [--only a,b] [--skip a,b] [--json FILE]
Scenarios: footprint idle_rss idle_wakeups ctl_status rpc_latency start_all log_throughput
log_lines event_throughput event_latency spawn_churn scale (scale.py) s6_runit (svtree.py)
depends_chain.
Needs the release binaries (make bench builds them; BENCH_REL says where)."""

import argparse
import glob
import hashlib
import json
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import xmlrpc.client

from supervisor.xmlrpc import SupervisorTransport

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# BENCH_REL: where the release binaries are (make bench: target/<TARGET>/release).
REL = os.environ.get("BENCH_REL") or os.path.join(ROOT, "target/release")
# BENCH_RELAY: tools/bench/relay.rs built (make bench does it), the event_throughput floor.
RELAY = os.environ.get("BENCH_RELAY") or os.path.join(ROOT, "target/bench-relay")
VENV = os.path.join(ROOT, ".venv/bin")
DAEMON = {"ours": f"{REL}/supervisord", "python": f"{VENV}/supervisord", "ours2": f"{REL}/supervisord"}
CTL = {"ours": f"{REL}/supervisorctl", "python": f"{VENV}/supervisorctl", "ours2": f"{REL}/supervisorctl"}
RESULTS = []  # (scenario, figure, unit, {impl: [values per round]})


def log(*a):
    print(*a, file=sys.stderr, flush=True)


# --- daemons -------------------------------------------------------------------------------------

def cpu_s(pid):
    """CPU seconds of pid (children excluded), summed over its live threads from
    /proc/PID/task/*/schedstat (nanoseconds; /proc/PID/stat counts 10 ms ticks, too coarse
    for a 0.3 s burst); 0 once it is gone."""
    ns = 0
    for st in glob.glob(f"/proc/{pid}/task/*/schedstat"):
        try:
            ns += int(open(st).read().split()[0])
        except (FileNotFoundError, ProcessLookupError):
            pass
    return ns / 1e9


def vcsw(pid):
    """Voluntary context switches of pid, summed over its live threads: its wake-ups."""
    n = 0
    for st in glob.glob(f"/proc/{pid}/task/*/status"):
        try:
            for line in open(st):
                if line.startswith("voluntary_ctxt_switches"):
                    n += int(line.split()[1])
        except (FileNotFoundError, ProcessLookupError):
            pass
    return n


class Daemon:
    """One supervisord (ours or Python's) in the foreground in its own session, in a temp dir."""

    def __init__(self, impl, programs="", extra="", loglevel="info", minfds=8192):
        self.impl = impl
        self.dir = tempfile.mkdtemp(prefix=f"bench-{impl}-")
        self.sock = os.path.join(self.dir, "sock")
        self.conf = os.path.join(self.dir, "supervisord.conf")
        self.logfile = os.path.join(self.dir, "supervisord.log")
        with open(self.conf, "w") as f:
            f.write(f"""[supervisord]
logfile={self.logfile}
pidfile={self.dir}/supervisord.pid
childlogdir={self.dir}
nodaemon=true
minfds={minfds}
loglevel={loglevel}
{extra}
[unix_http_server]
file={self.sock}
[supervisorctl]
serverurl=unix://{self.sock}
[rpcinterface:supervisor]
supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface
{programs}
""")
        self.proc = None

    def add_file(self, name, text):
        """Writes `text` to `name` in the daemon's dir (a helper script); returns its path."""
        path = os.path.join(self.dir, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def add_conf(self, text):
        """Appends sections to the generated config (before start)."""
        with open(self.conf, "a") as f:
            f.write(text)

    def start(self):
        self.t_launch = time.monotonic()
        self.proc = subprocess.Popen([DAEMON[self.impl], "-n", "-c", self.conf], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL, start_new_session=True)
        self.pid = self.proc.pid
        return self

    def proxy(self):
        t = SupervisorTransport(None, None, "unix://" + self.sock)
        return xmlrpc.client.ServerProxy("http://127.0.0.1", transport=t)

    def wait_up(self, timeout=60):
        end = time.monotonic() + timeout
        last = None
        while time.monotonic() < end:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.impl} daemon exited: {self.proc.returncode}")
            try:
                s = self.proxy()  # a fresh connection each try: a failed request spoils a kept-alive one
                if s.supervisor.getState()["statename"] == "RUNNING":
                    return s
            except Exception as e:
                last = e
            time.sleep(0.01)
        raise RuntimeError(f"{self.impl} daemon never came up: {last!r}")

    def wait_all(self, s, state="RUNNING", n=None, timeout=120, poll=0.02):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            infos = s.supervisor.getAllProcessInfo()
            if all(i["statename"] == state for i in infos) and (n is None or len(infos) == n):
                return time.monotonic()
            time.sleep(poll)
        raise RuntimeError(f"{self.impl}: not all {state} after {timeout} s")

    def cpu(self):
        """Daemon's own CPU seconds (children excluded): `cpu_s`. Threads that exited inside
        the window are missed: every scenario keeps its one RPC connection open across the
        window, so nothing it measures exits."""
        return cpu_s(self.pid)

    def vcsw(self):
        return vcsw(self.pid)

    def rss_kb(self):
        for line in open(f"/proc/{self.pid}/status"):
            if line.startswith("VmRSS"):
                return int(line.split()[1])

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc is not None:
            try:  # anything the daemon left behind in its session (pgid == its pid)
                os.killpg(self.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *a):
        self.stop()


def programs(n, command="/bin/sleep 1000000", name="p", extra="autostart=true\nstartsecs=0\n"
             "stdout_logfile=NONE\nstderr_logfile=NONE\n"):
    return "".join(f"[program:{name}{i}]\ncommand={command}\n{extra}\n" for i in range(n))


# --- statistics and reporting --------------------------------------------------------------------


def wait_listener(s, impl, name="lat", secs=20):
    """Waits until the listener process `name` is RUNNING under `impl`."""
    end = time.monotonic() + secs
    while s.supervisor.getProcessInfo(name)["statename"] != "RUNNING":
        if time.monotonic() > end:
            raise RuntimeError(f"{impl}: listener never ran")
        time.sleep(0.02)

def pct(xs, q):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(q * len(xs)))]


def order(rounds, impls=("ours", "python", "ours2")):
    out = []
    for r in range(rounds):
        out += list(impls) if r % 2 == 0 else list(reversed(impls))
    return out


def record(scenario, figure, unit, per_impl):
    RESULTS.append((scenario, figure, unit, per_impl))
    med = {k: statistics.median(v) for k, v in per_impl.items() if v}
    cells = [f"{scenario:16} {figure:38} {unit:8}"]
    known = ("ours", "python", "ours2", "raw", "raw-nolog")
    for k in known + tuple(k for k in med if k not in known):
        if k in med:
            cells.append(f"{k}={fmt(med[k])}")
    if "ours" in med and med.get("python"):
        cells.append(f"ratio={med['ours'] / med['python']:.4g}")
    if "ours" in med and med.get("ours2"):
        cells.append(f"noise={med['ours'] / med['ours2']:.3g}")
    for k in ("ours", "python"):  # worst rounds matter too (a 1 s stall hides behind a median)
        if len(per_impl.get(k, [])) > 1:
            cells.append(f"{k}:max={fmt(max(per_impl[k]))}")
    print("  ".join(cells), flush=True)


def fmt(x):
    return f"{x:.4g}" if isinstance(x, float) else str(x)


def run_rounds(scenario, rounds, fn, impls=("ours", "python", "ours2")):
    """fn(impl) -> {figure: (unit, value)}; collects values per impl, records medians."""
    acc = {}
    for impl in order(rounds, impls):
        log(f"[{scenario}] {impl}")
        for fig, (unit, v) in fn(impl).items():
            acc.setdefault(fig, (unit, {}))[1].setdefault(impl, []).append(v)
    for fig, (unit, per) in acc.items():
        record(scenario, fig, unit, per)


# --- scenarios -----------------------------------------------------------------------------------

def footprint(a):
    total = 0
    for b in ("supervisord", "supervisorctl", "pidproxy", "echo_supervisord_conf"):
        src = f"{REL}/{b}"
        with tempfile.TemporaryDirectory() as d:
            subprocess.run(["strip", "-o", f"{d}/b", src], check=True)
            n = os.path.getsize(f"{d}/b")
        total += n
        record("footprint", f"{b} stripped", "bytes", {"ours": [n]})
    record("footprint", "total install (4 binaries)", "bytes", {"ours": [total]})
    py = 0
    import supervisor
    for dp, _, fs in os.walk(os.path.dirname(supervisor.__file__)):
        py += sum(os.path.getsize(os.path.join(dp, f)) for f in fs)
    record("footprint", "python supervisor pkg (no interpreter)", "bytes", {"python": [py]})
    unstripped = os.environ.get("BENCH_UNSTRIPPED")
    if unstripped:
        for b in ("supervisord", "supervisorctl"):
            p = os.path.join(unstripped, b)
            if os.path.exists(p):
                for crate, n in crate_shares(p):
                    record("footprint", f"{b} symbols: {crate}", "bytes", {"ours": [n]})


def crate_shares(binary):
    """Bytes of text/data symbols per crate (first path segment of the demangled name)."""
    out = subprocess.run(["nm", "--size-sort", "-S", "-C", binary], capture_output=True, text=True).stdout
    by = {}
    for line in out.splitlines():
        parts = line.split(None, 3)
        if len(parts) < 4:
            continue
        size, name = int(parts[1], 16), parts[3]
        n = name.lstrip("<&*")
        if n.startswith("_<") or n.startswith("<"):
            n = n.lstrip("_<")
        crate = n.split("::", 1)[0] if "::" in n else "(C / unmangled)"
        crate = crate.split(" as ")[0].split("<")[0].strip()
        # C++ (libunwind) names start with their return type: `bool libunwind::...`.
        crate = crate.split()[-1].strip("<>&*") if crate else "(other)"
        if crate in ("str", "[T]", "slice"):
            crate = "core"  # inherent impls on primitive types
        by[crate] = by.get(crate, 0) + size
    return sorted(by.items(), key=lambda kv: -kv[1])[:12]


def idle_rss(a):
    for n in (10, 100, 500):
        def one(impl):
            with Daemon(impl, programs(n)).start() as d:
                s = d.wait_up()
                d.wait_all(s, n=n, poll=0.1)
                time.sleep(1)
                return {f"VmRSS, {n} programs": ("kB", d.rss_kb())}
        run_rounds("idle_rss", a.rounds, one)


def idle_wakeups(a):
    secs = a.idle_secs

    def one(impl):
        with Daemon(impl, programs(100)).start() as d:
            s = d.wait_up()
            d.wait_all(s, n=100, poll=0.1)
            del s
            time.sleep(1)
            c0, v0 = d.cpu(), d.vcsw()
            time.sleep(secs)
            c1, v1 = d.cpu(), d.vcsw()
            return {f"voluntary ctx switches / {secs} s": ("count", v1 - v0),
                    f"daemon CPU over {secs} s": ("ms", (c1 - c0) * 1000)}
    run_rounds("idle_wakeups", max(2, a.rounds - 1), one)


def ctl_status(a):
    def one(impl):
        with Daemon(impl, programs(100)).start() as d:
            s = d.wait_up()
            d.wait_all(s, n=100, poll=0.1)
            ts = []
            for _ in range(10):
                t0 = time.monotonic()
                r = subprocess.run([CTL[impl], "-c", d.conf, "status"], capture_output=True)
                ts.append(time.monotonic() - t0)
                if r.returncode != 0 or r.stdout.count(b"RUNNING") != 100:
                    raise RuntimeError(f"{impl} ctl status: rc {r.returncode}")
            return {"supervisorctl status (100 programs)": ("ms", statistics.median(ts) * 1000)}
    run_rounds("ctl_status", a.rounds, one)


def raw_call(sock, method, params=(), body=False):
    """Server share of one call: the request written and the whole response read. With
    body=True, (seconds, response body)."""
    data = xmlrpc.client.dumps(tuple(params), method).encode()
    req = (f"POST /RPC2 HTTP/1.1\r\nHost: localhost\r\nContent-Type: text/xml\r\n"
           f"Content-Length: {len(data)}\r\n\r\n").encode() + data
    return raw_request(sock, req, body)


def raw_request(sock, req, body=False):
    """Writes an HTTP/1.1 request on a kept-alive connection and reads the whole response
    (Content-Length or chunked); the seconds it took, and the body with body=True. The body
    grows in a bytearray: `bytes +=` copies it whole per chunk, which for a 12 MB reply
    cost the harness more than the server's share it measures."""
    t0 = time.perf_counter()
    sock.sendall(req)
    buf = bytearray()
    while b"\r\n\r\n" not in buf:
        c = sock.recv(65536)
        if not c:
            raise RuntimeError("connection closed")
        buf += c
    end = buf.index(b"\r\n\r\n")
    head, rest = bytes(buf[:end]), buf[end + 4:]
    hl = head.lower()
    if b"content-length:" in hl:
        n = int(hl.split(b"content-length:", 1)[1].split(b"\r\n", 1)[0])
        while len(rest) < n:
            c = sock.recv(1 << 20)
            if not c:
                raise RuntimeError("connection closed")
            rest += c
    elif b"chunked" in hl:
        while not rest.endswith(b"0\r\n\r\n"):
            c = sock.recv(1 << 20)
            if not c:
                raise RuntimeError("connection closed")
            rest += c
    else:
        raise RuntimeError("no length in response: " + head.decode(errors="replace"))
    dt = time.perf_counter() - t0
    if not head.startswith(b"HTTP/1.1 200"):
        raise RuntimeError("response: " + head.split(b"\r\n", 1)[0].decode(errors="replace"))
    return (dt, bytes(rest)) if body else dt


def rpc_latency(a):
    for n, calls in ((100, 200), (1000, 10)):
        def one(impl):
            prog = programs(n, extra="autostart=false\nstdout_logfile=NONE\nstderr_logfile=NONE\n")
            with Daemon(impl, prog).start() as d:
                s = d.wait_up(timeout=120)
                out = {}
                for meth, k in (("getState", 500), ("getAllProcessInfo", calls)):
                    f = getattr(s.supervisor, meth)
                    f()
                    ts = []
                    for _ in range(k):
                        t0 = time.perf_counter()
                        f()
                        ts.append(time.perf_counter() - t0)
                    out[f"{meth}({n}) client p50"] = ("ms", pct(ts, 0.5) * 1000)
                    out[f"{meth}({n}) client p99"] = ("ms", pct(ts, 0.99) * 1000)
                    sk = socket.socket(socket.AF_UNIX)
                    sk.connect(d.sock)
                    raw_call(sk, "supervisor." + meth)
                    ts = [raw_call(sk, "supervisor." + meth) for _ in range(k)]
                    sk.close()
                    out[f"{meth}({n}) server share p50"] = ("ms", pct(ts, 0.5) * 1000)
                    out[f"{meth}({n}) server share p99"] = ("ms", pct(ts, 0.99) * 1000)
                return out
        run_rounds("rpc_latency", a.rounds, one)


def fork_exec_rate(n=200):
    """The machine's own rates: posix_spawn n processes (true; sleep), and SIGTERM + reap of
    the n sleeps (the floor of stopAllProcesses)."""
    out = {}
    for cmd in (["/bin/true"], ["/bin/sleep", "1000000"]):
        t0 = time.monotonic()
        pids = [os.posix_spawn(cmd[0], cmd, os.environ) for _ in range(n)]
        t1 = time.monotonic()
        out[f"raw posix_spawn {n}x {os.path.basename(cmd[0])}"] = ("ms", (t1 - t0) * 1000)
        if cmd[0] == "/bin/sleep":
            time.sleep(0.3)  # every child has exec'd sleep
            t2 = time.monotonic()
            for p in pids:
                os.kill(p, signal.SIGTERM)
        for p in pids:
            os.waitpid(p, 0)
        if cmd[0] == "/bin/sleep":
            out[f"raw SIGTERM + reap {n}x sleep"] = ("ms", (time.monotonic() - t2) * 1000)
    return out


def start_all(a):
    n = 200

    def one(impl):
        if impl == "raw":
            return fork_exec_rate(n)
        with Daemon(impl, programs(n)).start() as d:
            s = d.wait_up()
            t = d.wait_all(s, n=n, poll=0.02)
            out = {f"launch to {n} RUNNING": ("ms", (t - d.t_launch) * 1000)}
            t0 = time.monotonic()
            s.supervisor.stopAllProcesses(True)
            out[f"stopAllProcesses({n}, wait)"] = ("ms", (time.monotonic() - t0) * 1000)
            d.wait_all(s, state="STOPPED", n=n)
            t0 = time.monotonic()
            s.supervisor.startAllProcesses(True)
            out[f"startAllProcesses({n}, wait)"] = ("ms", (time.monotonic() - t0) * 1000)
            d.wait_all(s, n=n)
            t0 = time.monotonic()
            d.proc.send_signal(signal.SIGTERM)
            # Not Popen.wait(timeout): it polls at 0.5, 1, 2, 4 ... 50 ms intervals, which made
            # this figure 32 or 64 ms whatever the exit took.
            end = t0 + 60
            while d.proc.poll() is None and time.monotonic() < end:
                time.sleep(0.0005)
            out[f"SIGTERM to daemon exit ({n} running)"] = ("ms", (time.monotonic() - t0) * 1000)
            return out
    run_rounds("start_all", a.rounds, one, impls=("ours", "python", "ours2", "raw"))


# A listener for `ready=tcp:PORT`: perl-base is Essential on Debian (python3 is not, and starts
# about seven times slower here), and IO::Socket::INET is part of it.
LISTENER = ("/usr/bin/perl -MIO::Socket::INET -e '$s = IO::Socket::INET->new(LocalAddr => "
            "q(127.0.0.1), LocalPort => $ARGV[0], Listen => 128, ReuseAddr => 1) or die $!; "
            "close $c while accept $c, $s' ")


def free_ports(n):
    """n distinct TCP ports free on 127.0.0.1 now (bound together, then released)."""
    socks = []
    try:
        for _ in range(n):
            sk = socket.socket()
            sk.bind(("127.0.0.1", 0))
            socks.append(sk)
        return [sk.getsockname()[1] for sk in socks]
    finally:
        for sk in socks:
            sk.close()


def depends_chain(a):
    """A chain of N programs (p1 depends_on p0, ...) from launch to all RUNNING, against the same
    N with no dependencies. Each program listens on a TCP port of its own and is RUNNING once
    that port accepts (`ready=tcp:PORT`), so a link waits for its dependency to be really up.
    Ours only: Supervisor 4.3 ignores depends_on and ready."""
    n = a.chain
    # startsecs is the time to get ready with a probe: generous, for a loaded machine.
    base = "autostart=true\nstartsecs=60\nstdout_logfile=NONE\nstderr_logfile=NONE\n"

    def progs(chained):
        ports = free_ports(n)
        return "".join(
            f"[program:p{i}]\ncommand={LISTENER}{port}\n{base}ready=tcp:{port}\n"
            + (f"depends_on=p{i - 1}\n" if chained and i else "") + "\n"
            for i, port in enumerate(ports))

    def one(impl):
        out = {}
        for label, chained in (("no dependencies", False), ("chain", True)):
            with Daemon(impl, progs(chained)).start() as d:
                s = d.wait_up()
                t = d.wait_all(s, n=n, poll=0.005)
                out[f"launch to {n} RUNNING (ready=tcp), {label}"] = ("ms", (t - d.t_launch) * 1000)
        return out
    run_rounds("depends_chain", a.rounds, one, impls=("ours", "ours2"))


def log_throughput(a):
    mb = a.log_mb
    src = os.path.join(tempfile.gettempdir(), f"bench-src-{os.getpid()}.bin")
    block = os.urandom(1 << 20)
    with open(src, "wb") as f:
        for i in range(mb):  # distinct blocks so a lost or repeated block changes the hash
            f.write(hashlib.sha256(block + i.to_bytes(4, "little")).digest() * 32768)
    size = os.path.getsize(src)
    want = hashlib.sha256(open(src, "rb").read()).hexdigest()
    try:
        for rot in (False, True):
            tag = "rotating 50MB x10" if rot else "no rotation"
            maxb = "50MB" if rot else "0"

            def one(impl):
                if impl == "raw":
                    # cat writes the file into a pipe; a second cat copies the pipe into a file
                    # (the daemon's job without the daemon); its rusage is the CPU floor.
                    with tempfile.TemporaryDirectory() as d, open(f"{d}/out", "wb") as out:
                        t0 = time.monotonic()
                        prod = subprocess.Popen(["cat", src], stdout=subprocess.PIPE)
                        cons = subprocess.Popen(["cat"], stdin=prod.stdout, stdout=out)
                        prod.stdout.close()
                        _, _, ru = os.wait4(cons.pid, 0)
                        dt = time.monotonic() - t0
                        cons.returncode = 0
                        prod.wait()
                        return {f"MB/s ({tag})": ("MB/s", size / 1e6 / dt),
                                f"daemon CPU s/GB ({tag})": ("s/GB", (ru.ru_utime + ru.ru_stime) / (size / 1e9))}
                d = Daemon(impl, "")
                logf = os.path.join(d.dir, "out.log")
                d.add_conf(f"[program:log]\ncommand=/bin/cat {src}\nautostart=false\nstartsecs=0\n"
                           f"autorestart=false\nstdout_logfile={logf}\nstdout_logfile_maxbytes={maxb}\n"
                           f"stdout_logfile_backups=10\nstderr_logfile=NONE\n")
                with d.start():
                    s = d.wait_up()
                    c0 = d.cpu()
                    t0 = time.monotonic()
                    s.supervisor.startProcess("log", False)

                    def total():
                        n = 0
                        for p in glob.glob(logf + "*"):
                            try:
                                n += os.path.getsize(p)
                            except FileNotFoundError:
                                return 0  # renamed by a rotation between glob and stat
                        return n
                    end = t0 + 300
                    while total() < size and time.monotonic() < end:
                        time.sleep(0.005)
                    dt = time.monotonic() - t0
                    cpu = d.cpu() - c0
                    d.wait_all(s, state="EXITED", timeout=30)
                    files = sorted(glob.glob(logf + ".*"), key=lambda p: -int(p.rsplit(".", 1)[1])) + [logf]
                    h = hashlib.sha256()
                    for p in files:
                        with open(p, "rb") as f:
                            while True:
                                c = f.read(1 << 22)
                                if not c:
                                    break
                                h.update(c)
                    ok = h.hexdigest() == want
                    return {f"MB/s ({tag})": ("MB/s", size / 1e6 / dt),
                            f"daemon CPU s/GB ({tag})": ("s/GB", cpu / (size / 1e9)),
                            f"bytes equal ({tag})": ("1=yes", 1 if ok else 0)}
            run_rounds("log_throughput", a.rounds, one, impls=("ours", "python", "ours2", "raw"))
    finally:
        os.unlink(src)


LINE_WRITER = r'''
import os, sys, time
n, gap = int(sys.argv[1]), float(sys.argv[2])
for i in range(n):
    os.write(1, b"%08d %s\n" % (i, b"x" * 90))
    time.sleep(gap)
'''


def log_lines(a):
    """A chatty program: 50000 lines of 100 bytes, one write(2) each, about 60 us apart (a
    sleep of 50 us), into its stdout_logfile. Daemon CPU and wake-ups per 1000 lines."""
    n = 50000
    want = b"".join(b"%08d %s\n" % (i, b"x" * 90) for i in range(n))

    def one(impl):
        d = Daemon(impl, "")
        writer = d.add_file("lines.py", LINE_WRITER)
        logf = os.path.join(d.dir, "lines.log")
        d.add_conf(f"[program:lines]\ncommand={sys.executable} {writer} {n} 0.00005\n"
                   f"autostart=false\nstartsecs=0\nautorestart=false\nstdout_logfile={logf}\n"
                   f"stdout_logfile_maxbytes=0\nstderr_logfile=NONE\n")
        with d.start():
            s = d.wait_up()
            c0, v0 = d.cpu(), d.vcsw()
            t0 = time.monotonic()
            s.supervisor.startProcess("lines", False)
            end = t0 + 120
            while time.monotonic() < end and (not os.path.exists(logf) or os.path.getsize(logf) < len(want)):
                time.sleep(0.01)
            secs = time.monotonic() - t0
            cpu, wakes = d.cpu() - c0, d.vcsw() - v0
            with open(logf, "rb") as f:
                ok = f.read() == want
        return {"lines/s": ("lines/s", n / secs),
                "daemon CPU / 1000 lines": ("ms", cpu * 1000 / (n / 1000)),
                "daemon wake-ups / 1000 lines": ("wakes", wakes / (n / 1000)),
                "bytes equal": ("1=yes", 1 if ok else 0)}
    run_rounds("log_lines", a.rounds, one)


EMITTER = r'''
import os, sys, time
n, gap = int(sys.argv[1]), float(sys.argv[2])
time.sleep(1.0)
for i in range(n):
    os.write(1, b"%d %d\n" % (i, time.monotonic_ns()))
    if gap:
        time.sleep(gap)
time.sleep(1000000)
'''

LOG_LISTENER = r'''
import sys, time
from supervisor import childutils
out = open(sys.argv[1], "a")
while True:
    h, payload = childutils.listener.wait(sys.stdin, sys.stdout)
    now = time.monotonic_ns()
    data = payload.split("\n", 1)[1]
    for line in data.splitlines():
        if line:
            i, sent = line.split()
            out.write("%s %d\n" % (i, now - int(sent)))
    out.write("E\n")
    out.flush()
    childutils.listener.ok(sys.stdout)
'''


def event_run(impl, n, gap):
    d = Daemon(impl, "")
    for fn, txt in (("emit.py", EMITTER), ("listener.py", LOG_LISTENER)):
        d.add_file(fn, txt)
    res = os.path.join(d.dir, "delays")
    d.add_conf(f"""[eventlistener:lat]
command={sys.executable} {d.dir}/listener.py {res}
events=PROCESS_LOG_STDOUT
buffer_size={n + 10}
startsecs=0
stdout_logfile=NONE
stderr_logfile={d.dir}/listener.err
[program:emit]
command={sys.executable} {d.dir}/emit.py {n} {gap}
autostart=false
startsecs=0
stdout_logfile={d.dir}/emit.log
stdout_events_enabled=true
stderr_logfile=NONE
""")
    with d.start():
        s = d.wait_up()
        wait_listener(s, impl)
        time.sleep(0.3)
        s.supervisor.startProcess("emit", False)
        time.sleep(0.9)  # the emitter starts writing 1 s after its start
        c0 = d.cpu()
        t0 = time.monotonic()
        got = wait_delays(res, n, 0.01 if gap == 0 else 0.05)
        dt = time.monotonic() - t0
        cpu = d.cpu() - c0
    return delay_figures(got, n, cpu, dt)


def wait_delays(res, n, poll):
    """The listener's records once n lines arrived (or after 120 s): 'I DELAY_NS' per line,
    'E' per event."""
    end = time.monotonic() + 120
    got = []
    while time.monotonic() < end:
        if os.path.exists(res):
            got = [ln for ln in open(res).read().split("\n") if ln]
            if sum(1 for ln in got if ln != "E") >= n:
                break
        time.sleep(poll)
    return got


def delay_figures(got, n, cpu, secs):
    lines = [ln.split() for ln in got if ln != "E"]
    delays = [int(x[1]) / 1e6 for x in lines]
    return {"lines": len(lines), "lost": n - len({x[0] for x in lines}),
            "events": sum(1 for ln in got if ln == "E"), "secs": secs, "cpu": cpu,
            "p50": pct(delays, 0.5) if delays else float("nan"),
            "p99": pct(delays, 0.99) if delays else float("nan")}


def relay_run(n, gap, log_to=None):
    """event_run's unloaded case through tools/bench/relay.rs instead of a daemon: the same
    emitter and listener, the least work per line (see relay.rs). Its CPU per event is the
    machine's floor for what the daemons do per event. log_to="/dev/null" leaves out the log
    file write, to show what that write costs."""
    d = tempfile.mkdtemp(prefix="bench-raw-")
    for fn, txt in (("emit.py", EMITTER), ("listener.py", LOG_LISTENER)):
        with open(os.path.join(d, fn), "w") as f:
            f.write(txt)
    res = os.path.join(d, "delays")
    proc = subprocess.Popen([RELAY, log_to or os.path.join(d, "emit.log"), sys.executable, f"{d}/emit.py", str(n), str(gap),
                             "--", sys.executable, f"{d}/listener.py", res], start_new_session=True)

    def cpu():
        return int(open(f"/proc/{proc.pid}/schedstat").read().split()[0]) / 1e9
    try:
        time.sleep(0.9)  # the emitter starts writing 1 s after its start
        c0 = cpu()
        t0 = time.monotonic()
        got = wait_delays(res, n, 0.05)
        dt = time.monotonic() - t0
        c = cpu() - c0
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait()
        shutil.rmtree(d, ignore_errors=True)
    return delay_figures(got, n, c, dt)


def event_throughput(a):
    n = a.event_lines
    impls = ("ours", "python", "ours2") + (("raw", "raw-nolog") if os.path.exists(RELAY) else ())

    def unloaded(u):
        # CPU per line delivered, not per event: how many lines share one PROCESS_LOG event
        # depends on each daemon's reads, so a figure per event would reward small reads.
        # (Here the lines are 5 ms apart, and both daemons send one line per event.)
        return {"unloaded 100 lines 5 ms apart: delay p50": ("ms", u["p50"]),
                "unloaded 100 lines 5 ms apart: delay p99": ("ms", u["p99"]),
                "unloaded: lines lost": ("lines", u["lost"]),
                "unloaded: events delivered": ("events", u["events"]),
                "unloaded: daemon CPU / 1000 lines": ("ms", u["cpu"] * 1000 / (max(1, u["lines"]) / 1000))}

    def one(impl):
        if impl == "raw":
            return unloaded(relay_run(100, 0.005))
        if impl == "raw-nolog":
            return unloaded(relay_run(100, 0.005, "/dev/null"))
        r = event_run(impl, n, 0)
        u = event_run(impl, 100, 0.005)
        return {f"burst {n} lines: lines/s": ("lines/s", r["lines"] / r["secs"]),
                f"burst: lines lost": ("lines", r["lost"]),
                f"burst: events delivered": ("events", r["events"]),
                f"burst: delay p50": ("ms", r["p50"]),
                f"burst: delay p99": ("ms", r["p99"]),
                f"burst: daemon CPU / 1000 lines": ("ms", r["cpu"] * 1000 / (max(1, r["lines"]) / 1000)),
                **unloaded(u)}
    run_rounds("event_throughput", a.rounds, one, impls=impls)


REMOTE_LISTENER = r'''
import sys, time
from supervisor import childutils
out = open(sys.argv[1], "a")
while True:
    h, payload = childutils.listener.wait(sys.stdin, sys.stdout)
    now = time.monotonic_ns()
    sent = int(payload.split("\n", 1)[1])
    out.write("%d\n" % (now - sent)); out.flush()
    childutils.listener.ok(sys.stdout)
'''


def event_latency(a):
    """REMOTE_COMMUNICATION carrying its send time (was tools/bench/event_latency.py)."""
    n, gap = 100, 0.005

    def one(impl):
        d = Daemon(impl, "")
        listener = d.add_file("listener.py", REMOTE_LISTENER)
        path = os.path.join(d.dir, "delays")
        d.add_conf(f"[eventlistener:lat]\ncommand={sys.executable} {listener} {path}\n"
                   f"events=REMOTE_COMMUNICATION\nbuffer_size=1000\nstartsecs=0\n")
        with d.start():
            s = d.wait_up()
            wait_listener(s, impl)
            time.sleep(0.5)
            for _ in range(n):
                s.supervisor.sendRemoteCommEvent("t", str(time.monotonic_ns()))
                time.sleep(gap)
            end = time.monotonic() + 30
            while time.monotonic() < end:
                if os.path.exists(path) and len(open(path).read().split()) >= n:
                    break
                time.sleep(0.05)
            delays = [int(x) / 1e6 for x in open(path).read().split()]
        return {"REMOTE_COMMUNICATION delay p50": ("ms", pct(delays, 0.5)),
                "REMOTE_COMMUNICATION delay p99": ("ms", pct(delays, 0.99)),
                "REMOTE_COMMUNICATION lost": ("events", n - len(delays))}
    run_rounds("event_latency", a.rounds, one)


def daemon_churn(impl, secs):
    """10 programs that exit at once, restarted for `secs`: (restarts, daemon CPU seconds)."""
    prog = programs(10, command="/bin/true", name="c",
                    extra="autostart=true\nstartsecs=0\nautorestart=true\nstartretries=1000000\n"
                          "stdout_logfile=NONE\nstderr_logfile=NONE\n")
    with Daemon(impl, prog).start() as d:
        d.wait_up()
        time.sleep(1)

        def exits():
            with open(d.logfile, "rb") as f:
                return f.read().count(b"exited: c")
        e0, c0 = exits(), d.cpu()
        time.sleep(secs)
        return exits() - e0, d.cpu() - c0


def spawn_churn(a):
    secs = a.churn_secs

    def one(impl):
        k, cpu = daemon_churn(impl, secs)
        return {"restarts/s (10 programs exiting at once)": ("1/s", k / secs),
                "daemon CPU per restart": ("ms", cpu * 1000 / max(1, k))}
    run_rounds("spawn_churn", a.rounds, one)


SCENARIOS = ["footprint", "idle_rss", "idle_wakeups", "ctl_status", "rpc_latency", "start_all",
             "log_throughput", "log_lines", "event_throughput", "event_latency", "spawn_churn",
             "scale", "s6_runit", "depends_chain"]

# The scenarios in their own files import their helpers from this module: under the name
# `bench`, not as a second copy of `__main__`.
sys.modules.setdefault("bench", sys.modules[__name__])
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import scale as _scale  # noqa: E402
import svtree as _svtree  # noqa: E402

scale = _scale.scale
s6_runit = _svtree.s6_runit


def machine():
    model = "?"
    for line in open("/proc/cpuinfo"):
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    return {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "nproc": os.cpu_count(),
            "cpu": model, "kernel": platform.release(), "python": platform.python_version()}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--only", default="")
    ap.add_argument("--skip", default="")
    ap.add_argument("--idle-secs", type=int, default=20)
    ap.add_argument("--churn-secs", type=int, default=5)
    ap.add_argument("--log-mb", type=int, default=200)
    ap.add_argument("--event-lines", type=int, default=20000)
    ap.add_argument("--chain", type=int, default=100)
    ap.add_argument("--json", default="")
    _scale.args(ap)
    _svtree.args(ap)
    a = ap.parse_args()
    names = [x for x in (a.only.split(",") if a.only else SCENARIOS) if x and x not in a.skip.split(",")]
    m = machine()
    print(f"# bench {m['date']}  nproc={m['nproc']}  cpu={m['cpu']}  kernel={m['kernel']}  rounds={a.rounds}")
    print("# figure: medians of rounds; ratio = ours/python; noise = ours/ours2 (same binary twice)")
    t0 = time.monotonic()
    failed = []
    for name in names:
        ts = time.monotonic()
        try:
            globals()[name](a)
        except Exception as e:  # one broken scenario must not hide the others
            failed.append(name)
            print(f"{name:16} FAILED: {e!r}", flush=True)
        log(f"[{name}] {time.monotonic() - ts:.1f} s")
    print(f"# total {time.monotonic() - t0:.0f} s")
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"machine": m, "results": RESULTS}, f, indent=1)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
