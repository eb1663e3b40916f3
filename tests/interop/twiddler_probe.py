"""The calls of supervisor_twiddler's README and every fault its methods raise, against one
daemon. Usage: twiddler_probe.py <sockpath>. Prints one line per call, "label -> result", so
the output for our supervisord can be compared line by line with Python's supervisord running
the real supervisor_twiddler (tests/twiddler.rs). Our deliberate differences (addGroup, no
programs in listener pools, error locations) are left out here and tested on their own."""

import sys
import time
import xmlrpc.client

from supervisor.xmlrpc import SupervisorTransport

T = SupervisorTransport(None, None, "unix://" + sys.argv[1])
S = xmlrpc.client.ServerProxy("http://127.0.0.1", transport=T)


def call(label, fn, *args):
    try:
        r = fn(*args)
    except xmlrpc.client.Fault as e:
        text = e.faultString.split(" in section '")[0]
        r = "FAULT %d %s" % (e.faultCode, text)
    print(label, "->", repr(r))
    sys.stdout.flush()
    return r


def wait_state(name, state):
    deadline = time.time() + 20
    while time.time() < deadline:
        if S.supervisor.getProcessInfo(name)["statename"] == state:
            return state
        time.sleep(0.05)
    return "never " + state


tw = S.twiddler
call("getAPIVersion", tw.getAPIVersion)
call("getGroupNames", lambda: sorted(tw.getGroupNames()))
call("listMethods", lambda: [m for m in S.system.listMethods()
                             if m.startswith("twiddler.") and m != "twiddler.addGroup"])
call("methodSignature log", S.system.methodSignature, "twiddler.log")
# The README's session.
call("add ls", tw.addProgramToGroup, "group_name", "ls",
     {"command": "ls -l /", "autostart": "false", "autorestart": "false", "startsecs": "0"})
call("ls stays stopped", lambda: S.supervisor.getProcessInfo("group_name:ls")["statename"])
call("start ls", S.supervisor.startProcess, "group_name:ls")
call("ls exits", wait_state, "group_name:ls", "EXITED")
call("read ls", S.supervisor.readProcessLog, "group_name:ls", 0, 5)
# Faults.
call("add ls again", tw.addProgramToGroup, "group_name", "ls", {"command": "ls"})
call("add to no group", tw.addProgramToGroup, "nogroup", "x", {"command": "ls"})
call("add without command", tw.addProgramToGroup, "group_name", "x", {"autostart": "false"})
call("add bad startsecs", tw.addProgramToGroup, "group_name", "x",
     {"command": "ls", "startsecs": "soon"})
call("add bad name", tw.addProgramToGroup, "group_name", "a:b", {"command": "ls"})
call("add not a struct", tw.addProgramToGroup, "group_name", "x", "notastruct")
call("add arity", tw.addProgramToGroup, "group_name", "x")
# Typed values, numprocs, autostart.
call("add typed", tw.addProgramToGroup, "group_name", "typed",
     {"command": "sleep 100", "startsecs": 0, "autostart": False})
call("typed stays stopped", lambda: S.supervisor.getProcessInfo("group_name:typed")["statename"])
call("add numprocs", tw.addProgramToGroup, "group_name", "multi",
     {"command": "sleep 100", "numprocs": "2", "startsecs": "0",
      "process_name": "%(program_name)s_%(process_num)d"})
call("multi_0 autostarts", wait_state, "group_name:multi_0", "RUNNING")
call("multi_1 autostarts", wait_state, "group_name:multi_1", "RUNNING")
call("add to a file's group", tw.addProgramToGroup, "cat", "extra",
     {"command": "sleep 100", "startsecs": "0"})
call("extra autostarts", wait_state, "cat:extra", "RUNNING")
# Removal.
call("remove running", tw.removeProcessFromGroup, "group_name", "multi_0")
call("remove from no group", tw.removeProcessFromGroup, "nogroup", "x")
call("remove unknown", tw.removeProcessFromGroup, "group_name", "nope")
call("remove a program name", tw.removeProcessFromGroup, "group_name", "multi")
call("stop multi_0", S.supervisor.stopProcess, "group_name:multi_0")
call("remove stopped", tw.removeProcessFromGroup, "group_name", "multi_0")
call("removed is gone", S.supervisor.getProcessInfo, "group_name:multi_0")
call("remove exited", tw.removeProcessFromGroup, "group_name", "ls")
call("status", lambda: sorted("%s:%s %s" % (p["group"], p["name"], p["statename"])
                              for p in S.supervisor.getAllProcessInfo()))
call("reread sees changes", S.supervisor.reloadConfig)
# log.
call("log by name", tw.log, "twiddled: by name", "WARN")
call("log lower case", tw.log, "twiddled: lower case", "erro")
call("log by number", tw.log, "twiddled: by number", 40)
call("log default level", tw.log, "twiddled: default level")
call("log unknown name", tw.log, "x", "error")
call("log unknown number", tw.log, "x", 21)
call("log arity", tw.log)
call("unknown method", tw.nope)
