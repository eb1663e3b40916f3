"""Drives our supervisord with Python's xmlrpc.client and supervisor 4.3.0's own transport,
as real clients do. Usage: rpc_methods.py <sockpath> <port> <daemon pid> <config path>.
Every check is an assert; the script prints "N passed, 0 failed" or exits non-zero at the first
failure with the reason."""

import http.client
import socket
import sys
import time
import xmlrpc.client

from supervisor.xmlrpc import SupervisorTransport

SOCK, PORT, PID, CONF = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
PASSED = 0


def proxy(allow_none=False):
    t = SupervisorTransport(None, None, "unix://" + SOCK)
    return xmlrpc.client.ServerProxy("http://127.0.0.1", transport=t, allow_none=allow_none)


S = proxy().supervisor
SYSTEM = proxy().system


def check(name, cond, detail=""):
    global PASSED
    if not cond:
        print(f"FAILED: {name} {detail}")
        sys.exit(1)
    PASSED += 1


def fault(name, fn, code, text=None):
    try:
        r = fn()
    except xmlrpc.client.Fault as f:
        check(name, f.faultCode == code, f"code {f.faultCode} != {code} ({f.faultString})")
        if text is not None:
            check(name + " text", f.faultString == text, repr(f.faultString))
        return
    check(name, False, f"no fault, got {r!r}")


def until(name, cond, secs=10):
    end = time.time() + secs
    while time.time() < end:
        if cond():
            return
        time.sleep(0.05)
    check(name, False, "timed out")


def state(n):
    return S.getProcessInfo(n)["statename"]


# --- identification and state
check("api", S.getAPIVersion() == "3.0")
check("version", S.getVersion() == "3.0")
check("supervisor version", S.getSupervisorVersion() == "4.3.0")
check("identification", S.getIdentification() == "supervisor")
check("state", S.getState() == {"statecode": 1, "statename": "RUNNING"})
check("pid", S.getPID() == PID)

# --- introspection
methods = SYSTEM.listMethods()
# Our extensions (supervisord(8), CONTROL INTERFACE): listed too, 4.3's 41 unchanged.
EXTENSIONS = {
    "supervisor.reloadConfigPlan",
    "supervisor.restartAllProcesses",
    "supervisor.restartProcess",
    "supervisor.restartProcessGroup",
    "supervisor.rotateAllProcessLogs",
    "supervisor.rotateLog",
    "supervisor.rotateProcessLogs",
    "supervisor.updateProcessGroup",
    "supervisor.getAllProcessHealth",
    "supervisor.getStartPlan",
}
check("listMethods", len(methods) == 41 + len(EXTENSIONS) and methods == sorted(methods), methods)
check("extensions listed", EXTENSIONS <= set(methods), methods)
methods = [m for m in methods if m not in EXTENSIONS]
check("signature", SYSTEM.methodSignature("supervisor.startProcess") == ["boolean", "string", "boolean"])
# methodHelp returns 4.3's docstrings as written, for every method.
from supervisor.rpcinterface import SupervisorNamespaceRPCInterface
from supervisor.xmlrpc import SystemNamespaceRPCInterface

PY_SYSTEM = SystemNamespaceRPCInterface([("supervisor", SupervisorNamespaceRPCInterface(None))])
check("listMethods like 4.3", methods == PY_SYSTEM.listMethods(), methods)
for m in methods:
    ours, theirs = SYSTEM.methodHelp(m), PY_SYSTEM.methodHelp(m)
    check("help " + m, ours == theirs, f"{ours!r} != {theirs!r}")
fault("signature unknown", lambda: SYSTEM.methodSignature("nope.nope"), 4, "SIGNATURE_UNSUPPORTED")
fault("unknown method", lambda: S.nope(), 1, "UNKNOWN_METHOD")
fault("private method", lambda: getattr(S, "_private")(), 1)
fault("incorrect params", lambda: S.getProcessInfo(), 2, "INCORRECT_PARAMETERS")
fault("wrong type", lambda: S.getProcessInfo(5), 2)

# --- process info
until("sleeper running", lambda: state("sleeper") == "RUNNING")
until("cat running", lambda: state("cat") == "RUNNING")
info = S.getProcessInfo("sleeper")
keys = ["name", "group", "start", "stop", "now", "state", "statename", "spawnerr", "exitstatus",
        "logfile", "stdout_logfile", "stderr_logfile", "pid", "description"]
