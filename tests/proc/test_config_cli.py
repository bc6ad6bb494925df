"""Config errors, strict checking, reload and signal forwarding, seen from the command line."""
import os
import re
import signal
import subprocess
import time

import pytest

from harness import PIDVISOR, SUPERVISORD, wait_until


def run_cli(binary, *args, cwd=None):
    return subprocess.run([binary, *args], capture_output=True, text=True, timeout=20, cwd=cwd)


BAD_CONFIGS = {
    "bad integer": ("[supervisord]\n[program:web]\ncommand=sleep 1\nstartsecs=ten\n",
                    r":4: \[program:web\] startsecs: 'ten' is not an integer"),
    "bad bool": ("[supervisord]\n[program:web]\ncommand=sleep 1\nautostart=maybe\n",
                 r":4: \[program:web\] autostart: 'maybe' is not a boolean"),
    "missing command": ("[supervisord]\n\n[program:web]\npriority=1\n",
                        r":3: \[program:web\] command: required, but missing"),
    "unknown expansion": ("[supervisord]\n[program:web]\ncommand=sleep %(nope)s\n",
                          r":3: \[program:web\] command: unknown name %\(nope\)"),
    "bad signal": ("[supervisord]\n[program:web]\ncommand=sleep 1\nstopsignal=SIGFOO\n",
                   r":4: \[program:web\] stopsignal: 'SIGFOO' is not a signal"),
    "duplicate process": ("[supervisord]\n[program:web]\ncommand=sleep 1\nnumprocs=2\n"
                          "process_name=web_%(process_num)d\n[program:api]\ncommand=sleep 1\n"
                          "[group:g]\nprograms=web,api\n"
                          "[program:api2]\ncommand=sleep 1\n",
                          None),
    "no supervisord section": ("[program:web]\ncommand=sleep 1\n",
                               r"no \[supervisord\] section"),
    "killasgroup": ("[supervisord]\n[program:web]\ncommand=sleep 1\nstopasgroup=true\n"
                    "killasgroup=false\n",
                    r":5: \[program:web\] killasgroup: cannot be false when stopasgroup"),
}


def test_bad_configs_exit_2_with_file_and_line(tmp_path):
    for name, (text, pattern) in BAD_CONFIGS.items():
        if pattern is None:
            continue
        conf = tmp_path / f"{name.replace(' ', '_')}.conf"
        conf.write_text(text)
        r = run_cli(PIDVISOR, "-n", "-c", str(conf))
        assert r.returncode == 2, (name, r.stderr)
        assert re.search(re.escape(str(conf)) + pattern if pattern.startswith(":") else pattern,
                         r.stderr), (name, r.stderr)
        assert "nothing was started" in r.stderr


def test_duplicate_process_names_are_an_error(tmp_path):
    conf = tmp_path / "dup.conf"
    conf.write_text("[supervisord]\n[program:a]\ncommand=sleep 1\nprocess_name=same\n"
                    "[program:b]\ncommand=sleep 1\nprocess_name=same\n[group:g]\nprograms=a,b\n")
    r = run_cli(PIDVISOR, "-n", "-c", str(conf))
    assert r.returncode == 2
    assert "duplicate process name 'same' in group 'g'" in r.stderr


def test_supervisord_also_exits_2_on_a_bad_value(tmp_path):
    conf = tmp_path / "bad.conf"
    conf.write_text("[supervisord]\nlogfile=%s/l\npidfile=%s/p\n[program:web]\ncommand=sleep 1\n"
                    "startsecs=ten\n" % (tmp_path, tmp_path))
    for binary in (PIDVISOR, SUPERVISORD):
        assert run_cli(binary, "-n", "-c", str(conf)).returncode == 2, binary


def test_bad_config_starts_nothing(tmp_path):
    marker = tmp_path / "ran"
    conf = tmp_path / "c.conf"
    conf.write_text(f"[supervisord]\n[program:first]\ncommand=touch {marker}\n"
                    "[program:second]\ncommand=sleep 1\nstartretries=many\n")
    assert run_cli(PIDVISOR, "-n", "-c", str(conf)).returncode == 2
    time.sleep(0.2)
    assert not marker.exists()


