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


STANDARD_LABELS = {"app.kubernetes.io/name", "app.kubernetes.io/instance",
                   "app.kubernetes.io/managed-by"}


def deployment_required(d):
    """The fields the apps/v1 Deployment (or StatefulSet) API requires, what must agree between
    them, and what every manifest carries: the standard labels, resources, a tagged image,
    probes a kubelet runs sanely (periods of 10 s at least, each timeout below its period)."""
    assert d["apiVersion"] == "apps/v1" and d["kind"] in ("Deployment", "StatefulSet")
    if d["kind"] == "StatefulSet":
        assert DNS_LABEL.match(d["spec"]["serviceName"])
    name = d["metadata"]["name"]
    assert DNS_LABEL.match(name)
    assert STANDARD_LABELS <= set(d["metadata"]["labels"])
    spec = d["spec"]
    sel = spec["selector"]["matchLabels"]
    assert sel and all(spec["template"]["metadata"]["labels"][k] == v for k, v in sel.items())
    assert STANDARD_LABELS <= set(spec["template"]["metadata"]["labels"])
    pod = spec["template"]["spec"]
    assert isinstance(pod["terminationGracePeriodSeconds"], int)
    (c,) = pod["containers"]
    assert DNS_LABEL.match(c["name"]) and c["image"]
    assert re.search(r":[\w][\w.-]*$", c["image"].rsplit("/", 1)[-1]), c["image"]
    assert c["imagePullPolicy"] in ("Always", "IfNotPresent", "Never")
    assert c["resources"]["requests"]["cpu"] and c["resources"]["requests"]["memory"]
    assert c["resources"]["limits"]["memory"]
    for p in c.get("ports", []):
        assert 1 <= p["containerPort"] <= 65535 and p["protocol"] in ("TCP", "UDP", "SCTP")
    for kind in ("startupProbe", "livenessProbe", "readinessProbe"):
        probe = c[kind]
        assert probe["exec"]["command"][:2] == ["pidvisor", "check"]
        for field in ("periodSeconds", "timeoutSeconds", "failureThreshold"):
            assert isinstance(probe[field], int) and probe[field] >= 1
        assert probe["periodSeconds"] >= 10 and probe["timeoutSeconds"] < probe["periodSeconds"]
    vols = {v["name"] for v in pod.get("volumes", [])}
    vols |= {t["metadata"]["name"] for t in spec.get("volumeClaimTemplates", [])}
    for m in c.get("volumeMounts", []):
        assert m["name"] in vols and m["mountPath"].startswith("/")
    for v in pod.get("volumes", []):
        assert DNS_LABEL.match(v["name"])
        assert len(set(v) & {"persistentVolumeClaim", "hostPath", "emptyDir"}) == 1
    return pod, c


def restricted(d):
    """Pod Security Standards, "restricted" profile (and "baseline", which it includes), on the
    fields a pidvisor-image manifest can set; returns what violates it."""
    pod = d["spec"]["template"]["spec"]
    psc = pod.get("securityContext", {})
    bad = []
    if pod.get("hostNetwork") or pod.get("hostPID") or pod.get("hostIPC"):
        bad.append("host namespaces")
    for v in pod.get("volumes", []):
        allowed = {"name", "configMap", "csi", "downwardAPI", "emptyDir", "ephemeral",
                   "persistentVolumeClaim", "projected", "secret"}
        if set(v) - allowed:
            bad.append(f"volume {v['name']}: {sorted(set(v) - allowed)}")
    if psc.get("runAsUser") == 0:
        bad.append("pod runAsUser 0")
    for c in pod["containers"]:
        csc = c.get("securityContext", {})
        if csc.get("privileged"):
            bad.append("privileged")
        if csc.get("allowPrivilegeEscalation") is not False:
            bad.append("allowPrivilegeEscalation not false")
        if not csc.get("runAsNonRoot", psc.get("runAsNonRoot")):
            bad.append("runAsNonRoot not true")
        if csc.get("runAsUser", psc.get("runAsUser")) == 0:
            bad.append("runAsUser 0")
        seccomp = csc.get("seccompProfile", psc.get("seccompProfile", {})).get("type")
        if seccomp not in ("RuntimeDefault", "Localhost"):
            bad.append(f"seccompProfile {seccomp}")
        caps = csc.get("capabilities", {})
        if "ALL" not in caps.get("drop", []):
            bad.append("capabilities not dropping ALL")
        if set(caps.get("add", [])) - {"NET_BIND_SERVICE"}:
            bad.append(f"capabilities added: {caps['add']}")
        for p in c.get("ports", []):
            if p.get("hostPort"):
                bad.append("hostPort")
    return bad


