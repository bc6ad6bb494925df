"""pidvisor-image compose and k8s: the files they write, checked field by field against what
docker stack deploy and the Kubernetes API require, and the numbers computed from the stack."""
import re
import subprocess
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent.parent
IMAGE = ROOT / "build" / "pidvisor-image"
FIXTURES = Path(__file__).resolve().parent / "fixtures"
STACK = FIXTURES / "deploy.yaml"
EXAMPLE = ROOT / "Dockerfile.examples" / "stack.yaml"
DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
# web: the pool group's longest stopwaitsecs (30) + sshd's 4, then the 5 s margin
WEB_GRACE = 30 + 4 + 5


def run(*args):
    p = subprocess.run([str(IMAGE), *map(str, args)], capture_output=True, text=True,
                       timeout=60)
    return p.returncode, p.stdout, p.stderr


def test_compose_file(tmp_path):
    out = tmp_path / "stack.yml"
    rc, stdout, err = run("compose", STACK, "-o", out, "--tag-prefix", "reg.example/")
    assert rc == 0, err
    doc = yaml.safe_load(out.read_text())
    assert doc["version"] == "3.8"
    # without names: the images nothing builds on
    assert sorted(doc["services"]) == ["app-web", "app-worker"]
    web = doc["services"]["app-web"]
    assert web["image"] == "reg.example/app/web:1.0"
    assert web["stop_grace_period"] == f"{WEB_GRACE}s"
    assert web["stop_signal"] == "SIGTERM"
    assert web["healthcheck"] == {"test": ["CMD", "pidvisor", "check", "sshd"],
                                  "interval": "3s", "timeout": "2s", "start_period": "20s",
                                  "retries": 5}
    assert web["ports"] == [
        {"target": 8080, "published": 80, "protocol": "tcp", "mode": "ingress"},
        {"target": 53, "published": 5353, "protocol": "udp", "mode": "ingress"}]
    assert web["volumes"] == ["data:/srv/data", "/etc/web:/etc/web:ro"]
    assert web["deploy"]["replicas"] == 2
    assert web["deploy"]["restart_policy"]["condition"] == "any"
    assert doc["volumes"] == {"data": {}}
    worker = doc["services"]["app-worker"]
    assert worker["stop_grace_period"] == f"{10 + 4 + 5}s"  # job's default 10 s + sshd
    assert worker["deploy"]["replicas"] == 1 and "ports" not in worker
    # stdout without -o, and only the images named
    rc, stdout, err = run("compose", STACK, "app/worker")
    assert rc == 0, err
    assert list(yaml.safe_load(stdout)["services"]) == ["app-worker"]


def deployment_required(d):
    """The fields the apps/v1 Deployment API requires, and what must agree between them."""
    assert d["apiVersion"] == "apps/v1" and d["kind"] == "Deployment"
    name = d["metadata"]["name"]
    assert DNS_LABEL.match(name)
    spec = d["spec"]
    sel = spec["selector"]["matchLabels"]
    assert sel and all(spec["template"]["metadata"]["labels"][k] == v for k, v in sel.items())
    pod = spec["template"]["spec"]
    assert isinstance(pod["terminationGracePeriodSeconds"], int)
    (c,) = pod["containers"]
    assert DNS_LABEL.match(c["name"]) and c["image"]
    assert c["imagePullPolicy"] in ("Always", "IfNotPresent", "Never")
    for p in c.get("ports", []):
        assert 1 <= p["containerPort"] <= 65535 and p["protocol"] in ("TCP", "UDP", "SCTP")
    for kind in ("startupProbe", "livenessProbe", "readinessProbe"):
        probe = c[kind]
        assert probe["exec"]["command"][:2] == ["pidvisor", "check"]
        for field in ("periodSeconds", "timeoutSeconds", "failureThreshold"):
            assert isinstance(probe[field], int) and probe[field] >= 1
    vols = {v["name"] for v in pod.get("volumes", [])}
    for m in c.get("volumeMounts", []):
        assert m["name"] in vols and m["mountPath"].startswith("/")
    for v in pod.get("volumes", []):
        assert DNS_LABEL.match(v["name"])
        assert len(set(v) & {"persistentVolumeClaim", "hostPath", "emptyDir"}) == 1
    return pod, c


def service_required(s, deployment):
    assert s["apiVersion"] == "v1" and s["kind"] == "Service"
    assert DNS_LABEL.match(s["metadata"]["name"])
    assert s["spec"]["selector"] == deployment["spec"]["selector"]["matchLabels"]
    names = [p["name"] for p in s["spec"]["ports"]]
    assert len(set(names)) == len(names) and all(DNS_LABEL.match(n) for n in names)
    for p in s["spec"]["ports"]:
        assert 1 <= p["port"] <= 65535 and p["protocol"] in ("TCP", "UDP", "SCTP")


