"""(Not named supervisor_stdout.py: tests/compat must not find it as that module.) The
listener of the supervisor-stdout package (as its Python 3 forks ship it): answers each
event with the event's payload as the result, for supervisor_stdout:event_handler to print."""
import sys


def write_stdout(s):
    sys.stdout.write(s)
    sys.stdout.flush()


def main():
    while True:
        write_stdout("READY\n")
        line = sys.stdin.readline()
        headers = dict(x.split(":", 1) for x in line.split())
        data = sys.stdin.read(int(headers["len"]))
        write_stdout("RESULT %s\n%s" % (len(data.encode("utf-8")), data))


if __name__ == "__main__":
    main()