def service_required(s, deployment):
    assert s["apiVersion"] == "v1" and s["kind"] == "Service"
    assert DNS_LABEL.match(s["metadata"]["name"])
    assert s["spec"]["selector"] == deployment["spec"]["selector"]["matchLabels"]
    names = [p["name"] for p in s["spec"]["ports"]]
    assert len(set(names)) == len(names) and all(DNS_LABEL.match(n) for n in names)
    for p in s["spec"]["ports"]:
        assert 1 <= p["port"] <= 65535 and p["protocol"] in ("TCP", "UDP", "SCTP")


def by_kind(path):
    docs = list(yaml.safe_load_all(path.read_text()))
    kinds = [d["kind"] for d in docs]
    assert len(set(kinds)) == len(kinds) or set(kinds) == {"PersistentVolumeClaim"}, kinds
    return {d["kind"]: d for d in docs}, docs


def test_k8s_manifests(tmp_path):
    rc, stdout, err = run("k8s", STACK, "-o", tmp_path / "k8s")
    assert rc == 0, err
    assert sorted(p.name for p in (tmp_path / "k8s").iterdir()) == ["app-web.yaml",
                                                                    "app-worker.yaml"]
    # two replicas and a named volume: a StatefulSet, each replica with its own claim
    docs, _ = by_kind(tmp_path / "k8s/app-web.yaml")
    assert sorted(docs) == ["Service", "StatefulSet"]
    dep, svc = docs["StatefulSet"], docs["Service"]
    pod, c = deployment_required(dep)
    service_required(svc, dep)
    assert dep["spec"]["replicas"] == 2 and dep["spec"]["serviceName"] == "app-web"
    (claim,) = dep["spec"]["volumeClaimTemplates"]
    assert claim["metadata"]["name"] == "data"
    assert claim["spec"]["accessModes"] == ["ReadWriteOnce"]
    assert claim["spec"]["resources"]["requests"]["storage"]
    assert pod["terminationGracePeriodSeconds"] == WEB_GRACE
    assert pod["securityContext"] == {"runAsUser": 1000, "runAsGroup": 1000,
                                      "runAsNonRoot": True,
                                      "seccompProfile": {"type": "RuntimeDefault"}}
    assert c["image"] == "app/web:1.0"
    assert dep["metadata"]["labels"]["app.kubernetes.io/version"] == "1.0"
    assert c["resources"] == {"requests": {"cpu": "100m", "memory": "128Mi"},
                              "limits": {"memory": "512Mi"}}
    assert [(p["containerPort"], p["protocol"]) for p in c["ports"]] == [
        (22, "TCP"), (8080, "TCP"), (53, "UDP")]
    # only the ports deploy.ports publishes: the base's sshd (expose: 22) is not in it
    assert [(p["port"], p["targetPort"]) for p in svc["spec"]["ports"]] == [
        (80, 8080), (5353, 53)]
    # each probe in its mode (docs/pidvisor-check.1): liveness restarts the container only when
    # an essential program is dead for good, readiness and startup want everything up
    live = c["livenessProbe"]
    assert live["exec"]["command"] == ["pidvisor", "check", "--alive", "sshd"]
    # interval 3s: Kubernetes' probes at 10 s at least; the timeout (2s) below it
    assert (live["periodSeconds"], live["timeoutSeconds"], live["failureThreshold"]) == (10, 2, 5)
    # startup: w1's startsecs 45 > start_period 20: ceil(45 / 10) periods, then the retries
    assert c["startupProbe"]["failureThreshold"] == 5 + 5
    assert c["readinessProbe"]["exec"]["command"] == ["pidvisor", "check", "--ready", "sshd"]
    assert c["startupProbe"]["exec"]["command"] == ["pidvisor", "check", "--ready", "sshd"]
    assert {m["mountPath"]: m.get("readOnly", False) for m in c["volumeMounts"]} == {
        "/srv/data": False, "/etc/web": True}
    assert [v["hostPath"]["path"] for v in pod["volumes"] if "hostPath" in v] == ["/etc/web"]
    assert not [v for v in pod["volumes"] if "persistentVolumeClaim" in v]
    assert restricted(dep)  # not hardened: root-capable, the checker says so

    # a user by name: no runAsUser Kubernetes would refuse, a note instead; no deploy.ports,
    # no Service
    text = (tmp_path / "k8s/app-worker.yaml").read_text()
    docs, _ = by_kind(tmp_path / "k8s/app-worker.yaml")
    assert sorted(docs) == ["Deployment"]
    pod, c = deployment_required(docs["Deployment"])
    assert pod["securityContext"] == {"seccompProfile": {"type": "RuntimeDefault"}}
    assert "user 'www-data'" in text