check("info keys", list(info.keys()) == keys, list(info.keys()))
check("info values", info["name"] == "sleeper" and info["group"] == "sleeper" and info["state"] == 20)
check("description", info["description"].startswith(f"pid {info['pid']}, uptime 0:00:"), info["description"])
check("stdout_logfile auto", "sleeper-stdout---supervisor-" in info["stdout_logfile"], info["stdout_logfile"])
fault("bad name", lambda: S.getProcessInfo("nope"), 10, "BAD_NAME: nope")
fault("group is not a process", lambda: S.getProcessInfo("grp"), 10)
check("unicode name", S.getProcessInfo("test_öäü")["name"] == "test_öäü")
check("member by namespec", S.getProcessInfo("grp:g1")["group"] == "grp")
all_info = S.getAllProcessInfo()
order = [(i["group"], i["name"]) for i in all_info]
check("all sorted", order == sorted(order), order)

# --- start / stop
fault("already started", lambda: S.startProcess("sleeper"), 60, "ALREADY_STARTED: sleeper")
check("stop", S.stopProcess("sleeper") is True)
check("stopped", state("sleeper") == "STOPPED")
check("stopped description", S.getProcessInfo("sleeper")["description"] != "Not started")
fault("not running", lambda: S.stopProcess("sleeper"), 70, "NOT_RUNNING: sleeper")
check("start", S.startProcess("sleeper") is True)
check("running after start", state("sleeper") == "RUNNING")
check("start nowait", S.stopProcess("sleeper", False) is True)
until("stopped nowait", lambda: state("sleeper") == "STOPPED")
check("start nowait", S.startProcess("sleeper", False) is True)
until("running nowait", lambda: state("sleeper") == "RUNNING")
# `wait` is only tested for truth, as by 4.3: odd values are not a fault.
check("stop wait=None", proxy(allow_none=True).supervisor.stopProcess("sleeper", None) is True)
until("stopped wait=None", lambda: state("sleeper") == "STOPPED")
check("start wait='x'", S.startProcess("sleeper", "x") is True and state("sleeper") == "RUNNING")
fault("no file", lambda: S.startProcess("fail"), 20, "NO_FILE: can't find command '/nonexistent/prog'")
fault("spawn error", lambda: S.startProcess("quick"), 50, "SPAWN_ERROR: quick")
# In group results too, a process whose group has its own name is named without the group.
group_err = [(r["name"], r["group"], r["status"], r["description"]) for r in S.startProcessGroup("quick")]
check("group spawn error", group_err == [("quick", "quick", 50, "SPAWN_ERROR: quick")], group_err)
check("never started", S.getProcessInfo("fail")["description"] == "Not started")
fault("not executable", lambda: S.startProcess("noexec"), 21,
      "NOT_EXECUTABLE: command at '/etc/passwd' is not executable")


# A start that is waiting for RUNNING, cut short by a stop from another client.
def start_slow():
    try:
        proxy().supervisor.startProcess("slow")
        return "no fault"
    except xmlrpc.client.Fault as f:
        return f.faultString


import threading
box = []
t = threading.Thread(target=lambda: box.append(start_slow()))
t.start()
until("slow starting", lambda: state("slow") == "STARTING")
S.stopProcess("slow")
t.join(10)
check("abnormal termination", box == ["ABNORMAL_TERMINATION: slow"], box)

# --- signals
check("signal", S.signalProcess("cat", "CONT") is True)
check("signal number", S.signalProcess("cat", "18") is True)
fault("bad signal", lambda: S.signalProcess("cat", "BOGUS"), 11, "BAD_SIGNAL: BOGUS")
fault("signal stopped", lambda: S.signalProcess("fail", "HUP"), 70)
sig = S.signalProcessGroup("grp", "CONT")
check("signal group", [r["status"] for r in sig] == [80, 80], sig)
sig_all = S.signalAllProcesses("CONT")
check("signal all", all(r["status"] == 80 for r in sig_all) and len(sig_all) >= 4, sig_all)

