"""crashmail, as superlance's: on PROCESS_STATE_EXITED with expected:0 it mails
"Process X in group G exited unexpectedly (pid N) from state S" through sendmail.
Usage: crashmail.py -m ADDRESS [-p PROGRAM]... [-a] [-s SENDMAIL-COMMAND]"""
import argparse
import subprocess
import sys

from supervisor import childutils


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("-p", "--program", action="append", default=[])
    ap.add_argument("-a", "--any", action="store_true")
    ap.add_argument("-m", "--email", required=True)
    ap.add_argument("-s", "--sendmail_program", default="/usr/sbin/sendmail -t -i")
    args = ap.parse_args()
    while True:
        headers, payload = childutils.listener.wait(sys.stdin, sys.stdout)
        if headers["eventname"] != "PROCESS_STATE_EXITED":
            childutils.listener.ok(sys.stdout)
            continue
        pheaders, _ = childutils.eventdata(payload + "\n")
        if int(pheaders["expected"]) or not (
                args.any or pheaders["processname"] in args.program
                or f"{pheaders['groupname']}:{pheaders['processname']}" in args.program):
            childutils.listener.ok(sys.stdout)
            continue
        msg = ("Process %(processname)s in group %(groupname)s exited unexpectedly "
               "(pid %(pid)s) from state %(from_state)s" % pheaders)
        subject = " %s crashed at %s" % (pheaders["processname"], childutils.get_asctime())
        sys.stderr.write("unexpected exit, mailing\n")
        sys.stderr.flush()
        mail = f"To: {args.email}\nSubject: {subject}\n\n{msg}\n"
        subprocess.run(args.sendmail_program, shell=True, input=mail.encode(), check=False)
        childutils.listener.ok(sys.stdout)


if __name__ == "__main__":
    main()
