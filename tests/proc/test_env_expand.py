"""%(ENV_X)s in a program's own environment= and the keys after it, side by side with supervisord:
environment is expanded against the start-up environment (and [supervisord] environment) only,
and its expanded values are ENV_ names for command, directory and the log files."""
import os

from harness import wait_until


def start_env(impl, run, tmp_path, program, env):
    dump = tmp_path / "env.txt"
    conf = (f"[program:app]\ncommand=/bin/sh -c 'env > {dump}.tmp; pwd >> {dump}.tmp; "
            f"mv {dump}.tmp {dump}; exec sleep 1000'\nstartsecs=0\nautorestart=false\n"
            + program)
    base = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": str(tmp_path)}
    d = run(impl, conf, env={**base, **env})
    wait_until(lambda: dump.exists() or d.proc.poll() is not None, timeout=30,
               what="the child's environment dump")
    assert dump.exists(), d.log() + d.stderr()
    lines = dump.read_text().splitlines()
    return dict(line.split("=", 1) for line in lines if "=" in line), lines[-1], d


def test_own_path_extends_the_startup_path(impl, run, tmp_path):
    env, _, _ = start_env(impl, run, tmp_path,
                          'environment=PATH="/venv/bin:%(ENV_PATH)s"\n', {})
    assert env["PATH"] == "/venv/bin:/usr/local/bin:/usr/bin:/bin"


def test_own_key_copies_a_startup_variable(impl, run, tmp_path):
    env, _, _ = start_env(impl, run, tmp_path, 'environment=DISPLAY="%(ENV_DISPLAY)s"\n',
                          {"DISPLAY": ":7"})
    assert env["DISPLAY"] == ":7"


def test_own_key_is_an_env_name_for_directory_and_command(impl, run, tmp_path):
    app = tmp_path / "app"
    app.mkdir()
    env, cwd, _ = start_env(impl, run, tmp_path,
                            'environment=APP="%(ENV_HOME)s/app"\ndirectory=%(ENV_APP)s\n',
                            {})
    assert env["APP"] == str(app)
    assert os.path.realpath(cwd) == os.path.realpath(app)


def test_own_key_is_not_an_env_name_inside_environment(impl, run, tmp_path):
    """A key of the program's environment that the start-up environment lacks cannot be used
    by a later entry of the same environment: both refuse the config."""
    d = run(impl, "[program:app]\ncommand=sleep 1000\n"
            'environment=A="x",B="%(ENV_A)s"\n')
    assert d.proc.wait(timeout=30) != 0
    assert "ENV_A" in d.stderr() + d.log()
