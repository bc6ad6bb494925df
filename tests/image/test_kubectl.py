"""pidvisor-image k8s's manifests read by the real kubectl: `kubectl apply --dry-run=client
--validate=false`, as the issue asks. A client-side dry run still asks the API server what
kinds it serves (discovery) and whether the objects exist (a GET each), so the test answers
those on loopback with what a Kubernetes 1.20+ API server answers: the core v1 and apps/v1
resource lists, and 404 for every object. kubectl then decodes every document, maps its kind
and apiVersion to a resource and prints what it would create."""
import json
import shutil
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent.parent
IMAGE = ROOT / "build" / "pidvisor-image"
FIXTURES = Path(__file__).resolve().parent / "fixtures"


def resource(name, kind, namespaced=True):
    return {"name": name, "singularName": kind.lower(), "namespaced": namespaced, "kind": kind,
            "verbs": ["create", "delete", "get", "list", "patch", "update", "watch"]}


DISCOVERY = {
    "/api": {"kind": "APIVersions", "versions": ["v1"],
             "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0",
                                             "serverAddress": "127.0.0.1"}]},
    "/apis": {"kind": "APIGroupList", "apiVersion": "v1", "groups": [
        {"name": "apps", "versions": [{"groupVersion": "apps/v1", "version": "v1"}],
         "preferredVersion": {"groupVersion": "apps/v1", "version": "v1"}}]},
    "/api/v1": {"kind": "APIResourceList", "groupVersion": "v1", "resources": [
        resource("services", "Service"), resource("namespaces", "Namespace", False),
        resource("configmaps", "ConfigMap"),
        resource("persistentvolumeclaims", "PersistentVolumeClaim")]},
    "/apis/apps/v1": {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": "apps/v1",
                      "resources": [resource("deployments", "Deployment"),
                                    resource("statefulsets", "StatefulSet")]},
}


class Discovery(BaseHTTPRequestHandler):
    seen = []

    def do_GET(self):
        path = self.path.split("?")[0]
        self.seen.append(path)
        body = DISCOVERY.get(path)
        code = 200
        if body is None:
            code = 404
            body = {"kind": "Status", "apiVersion": "v1", "status": "Failure",
                    "reason": "NotFound", "code": 404, "message": f"{path} not found"}
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


@pytest.fixture
def api():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Discovery)
    t = threading.Thread(target=server.serve_forever, daemon=True)
    t.start()
    Discovery.seen = []
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def kubectl(api, tmp_path, *args):
    kubectl = shutil.which("kubectl")
    assert kubectl, "kubectl missing: packaging/install-deps.sh image installs kubernetes-client"
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "KUBECONFIG": "/dev/null"}
    return subprocess.run([kubectl, "--server", api, "--cache-dir", str(tmp_path / "cache"),
                           *args], capture_output=True, text=True, timeout=60, env=env)


@pytest.mark.parametrize("stack,images,objects", [
    # app/web: two replicas with a named volume, a StatefulSet; app/worker publishes nothing
    (FIXTURES / "deploy.yaml", [], ["statefulset.apps/app-web", "service/app-web",
                                    "deployment.apps/app-worker"]),
    (ROOT / "Dockerfile.examples" / "stack.yaml", ["app/shop-api", "app/shop-hardened"],
     ["deployment.apps/app-shop-api", "service/app-shop-api",
      "deployment.apps/app-shop-hardened", "service/app-shop-hardened"]),
])
def test_kubectl_apply_dry_run(api, tmp_path, stack, images, objects):
    out = tmp_path / "k8s"
    r = subprocess.run([str(IMAGE), "k8s", str(stack), *images, "-o", str(out)],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    r = kubectl(api, tmp_path, "apply", "--dry-run=client", "--validate=false", "-o", "name",
                "-f", str(out))
    assert r.returncode == 0, r.stdout + r.stderr
    assert sorted(r.stdout.split()) == sorted(objects), r.stdout + r.stderr
    # it asked for the objects by their resource paths: kind and apiVersion mapped
    kind, name = objects[0].split("/")
    assert f"/apis/apps/v1/namespaces/default/{kind.split('.')[0]}s/{name}" \
        in Discovery.seen, Discovery.seen


def test_kubectl_apply_claims(api, tmp_path):
    """A Deployment with its PersistentVolumeClaim: kubectl maps both."""
    stack = tmp_path / "s.yaml"
    stack.write_text("images:\n  db:\n    from: debian:bookworm\n"
                     "    deploy: {volumes: [\"db-data:/var/lib/db\"]}\n")
    out = tmp_path / "k8s"
    r = subprocess.run([str(IMAGE), "k8s", str(stack), "-o", str(out)], capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    r = kubectl(api, tmp_path, "apply", "--dry-run=client", "--validate=false", "-o", "name",
                "-f", str(out))
    assert r.returncode == 0, r.stdout + r.stderr
    assert sorted(r.stdout.split()) == ["deployment.apps/db",
                                        "persistentvolumeclaim/db-data"], r.stdout


def test_kubectl_refuses_a_broken_manifest(api, tmp_path):
    """The same run on a manifest with a kind the server does not serve fails: the test can
    fail."""
    bad = tmp_path / "bad.yaml"
    bad.write_text("apiVersion: apps/v1\nkind: Deploymnet\nmetadata: {name: x}\nspec: {}\n")
    r = kubectl(api, tmp_path, "apply", "--dry-run=client", "--validate=false", "-f", str(bad))
    assert r.returncode != 0 and "Deploymnet" in r.stderr, r.stdout + r.stderr
