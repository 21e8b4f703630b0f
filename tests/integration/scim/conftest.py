"""
Fixtures of the SCIM suite (own fixtures, so as not to collide with the
admin API suite in tests/integration/).

  backend   "sqlite" or "postgres": every test runs on both
  server    one `tessera serve` per backend per session (init + serve on a fresh store)
  scim      per test: a fresh account, an API key for it, and a client for /scim/v2
"""
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid

import pytest
import requests

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
BIN = os.environ.get("TESSERA_BIN", os.path.join(REPO, "build", "tessera"))
SLOW = 3.0 if b"__asan_init" in open(BIN, "rb").read() else 1.0
SCIM_JSON = "application/scim+json"
USER = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"
ENT = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
PATCHOP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
ERROR = "urn:ietf:params:scim:api:messages:2.0:Error"
LIST = "urn:ietf:params:scim:api:messages:2.0:ListResponse"


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def run(*args):
    env = {k: v for k, v in os.environ.items() if not k.startswith("TESSERA_") or k.startswith("TESSERA_TEST")}
    p = subprocess.run([BIN, *args], capture_output=True, text=True, timeout=120 * SLOW, env=env)
    assert p.returncode == 0, "tessera %s: %s" % (" ".join(args), p.stderr)
    assert "Sanitizer" not in p.stderr and "runtime error" not in p.stderr, p.stderr
    return p.stdout