def k8s_of(tmp_path, text, name):
    """The documents `k8s` writes for image name of a stack file holding text, by kind."""
    stack = tmp_path / "s.yaml"
    stack.write_text(text)
    rc, _, err = run("k8s", stack, "-o", tmp_path / "k")
    assert rc == 0, err
    return by_kind(tmp_path / "k" / f"{name}.yaml")


def test_k8s_one_replica_named_volume_is_a_deployment_and_a_claim(tmp_path):
    docs, _ = k8s_of(tmp_path, "images:\n  db:\n    from: debian:bookworm\n    deploy: "
                     "{volumes: [\"db-data:/var/lib/db\"], cpu: \"1\", memory: 1Gi}\n", "db")
    assert sorted(docs) == ["Deployment", "PersistentVolumeClaim"]
    pod, c = deployment_required(docs["Deployment"])
    assert c["image"] == "db:latest"  # always tagged
    assert c["resources"] == {"requests": {"cpu": "1", "memory": "1Gi"},
                              "limits": {"cpu": "1", "memory": "1Gi"}}
    pvc = docs["PersistentVolumeClaim"]
    assert pvc["apiVersion"] == "v1" and pvc["metadata"]["name"] == "db-data"
    assert pvc["spec"]["accessModes"] == ["ReadWriteOnce"]
    assert pod["volumes"] == [{"name": "db-data",
                               "persistentVolumeClaim": {"claimName": "db-data"}}]
    bad = tmp_path / "bad.yaml"
    bad.write_text("images:\n  db:\n    from: debian:bookworm\n    hardened: maybe\n"
                   "    deploy: {cpu: lots, memory: 1GB, capabilities: [cap_net_raw]}\n")
    rc, _, err = run("k8s", bad, "-o", tmp_path / "k2")
    assert rc == 2
    assert "db hardened: 'maybe' is not true or false" in err
    assert "db deploy.cpu: 'lots' is not a quantity" in err
    assert "db deploy.memory: '1GB' is not a quantity" in err
    assert "db deploy.capabilities: 'cap_net_raw' is not a capability name" in err


def test_k8s_no_ports_no_service_no_healthcheck(tmp_path):
    _, docs = k8s_of(tmp_path, "images:\n  a:\n    from: debian:bookworm\n"
                     "    healthcheck: none\n    user: root\n", "a")
    assert len(docs) == 1
    pod = docs[0]["spec"]["template"]["spec"]
    assert pod["terminationGracePeriodSeconds"] == 5 and pod["securityContext"] == {
        "runAsUser": 0, "seccompProfile": {"type": "RuntimeDefault"}}
    assert not [k for k in pod["containers"][0] if k.endswith("Probe")]
    rc, out, err = run("compose", tmp_path / "s.yaml")
    assert rc == 0, err
    assert yaml.safe_load(out)["services"]["a"]["healthcheck"] == {"disable": True}


def test_example_stack_manifests_are_complete(tmp_path):
    rc, _, err = run("k8s", EXAMPLE, "-o", tmp_path)
    assert rc == 0, err
    files = sorted(p.name for p in tmp_path.iterdir())
    assert files == ["app-php-site.yaml", "app-shop-api.yaml", "app-shop-hardened.yaml",
                     "runtime-tomcat.yaml"]
    for f in files:
        docs, _ = by_kind(tmp_path / f)
        work = docs.get("Deployment") or docs["StatefulSet"]
        deployment_required(work)
        # each app publishes its port, and only that: sshd's 22 stays inside
        service_required(docs["Service"], work)
        assert 22 not in [p["port"] for p in docs["Service"]["spec"]["ports"]]
    rc, out, err = run("compose", EXAMPLE)
    assert rc == 0, err
    services = yaml.safe_load(out)["services"]
    # sshd, php-fpm and nginx: three groups at the default 10 s each
    assert services["app-php-site"]["stop_grace_period"] == "35s"
    # a port without PUBLISHED: the engine picks the host's
    assert services["app-shop-api"]["ports"] == [
        {"target": 8080, "protocol": "tcp", "mode": "ingress"}]
    for svc in services.values():
        assert svc["restart"] == "unless-stopped"
        assert svc["deploy"]["restart_policy"]["condition"] == "any"
    assert "read_only" not in services["app-shop-api"]
    assert "resources" not in services["app-shop-api"]["deploy"]