# --- stdin and logs
check("stdin", S.sendProcessStdin("cat", "hello ö\n") is True)
until("echoed", lambda: "hello ö" in S.readProcessStdoutLog("cat", 0, 0))
tail = S.tailProcessStdoutLog("cat", 0, 100)
check("tail", tail == ["hello ö\n", len("hello ö\n".encode()), False], tail)
check("tail alias", S.tailProcessLog("cat", 0, 100) == tail)
check("read stderr", S.readProcessStderrLog("cat", 0, 0) == "")
fault("read bad args", lambda: S.readProcessStdoutLog("cat", -1, 5), 3, "BAD_ARGUMENTS")
fault("stdin not running", lambda: S.sendProcessStdin("fail", "x"), 70, "NOT_RUNNING: fail")
fault("stdin not string", lambda: S.sendProcessStdin("cat", 5), 2, "INCORRECT_PARAMETERS: 5")
fault("stdin list", lambda: S.sendProcessStdin("cat", ["a", 1]), 2, "INCORRECT_PARAMETERS: ['a', 1]")
check("clear process log", S.clearProcessLogs("cat") is True)
check("cleared", S.readProcessStdoutLog("cat", 0, 0) == "")
fault("no log file", lambda: S.readProcessStdoutLog("nolog", 0, 0), 20, "NO_FILE")
check("tail no log", S.tailProcessStdoutLog("nolog", 0, 100) == ["", 0, False])
check("main log", "supervisord started with pid" in S.readLog(0, 0))
check("main log alias", S.readMainLog(-30, 0) == S.readLog(-30, 0))
fault("main log bad args", lambda: S.readLog(-1, 5), 3)
check("clear main log", S.clearLog() is True)
main = S.readLog(0, 0)
check("clearLog's own line went to the removed file", "reopening log file" not in main, main)
cleared = S.clearAllProcessLogs()
check("clear all", all(r["status"] == 80 for r in cleared), cleared)

# --- groups
stopped = S.stopProcessGroup("grp")
check("stop group", sorted((r["name"], r["status"], r["description"]) for r in stopped)
      == [("g1", 80, "OK"), ("g2", 80, "OK")], stopped)
check("stop group keys", list(stopped[0].keys()) == ["name", "group", "status", "description"])
check("start group", len(S.startProcessGroup("grp")) == 2)
check("start group again", S.startProcessGroup("grp") == [])
check("stop by wildcard", len(S.stopProcess("grp:*")) == 2)
check("start by wildcard", len(S.startProcess("grp:")) == 2)
fault("bad group", lambda: S.startProcessGroup("nogroup"), 10, "BAD_NAME: nogroup")
stop_all = S.stopAllProcesses()
check("stop all", all(r["status"] == 80 for r in stop_all) and len(stop_all) >= 5, stop_all)
start_all = S.startAllProcesses()
by_name = {r["name"]: r for r in start_all}
check("start all fail", by_name["fail"]["status"] == 20, by_name["fail"])
check("start all ok", by_name["sleeper"]["status"] == 80 and by_name["cat"]["status"] == 80)

# --- config info and reread/add/remove
cfg = S.getAllConfigInfo()
names = [c["name"] for c in cfg]
check("config info sorted", names == sorted(names), names)
c = [c for c in cfg if c["name"] == "sleeper"][0]
for key in ["autostart", "directory", "uid", "command", "exitcodes", "group", "group_prio", "inuse",
            "killasgroup", "name", "process_prio", "redirect_stderr", "startretries", "startsecs",
            "stdout_logfile", "stderr_logfile", "stopsignal", "stopwaitsecs", "serverurl"]:
    check("config key " + key, key in c)
check("config values", c["command"] == "sleep 1000" and c["exitcodes"] == [0] and c["inuse"] is True, c)
check("reread nothing", S.reloadConfig() == [[[], [], []]])
with open(CONF) as f:
    good_conf = f.read()
with open(CONF, "w") as f:
    f.write(good_conf + "\n[program:broken]\ncommand=x\nautostart=maybe\n")
fault("cant reread", lambda: S.reloadConfig(), 92)
with open(CONF, "w") as f:
    f.write(good_conf)
with open(CONF, "a") as f:
    f.write("\n[program:newprog]\ncommand=sleep 999\nstartsecs=0\n")
check("reread added", S.reloadConfig() == [[["newprog"], [], []]])
check("add group", S.addProcessGroup("newprog") is True)
fault("already added", lambda: S.addProcessGroup("newprog"), 90, "ALREADY_ADDED: newprog")
fault("add unknown", lambda: S.addProcessGroup("ghost"), 10, "BAD_NAME: ghost")
with open(CONF, "w") as f:
    f.write(good_conf)
check("reread removed", S.reloadConfig() == [[[], [], ["newprog"]]])
# The configuration read last decides first, as in 4.3: removed there, so BAD_NAME while active.
fault("add removed", lambda: S.addProcessGroup("newprog"), 10, "BAD_NAME: newprog")
until("newprog running", lambda: state("newprog") == "RUNNING")
fault("still running", lambda: S.removeProcessGroup("newprog"), 91, "STILL_RUNNING: newprog")
S.stopProcess("newprog")
check("remove group", S.removeProcessGroup("newprog") is True)
fault("removed", lambda: S.getProcessInfo("newprog"), 10)
fault("remove unknown", lambda: S.removeProcessGroup("ghost"), 10)

