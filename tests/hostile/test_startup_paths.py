"""A control socket pidvisor cannot create: exit 2 with a message naming the path and the cause,
nothing started, no crash (it segfaulted in the clean-up path) — as PID 1, on both builds, for
a missing directory, a directory the [supervisord] user cannot write, a read-only mount and a
port already taken. --check-config says so before an image ships."""
import socket
import subprocess

PROGRAM = "[program:marker]\ncommand=/bin/sh -c 'touch {tmp}/started; exec sleep 1000'\n"


def header(tmp, extra=""):
    return (f"[supervisord]\nlogfile={tmp}/main.log\npidfile={tmp}/sup.pid\n"
            f"childlogdir={tmp}\n{extra}\n" + PROGRAM.format(tmp=tmp))


def run_pid1(binary, conf, tmp, pre=""):
    """pidvisor as PID 1 of a new PID and mount namespace, after the shell commands pre."""
    script = f"{pre}\nexec {binary} -n -c {conf}"
    return subprocess.run(["unshare", "--pid", "--fork", "--mount-proc", "--mount",
                           "--propagation", "private", "sh", "-c", script],
                          capture_output=True, text=True, timeout=60, cwd=tmp)


def assert_refused(r, tmp, *words):
    assert r.returncode == 2, (r.returncode, r.stderr)
    assert "Error:" in r.stderr
    for w in words:
        assert w in r.stderr, (w, r.stderr)
    assert "AddressSanitizer" not in r.stderr and "runtime error" not in r.stderr, r.stderr
    assert not (tmp / "started").exists(), "a program was started"


def test_socket_in_a_missing_directory(build, tmp_path):
    sock = tmp_path / "missing" / "sup.sock"
    conf = tmp_path / "s.conf"
    conf.write_text(header(tmp_path) + f"[unix_http_server]\nfile={sock}\n")
    r = run_pid1(build, conf, tmp_path)
    assert_refused(r, tmp_path, str(sock), "No such file or directory", "[unix_http_server]")


def test_socket_directory_the_user_cannot_write(build, tmp_path):
    sockdir = tmp_path / "root-only"
    sockdir.mkdir(mode=0o755)
    tmp_path.chmod(0o755)
    conf = tmp_path / "s.conf"
    conf.write_text(header(tmp_path, "user=nobody") +
                    f"[unix_http_server]\nfile={sockdir}/sup.sock\n")
    r = run_pid1(build, conf, tmp_path)
    assert_refused(r, tmp_path, f"{sockdir}/sup.sock", "Permission denied")
    check = subprocess.run([str(build), "-c", str(conf), "--check-config"],
                           capture_output=True, text=True, timeout=60)
    assert check.returncode == 2, check.stdout
    assert f"[unix_http_server] file: '{sockdir}/sup.sock': its directory {sockdir} is not " \
           "writable by the user nobody" in check.stdout, check.stdout


def test_socket_on_a_read_only_mount(build, tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir()
    conf = tmp_path / "s.conf"
    conf.write_text(header(tmp_path) + f"[unix_http_server]\nfile={ro}/sup.sock\n")
    r = run_pid1(build, conf, tmp_path, pre=f"mount -t tmpfs -o ro tmpfs {ro}")
    assert_refused(r, tmp_path, f"{ro}/sup.sock", "Read-only file system")


def test_check_config_names_a_missing_socket_directory(build, tmp_path):
    conf = tmp_path / "s.conf"
    conf.write_text(header(tmp_path) + f"[unix_http_server]\nfile={tmp_path}/nope/s.sock\n")
    r = subprocess.run([str(build), "-c", str(conf), "--check-config"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 2, r.stdout
    assert f"[unix_http_server] file: '{tmp_path}/nope/s.sock': its directory " \
           f"{tmp_path}/nope does not exist" in r.stdout, r.stdout


def test_port_taken_tears_down_the_other_server(build, tmp_path):
    """The unix server opens, the inet one cannot: exit 2, and the unix socket is removed."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        sock = tmp_path / "sup.sock"
        conf = tmp_path / "s.conf"
        conf.write_text(header(tmp_path) + f"[unix_http_server]\nfile={sock}\n\n"
                        f"[inet_http_server]\nport=127.0.0.1:{port}\n")
        r = run_pid1(build, conf, tmp_path)
        assert_refused(r, tmp_path, f"port 127.0.0.1:{port}", "Address already in use")
        assert not sock.exists()


def test_default_main_log_on_a_read_only_root(build, tmp_path):
    """No logfile= and a read-only working directory (docker run --read-only): exit 2 naming
    the key that moves it; --check-config says so first."""
    ro = tmp_path / "ro"
    ro.mkdir()
    conf = tmp_path / "s.conf"
    conf.write_text("[supervisord]\n" + PROGRAM.format(tmp=tmp_path))
    r = run_pid1(build, conf, tmp_path,
                 pre=f"mount -t tmpfs -o ro tmpfs {ro} && cd {ro}")
    assert_refused(r, tmp_path, "[supervisord] logfile", "supervisord.log",
                   "Read-only file system")
    check = subprocess.run(["unshare", "--mount", "--propagation", "private", "sh", "-c",
                            f"mount -t tmpfs -o ro tmpfs {ro} && cd {ro} && "
                            f"exec {build} -c {conf} --check-config"],
                           capture_output=True, text=True, timeout=60)
    assert check.returncode == 2, check.stdout
    assert "[supervisord] logfile: 'supervisord.log': its directory . is on a read-only " \
           "file system" in check.stdout, check.stdout