def test_k8s_manifests(tmp_path):
    rc, stdout, err = run("k8s", STACK, "-o", tmp_path / "k8s")
    assert rc == 0, err
    assert sorted(p.name for p in (tmp_path / "k8s").iterdir()) == ["app-web.yaml",
                                                                    "app-worker.yaml"]
    dep, svc = yaml.safe_load_all((tmp_path / "k8s/app-web.yaml").read_text())
    pod, c = deployment_required(dep)
    service_required(svc, dep)
    assert dep["spec"]["replicas"] == 2
    assert pod["terminationGracePeriodSeconds"] == WEB_GRACE
    assert pod["securityContext"] == {"runAsUser": 1000, "runAsGroup": 1000,
                                      "runAsNonRoot": True}
    assert c["image"] == "app/web:1.0"
    assert [(p["containerPort"], p["protocol"]) for p in c["ports"]] == [
        (22, "TCP"), (8080, "TCP"), (53, "UDP")]
    assert [(p["port"], p["targetPort"]) for p in svc["spec"]["ports"]] == [
        (22, 22), (80, 8080), (5353, 53)]
    # each probe in its mode (docs/pidvisor-check.1): liveness restarts the container only when
    # an essential program is dead for good, readiness and startup want everything up
    live = c["livenessProbe"]
    assert live["exec"]["command"] == ["pidvisor", "check", "--alive", "sshd"]
    assert (live["periodSeconds"], live["timeoutSeconds"], live["failureThreshold"]) == (3, 2, 5)
    # startup: w1's startsecs 45 > start_period 20: ceil(45 / 3) periods, then the retries
    assert c["startupProbe"]["failureThreshold"] == 15 + 5
    assert c["readinessProbe"]["exec"]["command"] == ["pidvisor", "check", "--ready", "sshd"]
    assert c["startupProbe"]["exec"]["command"] == ["pidvisor", "check", "--ready", "sshd"]
    assert {m["mountPath"]: m.get("readOnly", False) for m in c["volumeMounts"]} == {
        "/srv/data": False, "/etc/web": True}
    by_name = {v["name"]: v for v in pod["volumes"]}
    assert by_name["data"]["persistentVolumeClaim"]["claimName"] == "data"
    assert [v["hostPath"]["path"] for v in pod["volumes"] if "hostPath" in v] == ["/etc/web"]

    # a user by name: no securityContext Kubernetes would refuse, a note instead; the base's
    # port 22 is the worker's too
    text = (tmp_path / "k8s/app-worker.yaml").read_text()
    dep, svc = yaml.safe_load_all(text)
    pod, c = deployment_required(dep)
    service_required(svc, dep)
    assert "securityContext" not in pod and "user 'www-data'" in text
    assert [p["port"] for p in svc["spec"]["ports"]] == [22]


def test_k8s_no_ports_no_service_no_healthcheck(tmp_path):
    stack = tmp_path / "s.yaml"
    stack.write_text("images:\n  a:\n    from: debian:bookworm\n    healthcheck: none\n"
                     "    user: root\n")
    rc, _, err = run("k8s", stack, "-o", tmp_path / "k")
    assert rc == 0, err
    docs = list(yaml.safe_load_all((tmp_path / "k/a.yaml").read_text()))
    assert len(docs) == 1
    pod = docs[0]["spec"]["template"]["spec"]
    assert pod["terminationGracePeriodSeconds"] == 5 and pod["securityContext"] == {
        "runAsUser": 0}
    assert not [k for k in pod["containers"][0] if k.endswith("Probe")]
    rc, out, err = run("compose", stack)
    assert rc == 0, err
    assert yaml.safe_load(out)["services"]["a"]["healthcheck"] == {"disable": True}


def test_example_stack_manifests_are_complete(tmp_path):
    rc, _, err = run("k8s", EXAMPLE, "-o", tmp_path)
    assert rc == 0, err
    files = sorted(tmp_path.iterdir())
    assert len(files) == 3
    for f in files:
        docs = list(yaml.safe_load_all(f.read_text()))
        deployment_required(docs[0])
        if len(docs) > 1:
            service_required(docs[1], docs[0])
    rc, out, err = run("compose", EXAMPLE)
    assert rc == 0, err
    # sshd, php-fpm and nginx: three groups at the default 10 s each
    assert yaml.safe_load(out)["services"]["app-php-site"]["stop_grace_period"] == "35s"


def test_errors(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("images:\n  a:\n    from: debian:bookworm\n    programs:\n"
                   "      p: {command: /bin/p, stopwaitsecs: \"%(ENV_W)s\"}\n")
    rc, out, err = run("compose", bad)
    assert rc == 2 and "a p: stopwaitsecs '%(ENV_W)s': a grace period needs a plain number" \
        in err and out == ""
    # two images built on it: still said once
    bad.write_text(bad.read_text() + "  b: {from: a}\n  c: {from: a}\n")
    rc, out, err = run("compose", bad)
    assert rc == 2 and err.count("grace period needs") == 1, err
    rc, _, err = run("k8s", STACK)
    assert rc == 2 and "-o DIR is required" in err
    rc, _, err = run("compose", STACK, "app/nothing")
    assert rc == 2 and "no image 'app/nothing'" in err
    bad.write_text("images:\n  a:\n    from: debian:bookworm\n"
                   "    deploy: {replicas: many, ports: [\"80:\"], volumes: [data], extra: 1}\n")
    rc, out, err = run("compose", bad)
    assert rc == 2
    assert "a deploy.replicas: 'many' is not an integer" in err
    assert "a deploy.ports: '80:' is not PORT or PUBLISHED:PORT" in err
    assert "a deploy.volumes: 'data' is not SOURCE:/path[:ro]" in err
    assert "extra" in err
    rc, _, err = run("compose", STACK, "--no-cache")
    assert rc == 2 and "--no-cache does not apply" in err