# --- multicall
res = SYSTEM.multicall([
    {"methodName": "supervisor.getState"},
    {"methodName": "supervisor.nope"},
    {"methodName": "supervisor.getProcessInfo", "params": ["cat"]},
    {"methodName": "system.multicall", "params": [[]]},
    {"params": []},
])
check("multicall state", res[0] == {"statecode": 1, "statename": "RUNNING"}, res)
check("multicall fault", res[1] == {"faultCode": 1, "faultString": "UNKNOWN_METHOD"}, res)
check("multicall bare value", res[2]["name"] == "cat", res)
check("multicall recursion", res[3]["faultCode"] == 2 and "Recursive" in res[3]["faultString"], res)
check("multicall no name", res[4] == {"faultCode": 2, "faultString": "INCORRECT_PARAMETERS: No methodName"})
# A deferred call holds back the next one; results are bare values as in 4.3 (R6).
res = SYSTEM.multicall([
    {"methodName": "supervisor.stopProcess", "params": ["cat"]},
    {"methodName": "supervisor.startProcess", "params": ["cat"]},
    {"methodName": "supervisor.getProcessInfo", "params": ["cat"]},
])
check("multicall deferred", res[:2] == [True, True] and res[2]["statename"] == "RUNNING", res)

# --- TCP with auth
good = xmlrpc.client.ServerProxy(f"http://user:thepassword@127.0.0.1:{PORT}/RPC2")
check("tcp auth", good.supervisor.getState()["statename"] == "RUNNING")
bad = xmlrpc.client.ServerProxy(f"http://user:wrong@127.0.0.1:{PORT}/RPC2")
try:
    bad.supervisor.getState()
    check("wrong password", False)
except xmlrpc.client.ProtocolError as e:
    check("wrong password 401", e.errcode == 401, e.errcode)
    check("www-authenticate", "Basic" in (e.headers.get("WWW-Authenticate") or ""))
anon = xmlrpc.client.ServerProxy(f"http://127.0.0.1:{PORT}/RPC2")
try:
    anon.supervisor.getState()
    check("no credentials", False)
except xmlrpc.client.ProtocolError as e:
    check("no credentials 401", e.errcode == 401)


# --- malformed requests: clean errors, daemon carries on
def raw(body, headers=None):
    c = http.client.HTTPConnection("127.0.0.1", PORT, timeout=10)
    h = {"Authorization": "Basic dXNlcjp0aGVwYXNzd29yZA==", "Content-Type": "text/xml"}
    h.update(headers or {})
    c.request("POST", "/RPC2", body=body, headers=h)
    r = c.getresponse()
    r.read()
    return r.status


check("malformed xml 400", raw(b"<methodCall><methodName>x</meth") == 400)
check("no method name 400", raw(b"<methodCall><params/></methodCall>") == 400)
check("bad utf8 400", raw(b"<methodCall><methodName>\xff\xfe</methodName></methodCall>") == 400)
check("garbage 400", raw(b"\x00\x01\x02" * 100) == 400)
c = http.client.HTTPConnection("127.0.0.1", PORT, timeout=10)
c.request("GET", "/RPC2", headers={"Authorization": "Basic dXNlcjp0aGVwYXNzd29yZA=="})
check("GET /RPC2 400", c.getresponse().status == 400)
s = socket.create_connection(("127.0.0.1", PORT), timeout=10)
s.sendall(b"BLAH\r\n\r\n")
s.recv(100)
s.close()
check("still answers", S.getState()["statename"] == "RUNNING")
c = http.client.HTTPConnection("127.0.0.1", PORT, timeout=10)
c.request("GET", "/ok.html", headers={"Authorization": "Basic dXNlcjp0aGVwYXNzd29yZA=="})
r = c.getresponse()
check("ok.html", (r.status, r.read()) == (200, b"OK"))

# --- shutdown gate
check("shutdown", S.shutdown() is True)
try:
    S.getState()
    # Either the gate answered or the daemon is already gone; both are fine, a RUNNING is not.
    check("gate", False, "getState answered RUNNING during shutdown")
except xmlrpc.client.Fault as f:
    check("gate fault", f.faultCode == 6 and f.faultString == "SHUTDOWN_STATE", f)
except (OSError, xmlrpc.client.ProtocolError):
    check("gone", True)

print(f"{PASSED} passed, 0 failed")
