"""memmon, as superlance's: on each TICK event it reads the RSS of every running process
(from /proc) and restarts, through the supervisor's XML-RPC interface
(childutils.getRPCInterface(os.environ)), any over its limit.
Usage: memmon.py -p NAME=BYTES... | -a BYTES"""
import argparse
import os
import sys

from supervisor import childutils


def size(text):
    units = {"KB": 1024, "MB": 1024 ** 2, "GB": 1024 ** 3}
    for suffix, mult in units.items():
        if text.upper().endswith(suffix):
            return int(text[:-2]) * mult
    return int(text)


def rss_of(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("-p", "--program", action="append", default=[])
    ap.add_argument("-a", "--any")
    args = ap.parse_args()
    limits = dict((n, size(b)) for n, b in (p.split("=", 1) for p in args.program))
    rpc = childutils.getRPCInterface(os.environ)
    while True:
        headers, _ = childutils.listener.wait(sys.stdin, sys.stdout)
        if not headers["eventname"].startswith("TICK"):
            childutils.listener.ok(sys.stdout)
            continue
        for info in rpc.supervisor.getAllProcessInfo():
            if info["statename"] != "RUNNING" or not info["pid"]:
                continue
            name = info["name"] if info["name"] == info["group"] else \
                f"{info['group']}:{info['name']}"
            limit = limits.get(info["name"], limits.get(name))
            if limit is None and args.any:
                limit = size(args.any)
            if limit is None:
                continue
            try:
                rss = rss_of(info["pid"])
            except OSError:
                continue
            if rss > limit:
                sys.stderr.write(f"RSS of {name} is {rss}, over {limit}: restarting\n")
                sys.stderr.flush()
                rpc.supervisor.stopProcess(name)
                rpc.supervisor.startProcess(name)
        childutils.listener.ok(sys.stdout)


if __name__ == "__main__":
    main()