def test_unknown_keys_warn_but_start(run, impl):
    d = run(impl, "[program:web]\ncommand=sleep 1000\nstartsecz=3\nstartsecs=0\n\n"
                  "[programx:y]\ncommand=sleep 1\n\n"
                  "[eventlistener:ev]\ncommand=sleep 1\nevents=TICK_5\nstartretries=0\n")
    d.wait_log(r"success: web entered RUNNING")
    if impl == "pidvisor":
        err = d.stderr()
        conf = str(d.conf_path)
        assert re.search(re.escape(conf) + r":\d+: warning: \[program:web\] startsecz: unknown key"
                         r", ignored \(did you mean 'startsecs'\?\)", err), err
        assert re.search(re.escape(conf) + r":\d+: warning: \[programx:y\] unknown section, "
                         r"ignored \(did you mean \[program:y\]", err), err
        assert "eventlistener" not in err, err
    assert d.stop() == 0


def test_check_config_is_strict(tmp_path):
    good = tmp_path / "good.conf"
    good.write_text("[supervisord]\n[program:web]\ncommand=sleep 1\n")
    r = run_cli(PIDVISOR, "-c", str(good), "--check-config")
    assert r.returncode == 0 and "OK" in r.stdout
    warn = tmp_path / "warn.conf"
    warn.write_text("[supervisord]\n[program:web]\ncommand=sleep 1\nstartsecz=3\n")
    r = run_cli(PIDVISOR, "-c", str(warn), "--check-config")
    assert r.returncode == 1
    assert f"{warn}:4: warning: [program:web] startsecz: unknown key" in r.stdout
    bad = tmp_path / "bad.conf"
    bad.write_text("[supervisord]\n[program:web]\ncommand=sleep 1\nstartsecs=x\nautostart=no way\n")
    r = run_cli(PIDVISOR, "-c", str(bad), "--check-config")
    assert r.returncode == 2
    assert f"{bad}:4:" in r.stdout and f"{bad}:5:" in r.stdout  # every problem, not the first


def test_check_config_finds_missing_commands(tmp_path):
    # an image build runs --check-config last: a program whose package is missing fails it
    conf = tmp_path / "cmds.conf"
    script = tmp_path / "notexec.sh"
    script.write_text("#!/bin/sh\n")
    script.chmod(0o644)
    conf.write_text(
        "[supervisord]\n"
        "[program:ok]\ncommand=sleep 1\n"
        "[program:nginx]\ncommand=/usr/sbin/no-such-nginx -g 'daemon off;'\n"
        "[program:onpath]\ncommand=no-such-tool --flag\n"
        f"[program:plain]\ncommand={script}\n"
        "[program:ownpath]\ncommand=sleep 1\nenvironment=PATH=/nonexistent\n"
    )
    r = run_cli(PIDVISOR, "-c", str(conf), "--check-config")
    assert r.returncode == 2
    lines = r.stdout.splitlines()
    assert f"{conf}:4: [program:nginx] command: can't find command '/usr/sbin/no-such-nginx'" in lines
    assert f"{conf}:6: [program:onpath] command: can't find command 'no-such-tool'" in lines
    assert f"{conf}:8: [program:plain] command: command at '{script}' is not executable" in lines
    assert f"{conf}:10: [program:ownpath] command: can't find command 'sleep'" in lines
    assert not any("[program:ok]" in l for l in lines)


def test_check_config_relative_command_is_run_from_directory(tmp_path):
    """A relative command with a '/' runs from the program's directory (the child chdirs before
    exec): --check-config looks there, naming the path, and warns when a start's own lookup
    (from the supervisor's working directory, as supervisord does) would miss it."""
    app = tmp_path / "app"
    (app / "bin").mkdir(parents=True)
    (app / "bin" / "run").write_text("#!/bin/sh\n")
    (app / "bin" / "run").chmod(0o755)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    conf = tmp_path / "rel.conf"
    conf.write_text(f"[supervisord]\n[program:app]\ncommand=bin/run --x\ndirectory={app}\n"
                    f"[program:gone]\ncommand=bin/gone\ndirectory={app}\n")
    r = run_cli(PIDVISOR, "-c", str(conf), "--check-config", cwd=app)
    assert r.returncode == 2, r.stdout
    lines = r.stdout.splitlines()
    assert f"{conf}:5: [program:gone] command: can't find command '{app}/bin/gone'" in lines
    assert not any("[program:app]" in line for line in lines), lines
    r = run_cli(PIDVISOR, "-c", str(conf), "--check-config", cwd=elsewhere)
    assert f"{conf}:2: warning: [program:app] command: 'bin/run' is run from directory {app}, " \
        f"but a start looks it up from the supervisor's working directory first (here " \
        f"{elsewhere}" in r.stdout


