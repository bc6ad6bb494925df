"""A program's user= that pidvisor cannot switch to: root without CAP_SETUID and CAP_SETGID (a
container run with --cap-drop ALL), or a non-root pidvisor (--user 10001). The spawn error, in
the main log, names the program, the user and what is missing, the program goes FATAL and the
others run on; --check-config, run by that user, warns (exit 1); [supervisord] user= there
stops start-up with the same reason. On both builds.
tests/docker/test_hardened.py runs the non-root case in a real container."""
import os
import subprocess
import tempfile

from harness import Daemon

PROGRAMS = """\
[program:marker]
command=/bin/sh -c 'exec sleep 1000'
startsecs=0

[program:asnobody]
command=/bin/sleep 1000
user=nobody
startretries=0
"""

NO_SETUID = ["setpriv", "--bounding-set=-setuid,-setgid"]


def test_root_without_cap_setuid_names_the_user_and_the_capabilities(build, tmp_path):
    d = Daemon("pidvisor", tmp_path, PROGRAMS, binary=build, wrap=NO_SETUID)
    try:
        d.wait_log(r"gave up: asnobody entered FATAL state", timeout=30)
        d.wait_log(r"success: marker entered RUNNING state", timeout=30)
        log = d.log()
        assert "spawnerr: cannot run 'asnobody' as user 'nobody' (uid 65534): pidvisor runs " \
               "as root without CAP_SETUID and CAP_SETGID" in log, log
        assert d.stop() == 0
    finally:
        d.close()
    err = d.stderr_path.read_text()
    assert "AddressSanitizer" not in err and "runtime error" not in err, err


def test_supervisord_user_without_cap_setuid_says_why(build, tmp_path):
    d = Daemon("pidvisor", tmp_path, PROGRAMS.split("[program:asnobody]")[0], binary=build,
               wrap=NO_SETUID, args=["-u", "nobody"])
    try:
        assert d.proc.wait(timeout=30) == 2
        assert "CRIT cannot switch to user nobody: pidvisor runs as root without CAP_SETUID " \
               "and CAP_SETGID" in d.log(), d.log()
    finally:
        d.close()


def test_check_config_warns_when_the_user_cannot_be_taken(build):
    # a directory nobody can read, and write to for the pidfile
    with tempfile.TemporaryDirectory(prefix="pv-priv-") as tmp:
        os.chmod(tmp, 0o1777)
        conf = os.path.join(tmp, "s.conf")
        with open(conf, "w") as f:
            f.write(f"[supervisord]\nlogfile=/dev/null\npidfile={tmp}/p.pid\n\n"
                    + PROGRAMS.replace("user=nobody", "user=root"))
        os.chmod(conf, 0o644)
        as_nobody = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"]
        r = subprocess.run([*as_nobody, str(build), "-c", conf, "--check-config"],
                           capture_output=True, text=True, timeout=60, cwd=tmp)
        assert r.returncode == 1, (r.returncode, r.stdout, r.stderr)
        assert "[program:asnobody] user: 'root' (uid 0) cannot be honoured: pidvisor runs as " \
               "uid 65534, not root, without CAP_SETUID and CAP_SETGID; the program will not " \
               "start" in r.stdout, r.stdout
        # root with its capabilities: nothing to say
        r = subprocess.run([str(build), "-c", conf, "--check-config"], capture_output=True,
                           text=True, timeout=60, cwd=tmp)
        assert r.returncode == 0, r.stdout