class Server:
    def __init__(self, db, workdir, extra_args=()):
        self.db = db
        self.dir = workdir
        self.key = os.path.join(workdir, "master.key")
        self.root = json.loads(run("init", "--db", db, "--master-key-file", self.key, "--json"))["Token"]
        self.port = free_port()
        self.url = "http://127.0.0.1:%d" % self.port
        self.log = open(os.path.join(workdir, "server.log"), "w+")
        self.proc = subprocess.Popen(
            [BIN, "serve", "--db", db, "--master-key-file", self.key, "--listen", "127.0.0.1:%d" % self.port,
             *extra_args],
            stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.time() + 30 * SLOW
        while time.time() < deadline:
            try:
                if requests.get(self.url + "/healthz", timeout=2).status_code == 200:
                    break
            except requests.RequestException:
                pass
            time.sleep(0.1)
        else:
            raise RuntimeError("server did not start")

    def admin(self, method, path, body=None):
        return requests.request(method, self.url + "/api/v1" + path, json=body,
                                headers={"Authorization": "Bearer " + self.root}, timeout=60 * SLOW)

    def new_account(self, profile=None):
        r = self.admin("POST", "/accounts", {"Name": "scim-" + uuid.uuid4().hex[:8], "AccountType": "Enterprise"})
        assert r.status_code in (200, 201), r.text
        acct = r.json()["Account"]["AccountId"]
        if profile:
            r = self.admin("PUT", "/accounts/%s/settings" % acct, {"AccountSettings": {"ScimCompatibility": profile}})
            assert r.status_code in (200, 204), r.text
        r = self.admin("POST", "/accounts/%s/api-keys" % acct, {"Description": "test"})
        assert r.status_code == 201, r.text
        return acct, r.json()["ApiKey"]

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(30 * SLOW)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.log.seek(0)
        text = self.log.read()
        self.log.close()
        assert "Sanitizer" not in text and "runtime error" not in text, text


class Scim:
    """A SCIM client for one account."""

    def __init__(self, server, account, key):
        self.server = server
        self.account = account
        self.key_id = key["ApiKeyId"]
        self.token = key["Token"]
        self.base = server.url + "/scim/v2"
        self.s = requests.Session()
        self.s.headers.update({"Authorization": "Bearer " + self.token, "Accept": SCIM_JSON,
                               "User-Agent": "Okta SCIM Client 1.0.0"})

    def req(self, method, path, body=None, headers=None, raw=None, params=None, token=None):
        h = {"Content-Type": SCIM_JSON}
        if headers:
            h.update(headers)
        if token is not None:
            h["Authorization"] = "Bearer " + token if token else ""
        data = raw if raw is not None else (json.dumps(body) if body is not None else None)
        r = self.s.request(method, self.base + path, data=data, headers=h, params=params, timeout=60 * SLOW)
        if r.status_code != 304 and r.content:
            assert r.headers.get("Content-Type", "").startswith(SCIM_JSON), (r.status_code, r.headers)
        return r

    def get(self, path, **kw):
        return self.req("GET", path, **kw)

    def post(self, path, body=None, **kw):
        return self.req("POST", path, body, **kw)

    def put(self, path, body=None, **kw):
        return self.req("PUT", path, body, **kw)

    def patch(self, path, ops, **kw):
        return self.req("PATCH", path, {"schemas": [PATCHOP], "Operations": ops}, **kw)

    def delete(self, path, **kw):
        return self.req("DELETE", path, **kw)

    def user(self, name=None, **extra):
        name = name or "u-%s@example.com" % uuid.uuid4().hex[:10]
        body = {"schemas": [USER], "userName": name, "name": {"givenName": "Given", "familyName": "Family"},
                "displayName": "Display " + name, "emails": [{"primary": True, "value": name, "type": "work"}],
                "active": True}
        body.update(extra)
        r = self.post("/Users", body)
        assert r.status_code == 201, r.text
        return r.json()

    def group(self, name=None, members=()):
        r = self.post("/Groups", {"schemas": [GROUP], "displayName": name or "g-" + uuid.uuid4().hex[:8],
                                  "members": [{"value": m} for m in members]})
        assert r.status_code == 201, r.text
        return r.json()

    def members(self, gid):
        r = self.get("/Groups/" + gid)
        assert r.status_code == 200, r.text
        return sorted(m["value"] for m in r.json().get("members", []))

    def filter(self, kind, f, **params):
        params["filter"] = f
        return self.get("/" + kind, params=params)


def assert_error(r, status, scim_type=None):
    assert r.status_code == status, (r.status_code, r.text)
    body = r.json()
    assert body["schemas"] == [ERROR], body
    assert body["status"] == str(status), body
    if scim_type is not None:
        assert body.get("scimType") == scim_type, body
    return body


@pytest.fixture(scope="session")
def pg_url():
    url = os.environ.get("TESSERA_TEST_PG_URL")
    d = None
    if not url:
        d = tempfile.mkdtemp(prefix="scim-pg-")
        p = subprocess.run(["sh", os.path.join(REPO, "scripts", "pg-test.sh"), "start", d],
                           capture_output=True, text=True, timeout=180)
        assert p.returncode == 0, p.stderr
        url = p.stdout.strip()
    yield url
    if d:
        subprocess.run(["sh", os.path.join(REPO, "scripts", "pg-test.sh"), "stop", d], capture_output=True)
        shutil.rmtree(d, ignore_errors=True)


class Balanced(Server):
    """
    Issue 10: two nodes on one PostgreSQL database behind nginx
    (cluster_itest.py); the SCIM client talks to the balancer only.
    """

    def __init__(self, db, workdir):
        import cluster_itest

        self.db = db
        self.dir = workdir
        self.cluster = cluster_itest.Cluster(db, workdir, nodes=2)
        self.key = self.cluster.store.key
        self.root = self.cluster.root
        self.url = self.cluster.url
        self.port = self.cluster.nginx.port

    def stop(self):
        # the run went through the balancer, to both nodes
        served = [sum(1 for l in n.stderr().splitlines() if '"path":"/scim/v2' in l and '"via":"127.0.0.1"' in l)
                  for n in self.cluster.nodes]
        problems = self.cluster.destroy()
        assert not problems, problems
        assert all(k > 0 for k in served), served


def pytest_generate_tests(metafunc):
    # every SCIM test runs on both stores; the Okta run also through a balancer
    if "server" in metafunc.fixturenames:
        params = ["sqlite", "postgres"]
        if metafunc.module.__name__.endswith("test_okta"):
            params.append(pytest.param("balanced", marks=[pytest.mark.cluster, pytest.mark.slow]))
        metafunc.parametrize("server", params, indirect=True, scope="session")


@pytest.fixture(scope="session")
def server(request, tmp_path_factory):
    work = str(tmp_path_factory.mktemp("scim-" + request.param))
    if request.param == "sqlite":
        db = os.path.join(work, "store.db")
    else:
        base = request.getfixturevalue("pg_url")
        name = "scim_" + uuid.uuid4().hex[:12]
        psql = sorted(__import__("glob").glob("/usr/lib/postgresql/*/bin/psql"))[-1]
        subprocess.run([psql, base, "-q", "-c", "CREATE DATABASE %s" % name], check=True, capture_output=True)
        db = base.rsplit("/", 1)[0] + "/" + name
    srv = Balanced(db, work) if request.param == "balanced" else Server(db, work)
    srv.backend = request.param
    yield srv
    srv.stop()


@pytest.fixture
def scim(server):
    acct, key = server.new_account()
    return Scim(server, acct, key)


@pytest.fixture
def strict(server):
    acct, key = server.new_account("aws-strict")
    return Scim(server, acct, key)
