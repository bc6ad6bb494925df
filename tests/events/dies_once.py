"""A listener that dies while busy with its first event (the first time it runs), and
handles it the next time: the event must come back, with the same serial. It appends
"serial eventname" to $OUT/events.jsonl for each event it gets."""
import os
import sys

from supervisor import childutils

out = os.path.join(os.environ["OUT"], "events.jsonl")
headers, payload = childutils.listener.wait(sys.stdin, sys.stdout)
with open(out, "a") as f:
    f.write(headers["serial"] + " " + headers["eventname"] + "\n")
if not os.path.exists(out + ".once"):
    open(out + ".once", "w").close()
    os._exit(1)
childutils.listener.ok(sys.stdout)
sys.stdin.read()