def test_check_config_finds_a_missing_healthcheck_command(tmp_path):
    conf = tmp_path / "hc.conf"
    conf.write_text("[supervisord]\n[program:web]\ncommand=sleep 1\nhealthcheck=cmd:/missing -q\n"
                    "[program:fine]\ncommand=sleep 1\nhealthcheck=cmd:true\n")
    r = run_cli(PIDVISOR, "-c", str(conf), "--check-config")
    assert r.returncode == 2
    lines = r.stdout.splitlines()
    assert f"{conf}:2: [program:web] healthcheck: can't find command '/missing'" in lines
    assert not any("[program:fine]" in line for line in lines), lines


def test_check_config_empty_include_glob_is_not_a_warning(tmp_path):
    """An empty drop-in directory is ordinary: a note, exit 0."""
    (tmp_path / "conf.d").mkdir()
    conf = tmp_path / "inc.conf"
    conf.write_text("[supervisord]\n[include]\nfiles=conf.d/*.conf\n"
                    "[program:web]\ncommand=sleep 1\n")
    r = run_cli(PIDVISOR, "-c", str(conf), "--check-config")
    assert r.returncode == 0, r.stdout
    assert f"{conf}:3: note: [include] files: no file matches '{tmp_path}/conf.d/*.conf'" \
        in r.stdout.splitlines()


def test_no_config_found_is_a_usage_error(tmp_path):
    # a private mount namespace hides this machine's own /etc/supervisor*, if any, so the
    # search really finds nothing (Debian's supervisor package installs one)
    if os.path.exists("/etc/supervisord.conf"):
        pytest.skip("/etc/supervisord.conf is a file: it cannot be hidden by a mount")
    script = f"mount -t tmpfs none /etc/supervisor 2>/dev/null; exec {PIDVISOR} -n"
    r = subprocess.run(["unshare", "--mount", "--propagation", "private", "sh", "-c", script],
                       capture_output=True, text=True, timeout=20, cwd=tmp_path)
    assert r.returncode == 2, r.stderr
    assert "No config file found" in r.stderr


