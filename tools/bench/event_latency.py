"""Emit-to-delivery delay of events, our supervisord vs Python supervisor 4.3.0, same run.

A REMOTE_COMMUNICATION event carries the CLOCK_MONOTONIC time it was sent at; a childutils
listener notes when it received it. Rounds are interleaved (A B B A ...) and medians reported.
Usage: python tools/bench/event_latency.py [--events 100] [--gap-ms 5] [--rounds 4]
(run with the venv's python: .venv/bin/python; needs target/release/supervisord)."""

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import xmlrpc.client

from supervisor.xmlrpc import SupervisorTransport

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
LISTENER = r'''
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


def run_once(daemon, n, gap):
    d = tempfile.mkdtemp(prefix="evlat-")
    try:
        with open(os.path.join(d, "listener.py"), "w") as f:
            f.write(LISTENER)
        conf = os.path.join(d, "supervisord.conf")
        with open(conf, "w") as f:
            f.write(f"""[supervisord]
logfile={d}/supervisord.log
pidfile={d}/supervisord.pid
childlogdir={d}
nodaemon=true
[unix_http_server]
file={d}/sock
[rpcinterface:supervisor]
supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface
[eventlistener:lat]
command={sys.executable} {d}/listener.py {d}/delays
events=REMOTE_COMMUNICATION
buffer_size=1000
startsecs=0
""")
        p = subprocess.Popen([daemon, "-c", conf], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            def proxy():
                t = SupervisorTransport(None, None, "unix://" + d + "/sock")
                return xmlrpc.client.ServerProxy("http://127.0.0.1", transport=t).supervisor

            end = time.time() + 20
            last = None
            while True:
                try:
                    # A fresh connection each try: a failed request spoils a kept-alive one.
                    s = proxy()
                    if s.getProcessInfo("lat")["statename"] == "RUNNING":
                        break
                except Exception as e:
                    last = e
                if time.time() > end:
                    raise RuntimeError(f"listener never ran under {daemon}: {last!r}")
                time.sleep(0.05)
            time.sleep(0.5)
            for _ in range(n):
                s.sendRemoteCommEvent("t", str(time.monotonic_ns()))
                time.sleep(gap)
            path = os.path.join(d, "delays")
            end = time.time() + 30
            while time.time() < end:
                if os.path.exists(path) and len(open(path).read().split()) >= n:
                    break
                time.sleep(0.05)
            delays = [int(x) / 1e6 for x in open(path).read().split()]
            if len(delays) < n:
                raise RuntimeError(f"{daemon}: {len(delays)} of {n} events delivered")
            return delays
        finally:
            p.terminate()
            p.wait(30)
    finally:
        shutil.rmtree(d, ignore_errors=True)


def pct(xs, q):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(q * len(xs)))]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--events", type=int, default=100)
    ap.add_argument("--gap-ms", type=float, default=5)
    ap.add_argument("--rounds", type=int, default=4)
    a = ap.parse_args()
    impls = {
        "ours": os.path.join(ROOT, "target/release/supervisord"),
        "python": os.path.join(ROOT, ".venv/bin/supervisord"),
    }
    order = []
    for r in range(a.rounds):
        order += ["ours", "python"] if r % 2 == 0 else ["python", "ours"]
    results = {k: {"p50": [], "p99": []} for k in impls}
    for name in order:
        delays = run_once(impls[name], a.events, a.gap_ms / 1000)
        results[name]["p50"].append(pct(delays, 0.5))
        results[name]["p99"].append(pct(delays, 0.99))
    print(f"event emit-to-delivery delay, {a.events} events {a.gap_ms} ms apart, {a.rounds} rounds (medians of rounds)")
    print(f"{'':8}{'p50 ms':>10}{'p99 ms':>10}")
    med = {k: {m: statistics.median(v) for m, v in r.items()} for k, r in results.items()}
    for k in impls:
        print(f"{k:8}{med[k]['p50']:>10.3f}{med[k]['p99']:>10.3f}")
    print(f"{'ratio':8}{med['ours']['p50'] / med['python']['p50']:>10.4f}{med['ours']['p99'] / med['python']['p99']:>10.4f}")


if __name__ == "__main__":
    main()
