"""
Helpers of the SCIM integration tests: the SCIM schema URNs, a server with
the admin API's root key (on tessera_itest's Server and stores), a SCIM
client for one account, and the SCIM error check.
"""
import json
import uuid

import requests

import tessera_itest as T

BIN = T.EXE
SLOW = T.SCALE
SCIM_JSON = "application/scim+json"
USER = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"
ENT = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
PATCHOP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
ERROR = "urn:ietf:params:scim:api:messages:2.0:Error"
LIST = "urn:ietf:params:scim:api:messages:2.0:ListResponse"


def run(*args):
    """`tessera ARGS`, which must succeed; its standard output."""
    p = T.run_cli(*args, timeout=120)
    assert p.returncode == 0, "tessera %s: %s" % (" ".join(args), p.stderr)
    return p.stdout


class Server:
    """`tessera init` + `tessera serve` on db (a SQLite file or a PostgreSQL URL) in workdir."""

    def __init__(self, db, workdir, extra_args=()):
        self.db = db
        self.dir = str(workdir)
        self.store = T.UrlStore(db, self.dir)
        self.key = self.store.key
        self.root = self.store.init()
        self.nodes = [T.Server(self.store, root_token=self.root, extra_args=extra_args).start()]
        self.url = self.nodes[0].url
        self.port = self.nodes[0].port

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

    def log_text(self):
        """Everything the servers wrote (standard output and error)."""
        return "".join(n.stdout() + n.stderr() for n in self.nodes)

    def stop(self):
        problems = []
        for n in self.nodes:
            problems.extend(n.shutdown_problems())
        assert not problems, problems


class Balanced(Server):
    """
    Two nodes on one PostgreSQL database behind nginx (tessera_itest.Cluster);
    the SCIM client talks to the balancer only.
    """

    def __init__(self, db, workdir):
        self.db = db
        self.dir = str(workdir)
        self.cluster = T.Cluster(db, self.dir, nodes=2)
        self.store = self.cluster.store
        self.key = self.store.key
        self.root = self.cluster.root
        self.nodes = self.cluster.nodes
        self.url = self.cluster.url
        self.port = self.cluster.nginx.port

    def stop(self):
        # the run went through the balancer, to both nodes
        served = [sum(1 for l in n.stderr().splitlines() if '"path":"/scim/v2' in l and '"via":"127.0.0.1"' in l)
                  for n in self.cluster.nodes]
        problems = self.cluster.destroy()
        assert not problems, problems
        assert all(k > 0 for k in served), served


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


def assert_error(r, status, scim_type=None):
    """A SCIM error answer (RFC 7644 §3.12): the status and the Error schema."""
    assert r.status_code == status, (r.status_code, r.text)
    body = r.json()
    assert body["schemas"] == [ERROR], body
    assert body["status"] == str(status), body
    if scim_type is not None:
        assert body.get("scimType") == scim_type, body
    return body
