"""An event listener that records every event it gets, header and payload, one JSON object a
line, in the file named by its first argument; with --fail N it answers FAIL to its first N
events (then OK), so the supervisor must send them again. It speaks through supervisor.childutils,
as superlance's listeners do."""
import json
import os
import sys

from supervisor import childutils


def main():
    out = sys.argv[1]
    fails = int(sys.argv[3]) if len(sys.argv) > 3 and sys.argv[2] == "--fail" else 0
    while True:
        headers, payload = childutils.listener.wait(sys.stdin, sys.stdout)
        with open(out, "a") as f:
            f.write(json.dumps({"listener": os.environ.get("SUPERVISOR_PROCESS_NAME"),
                                "headers": headers, "payload": payload}) + "\n")
        if fails > 0:
            fails -= 1
            childutils.listener.fail(sys.stdout)
        else:
            childutils.listener.ok(sys.stdout)


if __name__ == "__main__":
    main()
