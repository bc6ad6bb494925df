"""The example stack (Dockerfile.examples/stack.yaml) built by pidvisor-image in a real engine,
and its two apps run: issue 5's "Done when", checked from inside with docker exec.
The stack's images stay tagged (pidvisor-test/...): their layers are the next run's cache."""
import json
import re
import subprocess
import time

import pytest

from dockerharness import PREFIX, ROOT, stopped_order

STACK = ROOT / "Dockerfile.examples" / "stack.yaml"
IMAGE_TOOL = ROOT / "build" / "pidvisor-image"


def http_get(c, port, path):
    """(status line, body) of a GET on the container's loopback, with bash alone."""
    script = (f"exec 3<>/dev/tcp/127.0.0.1/{port} && "
              f"printf 'GET {path} HTTP/1.0\\r\\nHost: localhost\\r\\n\\r\\n' >&3 && cat <&3")
    raw = c.exec("bash", "-c", script).stdout
    head, _, body = raw.partition("\r\n\r\n")
    return head.split("\r\n")[0], body


def php_page(c):
    status, body = http_get(c, 80, "/index.php")
    assert " 200 " in status and "via fpm-fcgi" in body, (status, body)


def shop_products(c):
    status, body = http_get(c, 8080, "/products")
    assert " 200 " in status, (status, body)
    assert [p["name"] for p in json.loads(body)] == ["teapot", "mug"]


# programs in priority order; the one restarted with supervisorctl; the one killed; a probe
# of the app on loopback; a line the app writes to stdout for each request.
APPS = {
    # nginx's workers would keep port 80 after kill -9 of the master: killasgroup (set in
    # the stack) kills them, so the new master can bind
    "app/php-site": dict(programs=["sshd", "php-fpm", "nginx"], restart="nginx",
                         kill="nginx", probe=php_page,
                         log_line=r'"GET /index\.php HTTP/1\.0" 200'),
    "app/shop-api": dict(programs=["sshd", "shop"], restart="shop", kill="shop",
                         probe=shop_products,
                         log_line=r'shop-api: 127\.0\.0\.1 "GET /products HTTP/1\.0" 200'),
}


@pytest.fixture(scope="module")
def stack(docker_engine, static_binary):
    r = subprocess.run(["make", "-C", str(ROOT), "build/pidvisor-image"], capture_output=True,
                       text=True)
    assert r.returncode == 0, f"make build/pidvisor-image failed:\n{r.stdout}{r.stderr}"
    t0 = time.monotonic()
    r = subprocess.run([str(IMAGE_TOOL), "build", str(STACK), *APPS, "--network", "host",
                        "--tag-prefix", f"{PREFIX}/"], env=docker_engine.env(),
                       capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, (f"pidvisor-image build failed ({r.returncode}) after "
                               f"{time.monotonic() - t0:.0f}s:\n{r.stdout[-6000:]}{r.stderr[-6000:]}")
    return docker_engine


@pytest.fixture(scope="module", params=list(APPS))
def app(request, stack):
    name = request.param
    c = stack.start_container(f"{PREFIX}/{name}", f"{PREFIX}-{name.replace('/', '-')}")
    c.started = time.monotonic()
    c.spec = APPS[name]
    yield c
    c.remove()


def test_pidvisor_is_pid1(app):
    assert app.sh("cat /proc/1/cmdline").split("\0")[0] == "/usr/bin/pidvisor"
    config = app.inspect()["Config"]
    assert config["Entrypoint"] == ["/usr/bin/pidvisor"]
    assert config["Healthcheck"]["Test"] == ["CMD", "pidvisor", "check"]


def test_no_package_cache_left(app):
    # every layer installed its packages in one RUN that also removed apt's caches
    left = app.sh("ls /var/cache/apt/archives/ /var/lib/apt/lists/; ls /var/cache/apt/*.bin "
                  "2>/dev/null; true").split()
    assert [f for f in left if f.endswith((".deb", ".bin", "Packages", "Release"))] == [], left


def test_programs_running(app):
    status = app.wait_running(app.spec["programs"])
    assert sorted(status) == sorted(app.spec["programs"])
    r = app.exec("supervisorctl", "status", check=False)
    assert r.returncode == 0 and r.stdout.count("RUNNING") == len(app.spec["programs"]), r.stdout


def test_app_answers_on_loopback(app):
    app.wait_running(app.spec["programs"])
    app.spec["probe"](app)


def test_healthy(app):
    left = 15 - (time.monotonic() - app.started)
    app.wait_health("healthy", timeout=max(left, 1))


def test_app_stdout_in_docker_logs(app):
    app.wait_running(app.spec["programs"])
    app.spec["probe"](app)
    deadline = time.monotonic() + 5
    while not re.search(app.spec["log_line"], app.logs()):
        assert time.monotonic() < deadline, f"no /{app.spec['log_line']}/ in docker logs:\n" \
            + app.logs()[-3000:]
        time.sleep(0.2)


def test_supervisorctl_restart(app):
    name = app.spec["restart"]
    before = app.wait_running(app.spec["programs"])[name][1]
    r = app.exec("supervisorctl", "restart", name, check=False)
    assert r.returncode == 0 and r.stdout == f"{name}: stopped\n{name}: started\n", r.stdout
    after = app.wait_running([name])[name][1]
    assert after != before
    app.spec["probe"](app)


def test_killed_program_restarts(app):
    name = app.spec["kill"]
    before = app.wait_running(app.spec["programs"])[name][1]
    app.exec("kill", "-9", str(before))
    deadline = time.monotonic() + 15
    while True:
        state, pid = app.status()[name]
        if state == "RUNNING" and pid != before:
            break
        assert time.monotonic() < deadline, f"{name} not restarted: {app.status()}"
        time.sleep(0.2)
    app.spec["probe"](app)
    app.wait_health("healthy", timeout=10)


def test_docker_stop(app):
    """Last: stops the container. Every program stopped, in reverse priority."""
    app.wait_running(app.spec["programs"])
    _, code = app.stop()
    logs = app.logs()
    assert code == 0, logs[-3000:]
    assert app.stop_was_clean(), app.logs()[-3000:]
    at_exit = logs[logs.rindex("received SIGTERM"):]
    assert stopped_order(at_exit) == app.spec["programs"][::-1], at_exit[-3000:]
