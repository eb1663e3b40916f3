"""An event listener written with supervisor's own childutils, as real listeners are.
Usage: recorder.py <record file> <mode>. Each event is appended to the record file as
`<eventname> <serial> <poolserial> <pool> <ver> <server>|<payload with \\n escaped>`.
Modes: ok (always OK), fail-first (FAIL the first delivery of each serial), fail (always FAIL),
garbage-first (answer the very first event with junk, then behave), garbage (answer
every event with junk), hangup-first (close stdout instead of answering the very first event,
and keep running; then behave), command:<text> (answer
every event with the given RESULT body, ',' standing for a newline and '~' for a space), wait-for:<file> (do not start listening
until the file exists), exit-after-answer (exit right after answering, leaving a `sleep` that
holds stdout open so no hang-up tells the daemon), and combinations joined with '+'."""

import os
import subprocess
import sys
import time

from supervisor import childutils

record, modes = sys.argv[1], sys.argv[2].split("+")
me = os.environ.get("SUPERVISOR_PROCESS_NAME", "?")
for m in modes:
    if m.startswith("wait-for:"):
        while not os.path.exists(m[len("wait-for:"):]):
            time.sleep(0.05)
seen = set()
garbage_marker = record + "." + me + ".garbaged"
hangup_marker = record + "." + me + ".hungup"
while True:
    headers, payload = childutils.listener.wait(sys.stdin, sys.stdout)
    line = "%s %s %s %s %s %s %s|%s\n" % (
        headers["eventname"], headers["serial"], headers["poolserial"], headers["pool"],
        headers["ver"], headers["server"], me, payload.replace("\n", "\\n"))
    with open(record, "a") as f:
        f.write(line)
    serial = headers["serial"]
    if "garbage" in modes or ("garbage-first" in modes and not os.path.exists(garbage_marker)):
        open(garbage_marker, "w").close()
        sys.stdout.write("this is not the protocol\n")
        sys.stdout.flush()
        time.sleep(30)
    if "hangup-first" in modes and not os.path.exists(hangup_marker):
        open(hangup_marker, "w").close()
        sys.stdout.flush()
        os.close(1)
        time.sleep(30)
    command = [m for m in modes if m.startswith("command:")]
    if command:
        body = command[0][len("command:"):].replace(",", "\n").replace("~", " ")
        childutils.listener.send(body, sys.stdout)
    elif "fail" in modes or ("fail-first" in modes and serial not in seen):
        childutils.listener.fail(sys.stdout)
    else:
        childutils.listener.ok(sys.stdout)
    seen.add(serial)
    if "exit-after-answer" in modes:
        subprocess.Popen(["sleep", "5"])
        os._exit(0)
