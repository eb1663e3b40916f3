"""The `s6_runit` scenario of bench.py: our daemon and Python's beside the two service
supervisors that embedded and container users compare us with, from Debian's packages:
s6 (s6-svscan + one s6-supervise per service) and runit (runsvdir + one runsv per service).

Same 10/100/500 `sleep` services: total memory of the supervision tree (the services
themselves excluded), as the sum of RSS and the sum of PSS (a page shared by n processes
counts 1/n in each: the fair total for s6's and runit's one process per service), idle
wake-ups of the tree, and spawn churn: 10 services that exit at once, restarts per second
and the tree's CPU per restart. s6 and runit wait about a second before restarting a
service that exited at once (their design), so their rate is bounded by that, not by CPU."""

import glob
import os
import shutil
import signal
import subprocess
import tempfile
import time

from bench import Daemon, cpu_s, daemon_churn, programs, run_rounds, vcsw
from scale import count_running

IMPLS = ("ours", "python", "s6", "runit", "ours2")


def args(ap):
    ap.add_argument("--svtree-n", default="10,100,500")
    ap.add_argument("--svtree-idle-secs", type=int, default=10)


def proc_field(path, field):
    """A numeric field of a /proc `Field: value [kB]` file; 0 if the process is gone."""
    try:
        with open(path) as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError):
        pass
    return 0


def proc_stat(pid, field):
    """A numeric field of /proc/PID/status (kB or a count); 0 if the process is gone."""
    return proc_field(f"/proc/{pid}/status", field)


def smaps(pid, field):
    return proc_field(f"/proc/{pid}/smaps_rollup", field)


def children(pid):
    """Direct children of pid (from every thread's children list)."""
    out = []
    for f in glob.glob(f"/proc/{pid}/task/*/children"):
        try:
            out += [int(x) for x in open(f).read().split()]
        except (FileNotFoundError, ProcessLookupError):
            pass
    return out


class Tree:
    """s6-svscan or runsvdir over a scan directory of n services, in its own session."""

    def __init__(self, kind, n, run):
        self.kind = kind
        self.n = n
        self.dir = tempfile.mkdtemp(prefix=f"bench-{kind}-")
        self.scan = os.path.join(self.dir, "scan")
        self.count = os.path.join(self.dir, "count")
        open(self.count, "w").close()
        for i in range(n):
            sv = os.path.join(self.scan, f"s{i}")
            os.makedirs(sv)
            with open(os.path.join(sv, "run"), "w") as f:
                f.write(run.format(count=self.count))
            os.chmod(os.path.join(sv, "run"), 0o755)
        cmd = ["s6-svscan", "-c", str(max(1000, 2 * n)), self.scan] if kind == "s6" else \
            ["runsvdir", self.scan]
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL, start_new_session=True)
        self.pid = self.proc.pid

    def supervisors(self):
        """The scanner and its per-service supervisors (not the services)."""
        return [self.pid] + children(self.pid)

    def services(self):
        return [c for sup in children(self.pid) for c in children(sup)]

    def wait_services(self, timeout=60):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if len(children(self.pid)) == self.n and len(self.services()) == self.n:
                return
            time.sleep(0.05)
        raise RuntimeError(f"{self.kind}: {len(self.services())} of {self.n} services up")

    def stop(self):
        # By pid: the scanner, its supervisors and their services (each supervisor may
        # have put its service in a session of its own).
        pids = self.supervisors()
        pids += [c for p in pids[1:] for c in children(p)]
        for p in pids:
            try:
                os.kill(p, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *a):
        self.stop()


SLEEP_RUN = "#!/bin/sh\nexec /bin/sleep 1000000\n"
# One line per start, then the program that exits at once. The shell runs in the service
# process, so its CPU is not the supervisor's.
CHURN_RUN = "#!/bin/sh\necho x >> {count}\nexec /bin/true\n"


def tree_figures(pids, n, idle_secs):
    out = {f"tree RSS sum, {n} services": ("kB", sum(proc_stat(p, "VmRSS") for p in pids)),
           f"tree PSS sum, {n} services": ("kB", sum(smaps(p, "Pss") for p in pids)),
           f"tree processes, {n} services": ("count", len(pids))}
    time.sleep(1)
    v0 = sum(vcsw(p) for p in pids)
    c0 = sum(cpu_s(p) for p in pids)
    time.sleep(idle_secs)
    out[f"tree idle wake-ups / {idle_secs} s, {n} services"] = ("count", sum(vcsw(p) for p in pids) - v0)
    out[f"tree idle CPU over {idle_secs} s, {n} services"] = ("ms", (sum(cpu_s(p) for p in pids) - c0) * 1000)
    return out


def footprint(a, n):
    def one(impl):
        if impl in ("s6", "runit"):
            with Tree(impl, n, SLEEP_RUN) as t:
                t.wait_services()
                return tree_figures(t.supervisors(), n, a.svtree_idle_secs)
        with Daemon(impl, programs(n)).start() as d:
            end = time.monotonic() + 120
            while count_running(d.logfile) < n:
                if time.monotonic() > end:
                    raise RuntimeError(f"{impl}: not all {n} RUNNING")
                time.sleep(0.02)
            return tree_figures([d.pid], n, a.svtree_idle_secs)
    run_rounds("s6_runit", a.rounds, one, impls=IMPLS)


def churn(a):
    secs = a.churn_secs

    def one(impl):
        if impl in ("s6", "runit"):
            with Tree(impl, 10, CHURN_RUN) as t:
                time.sleep(2)
                pids = t.supervisors()

                def starts():
                    with open(t.count, "rb") as f:
                        return f.read().count(b"\n")
                e0, c0 = starts(), sum(cpu_s(p) for p in pids)
                time.sleep(secs)
                k = starts() - e0
                cpu = sum(cpu_s(p) for p in pids) - c0
        else:
            k, cpu = daemon_churn(impl, secs)
        return {"churn: restarts/s (10 services exiting at once)": ("1/s", k / secs),
                "churn: supervisor CPU per restart": ("ms", cpu * 1000 / max(1, k))}
    run_rounds("s6_runit", a.rounds, one, impls=IMPLS)


def s6_runit(a):
    for tool in ("s6-svscan", "runsvdir"):
        if shutil.which(tool) is None:
            raise RuntimeError(f"{tool} not found: apt-get install s6 runit")
    for n in [int(x) for x in a.svtree_n.split(",") if x.strip()]:
        footprint(a, n)
    churn(a)