def test_example_hardened_image_is_restricted(tmp_path):
    """app/shop-hardened against Pod Security "restricted": the checker finds nothing, and the
    writable paths are emptyDirs under a read-only root."""
    rc, _, err = run("k8s", EXAMPLE, "app/shop-hardened", "-o", tmp_path)
    assert rc == 0, err
    docs, _ = by_kind(tmp_path / "app-shop-hardened.yaml")
    dep = docs["Deployment"]
    pod, c = deployment_required(dep)
    assert restricted(dep) == []
    psc, csc = pod["securityContext"], c["securityContext"]
    assert psc == {"runAsUser": 10001, "runAsGroup": 10001, "fsGroup": 10001,
                   "runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}}
    assert csc == {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True,
                   "capabilities": {"drop": ["ALL"]}}
    empty = {v["name"] for v in pod["volumes"] if "emptyDir" in v}
    mounts = {m["mountPath"] for m in c["volumeMounts"] if m["name"] in empty}
    assert mounts == {"/tmp", "/run"}
    assert c["resources"] == {"requests": {"cpu": "500m", "memory": "256Mi"},
                              "limits": {"cpu": "500m", "memory": "256Mi"}}
    assert c["livenessProbe"]["exec"]["command"] == ["pidvisor", "check", "--alive"]
    assert [(p["port"], p["targetPort"]) for p in docs["Service"]["spec"]["ports"]] == [
        (8080, 8080)]
    # the checker can fail: the same manifest with one field of the profile taken away
    c["securityContext"]["allowPrivilegeEscalation"] = True
    del pod["securityContext"]["runAsNonRoot"]
    assert restricted(dep) == ["allowPrivilegeEscalation not false", "runAsNonRoot not true"]


def test_hardened_compose_and_contexts(tmp_path):
    rc, out, err = run("compose", EXAMPLE, "app/shop-hardened")
    assert rc == 0, err
    svc = yaml.safe_load(out)["services"]["app-shop-hardened"]
    assert svc["read_only"] is True and svc["cap_drop"] == ["ALL"] and "cap_add" not in svc
    assert {"type": "tmpfs", "target": "/tmp"} in svc["volumes"]
    assert {"type": "tmpfs", "target": "/run"} in svc["volumes"]
    assert svc["image"] == "app/shop-hardened:latest"
    assert svc["healthcheck"]["test"] == ["CMD", "pidvisor", "check"]
    # deploy.cpu 500m and memory 256Mi as docker reads them (docker stack deploy refuses "Mi")
    assert svc["deploy"]["resources"] == {"limits": {"cpus": "0.5", "memory": "268435456"}}
    # the image: a non-root USER, and the control socket and pidfile in /tmp (an empty
    # root-owned tmpfs on /run hides anything the image puts there from uid 10001)
    rc, _, err = run("generate", EXAMPLE, "app/shop-hardened", "-o", tmp_path / "g",
                     "--pidvisor", IMAGE)
    assert rc == 0, err
    ctx = tmp_path / "g" / "app-shop-hardened"
    dockerfile = (ctx / "Dockerfile").read_text().splitlines()
    assert "USER 10001:10001" in dockerfile
    assert dockerfile.index("USER 10001:10001") > max(
        i for i, line in enumerate(dockerfile) if line.startswith(("RUN apt", "COPY")))
    assert "COPY supervisord.conf /etc/supervisor/supervisord.conf" in dockerfile
    conf = (ctx / "supervisord.conf").read_text()
    assert "file=/tmp/pidvisor.sock" in conf and "serverurl=unix:///tmp/pidvisor.sock" in conf
    assert "pidfile=/tmp/pidvisor.pid" in conf
    # its root, not hardened, keeps /run/pidvisor
    base = (tmp_path / "g" / "system-base" / "supervisord.conf").read_text()
    assert "file=/run/pidvisor/supervisor.sock" in base


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


def test_hardened_option(tmp_path):
    """--hardened hardens every image that does not say otherwise: lint then names what stops
    the example's sshd-based images, k8s writes the restricted fields; plan does not take it."""
    rc, out, _ = run("lint", EXAMPLE)
    assert rc == 0, out
    rc, out, _ = run("lint", EXAMPLE, "--hardened")
    assert rc == 1
    assert re.search(r"stack\.yaml:\d+: system/ssh programs\.sshd\.command: hardened: sshd "
                     r"needs root", out), out
    assert "app/shop-api programs.shop.user: hardened: switching to 'www-data'" in out
    assert "app/shop-hardened" not in out
    rc, _, err = run("k8s", STACK, "app/worker", "-o", tmp_path / "k", "--hardened")
    assert rc == 0, err
    docs, _ = by_kind(tmp_path / "k" / "app-worker.yaml")
    c = docs["Deployment"]["spec"]["template"]["spec"]["containers"][0]
    assert c["securityContext"]["readOnlyRootFilesystem"] is True
    rc, _, err = run("k8s", STACK, "app/worker", "-o", tmp_path / "k")
    assert rc == 0, err
    docs, _ = by_kind(tmp_path / "k" / "app-worker.yaml")
    assert "securityContext" not in docs["Deployment"]["spec"]["template"]["spec"][
        "containers"][0]
    rc, _, err = run("plan", STACK, "--hardened")
    assert rc == 2 and "--hardened does not apply" in err