def test_config_is_found_in_the_working_directory(run, tmp_path):
    (tmp_path / "supervisord.conf").write_text(
        f"[supervisord]\nlogfile={tmp_path}/found.log\npidfile={tmp_path}/p\n"
        "[program:x]\ncommand=sleep 1000\nstartsecs=0\n")
    p = subprocess.Popen(["unshare", "--pid", "--fork", "--mount-proc", "--kill-child", PIDVISOR, "-n"],
                         cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_until(lambda: (tmp_path / "found.log").exists() and
                   "success: x entered RUNNING" in (tmp_path / "found.log").read_text())
    finally:
        p.kill()
        p.wait()


def test_version_and_help():
    r = run_cli(PIDVISOR, "-v")
    assert r.returncode == 0 and r.stdout.strip() == "4.2.5"
    r = run_cli(PIDVISOR, "-h")
    assert r.returncode == 0 and "--configuration" in r.stdout and "--check-config" in r.stdout
    r = run_cli(PIDVISOR, "--bogus")
    assert r.returncode == 2 and "For help, use" in r.stderr


def test_sighup_applies_only_what_changed(run, tmp_path):
    import psutil
    progs = {"keep": "sleep 1001", "change": "sleep 1002", "drop": "sleep 1003"}
    body = lambda p: "".join(f"[program:{n}]\ncommand={c}\nstartsecs=0\n\n" for n, c in p.items())
    d = run("pidvisor", body(progs))
    d.wait_log(r"success: \w+ entered RUNNING", count=3)
    pids = {n: d.program_pid(n) for n in progs}
    header = d.header()

    # a config with errors changes nothing
    d.conf_path.write_text(header + body(progs) + "[program:bad]\ncommand=x\nstartsecs=zero\n")
    d.signal(signal.SIGHUP)
    d.wait_log(r"keeping the running one")
    assert all(psutil.pid_exists(p) for p in pids.values())

    new = {"keep": "sleep 1001", "change": "sleep 2002", "add": "sleep 1004"}
    d.conf_path.write_text(header + body(new))
    d.signal(signal.SIGHUP)
    d.wait_log(r"success: add entered RUNNING")
    d.wait_log(r"reloaded configuration")
    wait_until(lambda: not psutil.pid_exists(pids["drop"]), what="drop to stop")
    assert d.program_pid("keep") == pids["keep"] and psutil.pid_exists(pids["keep"])
    changed = d.program_pid("change")
    assert changed != pids["change"] and not psutil.pid_exists(pids["change"])
    assert psutil.Process(changed).cmdline() == ["sleep", "2002"]
    assert d.stop() == 0


def test_sighup_bringing_back_a_program_a_reload_is_stopping_starts_it_again(run, tmp_path):
    """A reload drops slow, which takes its time to stop (SIGTERM does nothing until the file
    go exists); a second reload, before it is gone, has it back as it was: it comes back
    RUNNING, as a group added anew, not left STOPPED."""
    both = ("[program:slow]\nstartsecs=0\nstopwaitsecs=600\n"
            "command=sh -c 'trap \"[ -e %(here)s/go ] && exit 0\" TERM; touch %(here)s/ready; "
            "while :; do sleep 0.05; done'\n\n"
            "[program:keep]\ncommand=sleep 1002\nstartsecs=0\n")
    d = run("pidvisor", both)
    d.wait_log(r"success: slow entered RUNNING")
    d.wait_log(r"success: keep entered RUNNING")
    wait_until(lambda: (tmp_path / "ready").exists(), what="slow's trap")
    slow, keep = d.program_pid("slow"), d.program_pid("keep")
    header = d.header()
    d.conf_path.write_text(header + "[program:keep]\ncommand=sleep 1002\nstartsecs=0\n")
    d.signal(signal.SIGHUP)
    d.wait_log(r"waiting for slow to stop")
    d.conf_path.write_text(header + both)
    d.signal(signal.SIGHUP)
    d.wait_log(r"received SIGHUP indicating restart request", count=2)
    (tmp_path / "go").touch()  # the next SIGTERM stops slow; this one it ignored
    os.kill(slow, signal.SIGKILL)
    d.wait_log(r"removed process group slow")
    d.wait_log(r"added process group slow")
    d.wait_log(r"success: slow entered RUNNING", count=2)
    assert d.program_pid("slow") not in (0, slow)
    assert d.program_pid("keep") == keep
    assert d.stop() == 0


def test_forward_signals_extension(run, tmp_path):
    conf = ("[program:nginxish]\nstartsecs=0\nforward_signals=USR1,WINCH\n"
            "command=sh -c 'trap \"echo usr1 >> %(here)s/got\" USR1; "
            "trap \"echo winch >> %(here)s/got\" WINCH; touch %(here)s/ready1; "
            "while :; do sleep 0.05; done'\n\n"
            "[program:other]\nstartsecs=0\n"
            "command=sh -c 'trap \"echo other >> %(here)s/got\" USR1; touch %(here)s/ready2; "
            "while :; do sleep 0.05; done'\n")
    d = run("pidvisor", conf)
    d.wait_log(r"success: \w+ entered RUNNING", count=2)
    # startsecs=0 is RUNNING at the spawn: wait until both shells have set their traps
    wait_until(lambda: (tmp_path / "ready1").exists() and (tmp_path / "ready2").exists(),
               what="the traps")
    d.signal(signal.SIGUSR1)
    wait_until(lambda: (tmp_path / "got").exists() and "usr1" in (tmp_path / "got").read_text())
    d.signal(signal.SIGWINCH)
    wait_until(lambda: "winch" in (tmp_path / "got").read_text())
    time.sleep(0.2)
    assert "other" not in (tmp_path / "got").read_text()
    assert d.stop() == 0


def test_sigterm_exit_status_is_zero_as_pid1(run, impl):
    d = run(impl, "[program:x]\ncommand=sleep 1000\nstartsecs=0\n")
    d.wait_log(r"success: x entered RUNNING")
    assert d.stop() == 0


def test_answers_to_supervisord_and_supervisorctl_names(tmp_path):
    for name in ("supervisord", "supervisorctl"):
        os.symlink(PIDVISOR, tmp_path / name)
    r = run_cli(str(tmp_path / "supervisord"), "-h")
    assert r.returncode == 0 and r.stdout.startswith("supervisord -- run a set of applications")
    r = run_cli(str(tmp_path / "supervisorctl"), "-h")
    assert r.returncode == 0 and "supervisorctl" in r.stdout and "--serverurl" in r.stdout


def test_help_is_supervisords_for_its_options(tmp_path):
    """-? prints supervisord's usage, line for line, for supervisord's options (its e2e test
    expects "supervisord -- run a set of applications"); only the program path in Usage and
    what --profile_options does differ; pidvisor's own options follow."""
    os.symlink(PIDVISOR, tmp_path / "supervisord")
    theirs = run_cli(SUPERVISORD, "-?")
    ours = run_cli(str(tmp_path / "supervisord"), "-?")
    assert theirs.returncode == ours.returncode == 0

    def comparable(text):
        lines = text.split("\n--profile_options")[0].splitlines()
        return [re.sub(r"^Usage: \S+", "Usage: PROG", line) for line in lines]
    assert comparable(ours.stdout) == comparable(theirs.stdout)
    assert ours.stdout.startswith("supervisord -- run a set of applications as daemons.\n")
    assert "--check-config" in ours.stdout
    assert run_cli(PIDVISOR, "-?").stdout == ours.stdout.replace("Usage: supervisord",
                                                                  "Usage: pidvisor")


def test_every_option_in_help_is_accepted(tmp_path):
    """--help and getopt_long come from one table: each option --help shows is taken, with an
    argument exactly when --help names one."""
    conf = tmp_path / "ok.conf"
    conf.write_text(f"[supervisord]\nlogfile={tmp_path}/l\n")
    shown = re.findall(r"^(?:-(\w)/)?--([\w-]+)(?: ([A-Z]+))? +-- ",
                       run_cli(PIDVISOR, "-h").stdout, re.M)
    assert len(shown) == 21, shown
    for letter, name, arg in shown:
        if name in ("help", "version"):
            continue
        for flag in [f"--{name}"] + ([f"-{letter}"] if letter else []):
            argv = [flag, "x"] if arg else [flag]
            r = run_cli(PIDVISOR, "-c", str(conf), "--check-config", *argv)
            assert "not recognized" not in r.stderr and "requires argument" not in r.stderr, \
                (flag, r.stderr)
            assert "positional" not in r.stderr, (flag, r.stderr)
            if arg:
                r = run_cli(PIDVISOR, "-c", str(conf), flag)
                assert r.returncode == 2 and "requires argument" in r.stderr, (flag, r.stderr)


def test_more_than_32_overrides_are_all_applied(tmp_path):
    # each -y is an override of [supervisord] logfile_maxbytes; the last one wins, and the
    # last is the 41st: none is silently dropped
    conf = tmp_path / "ok.conf"
    conf.write_text(f"[supervisord]\nlogfile={tmp_path}/l\n")
    r = run_cli(PIDVISOR, "-c", str(conf), "--check-config", *["-y", "1MB"] * 40, "-y", "bogus")
    assert r.returncode == 2, r.stdout + r.stderr
    assert "command line: [supervisord] logfile_maxbytes: 'bogus' is not a size" in r.stdout
    r = run_cli(PIDVISOR, "-c", str(conf), "--check-config", *["-y", "bogus"] * 40, "-y", "1MB")
    assert r.returncode == 0, r.stdout + r.stderr


def test_question_mark_is_help_as_in_supervisord():
    import subprocess
    from harness import PIDVISOR
    q = subprocess.run([PIDVISOR, "-?"], capture_output=True, text=True)
    h = subprocess.run([PIDVISOR, "-h"], capture_output=True, text=True)
    assert q.returncode == 0 and q.stdout == h.stdout and "Usage" in q.stdout
