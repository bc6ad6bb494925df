"""httpok, as superlance's: on each TICK event it GETs a URL (loopback only here) and, when
that fails or answers another status than expected, restarts the named programs that are
RUNNING, through the supervisor's XML-RPC interface.
Usage: httpok.py -p PROGRAM... [-t TIMEOUT] [-c STATUS] URL"""
import argparse
import http.client
import os
import sys
import urllib.parse

from supervisor import childutils


def probe(url, timeout, status):
    u = urllib.parse.urlsplit(url)
    assert u.hostname in ("127.0.0.1", "localhost", "::1"), "loopback only"
    conn = http.client.HTTPConnection(u.hostname, u.port or 80, timeout=timeout)
    try:
        conn.request("GET", u.path or "/")
        return conn.getresponse().status == status
    except OSError:
        return False
    finally:
        conn.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("-p", "--program", action="append", default=[])
    ap.add_argument("-t", "--timeout", type=float, default=10)
    ap.add_argument("-c", "--code", type=int, default=200)
    ap.add_argument("url")
    args = ap.parse_args()
    rpc = childutils.getRPCInterface(os.environ)
    while True:
        headers, _ = childutils.listener.wait(sys.stdin, sys.stdout)
        if not headers["eventname"].startswith("TICK") or probe(args.url, args.timeout,
                                                                 args.code):
            childutils.listener.ok(sys.stdout)
            continue
        for name in args.program:
            if rpc.supervisor.getProcessInfo(name)["statename"] != "RUNNING":
                continue
            sys.stderr.write(f"{args.url} failed: restarting {name}\n")
            sys.stderr.flush()
            rpc.supervisor.stopProcess(name)
            rpc.supervisor.startProcess(name)
        childutils.listener.ok(sys.stdout)


if __name__ == "__main__":
    main()
