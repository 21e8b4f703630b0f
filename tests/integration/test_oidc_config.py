"""An account's OpenID provider over the admin API and the CLI (docs/oidc.md "Configuration"), on
both store backends: PUT checks the issuer by fetching its discovery document and JWKS from a
loopback provider served here (a static OpenID Provider Configuration and a JWKS with an RSA key
made by the cryptography package), GET's shape with the Login Redirect URI and Initiate Login URI
for Okta, settings kept by a PUT that leaves them out (the client secret too), DELETE, the issuer
refused with a clear message when it does not answer, answers badly or names another issuer, the
policy actions, the audit events and the server's log (neither ever holds the client secret), the
secret sealed in the store, and `tessera oidc configure`."""
import base64
import http.server
import json
import subprocess
import threading

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

import tessera_itest as T
from tessera_itest import assert_error, check_cases, cli_json, run_cli

ACCOUNTS = "/api/v1/accounts"
SECRET = "s3cr3t-0kta-Client-Secret-9f8e7d6c5b4a"
SECRET2 = "second-Secret-after-rotation-1234567890"


def cfg_path(acct):
    return "%s/%s/openid-config" % (ACCOUNTS, acct)


def b64u(n):
    raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


class Provider:
    """A loopback OpenID provider's static documents: path -> (status, body), changed by tests."""

    def __init__(self, path=""):
        self.routes = {}
        self.hits = []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                outer.hits.append(self.path)
                status, body = outer.routes.get(self.path, (404, "not here"))
                data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        self.path = path
        self.issuer = "http://127.0.0.1:%d%s" % (self.port, path)
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pub = key.public_key().public_numbers()
        self.jwks = {"keys": [{"kty": "RSA", "use": "sig", "alg": "RS256", "kid": "k1",
                               "n": b64u(pub.n), "e": b64u(pub.e)}]}
        self.discovery = {
            "issuer": self.issuer,
            "authorization_endpoint": self.issuer + "/auth",
            "token_endpoint": self.issuer + "/token",
            "userinfo_endpoint": self.issuer + "/me",
            "jwks_uri": self.issuer + "/jwks",
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256", "ES256"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
            "code_challenge_methods_supported": ["S256"],
            "authorization_response_iss_parameter_supported": True,
        }
        self.publish()
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def publish(self):
        self.routes[self.path + "/.well-known/openid-configuration"] = (200, self.discovery)
        self.routes[self.path + "/jwks"] = (200, self.jwks)

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def op():
    p = Provider()
    yield p
    p.stop()


def body(op, secret=SECRET, **kw):
    b = {"Issuer": op.issuer, "ClientId": "0oa1clientid", "ClientSecret": secret}
    if secret is None:
        del b["ClientSecret"]
    b.update(kw)
    return b


def check_shape(server, acct, op, oc):
    assert set(oc) == {"AccountId", "Issuer", "ClientId", "Claim", "Scopes",
                       "RelayStateAllowList", "AllowHs256", "LoginRedirectUri",
                       "InitiateLoginUri", "Provider", "CreatedOn", "UpdatedOn"}, oc
    assert oc["AccountId"] == acct and oc["Issuer"] == op.issuer
    # what the administrator pastes into Okta
    assert oc["LoginRedirectUri"] == server.url + "/auth/oidc/callback"
    assert oc["InitiateLoginUri"] == "%s/auth/%s/oidc" % (server.url, acct)
    p = oc["Provider"]
    assert p["AuthorizationEndpoint"] == op.discovery["authorization_endpoint"]
    assert p["TokenEndpoint"] == op.discovery["token_endpoint"]
    assert p["JwksUri"] == op.discovery["jwks_uri"]
    assert p["JwksFetchedOn"]


def no_secret_anywhere(server, *secrets):
    """The client secret is in no audit event, no answer we hold, no log line, no stored column."""
    events = json.dumps(server.events())
    log = server.stderr() + server.stdout()
    for s in secrets:
        assert s not in events, "secret in the audit trail"
        assert s not in log, "secret in the server's log"
    rows, _ = server.store.sql("SELECT sealed FROM secrets WHERE owner_kind = 'oidc_client'")
    for r in rows:
        assert r[0].startswith("ts1.")
        for s in secrets:
            assert s not in r[0]
    rows, _ = server.store.sql("SELECT issuer, client_id, claim, scopes, discovery_json, "
                               "jwks_json, relay_allow FROM oidc_configs")
    for r in rows:
        for s in secrets:
            assert s not in json.dumps(r)


def test_put_get_delete(server, op):
    acct = server.create_account("corp", "Enterprise")["AccountId"]
    assert_error(server.get(cfg_path(acct)), 404, "NotFoundException")
    r = server.put(cfg_path(acct), body(op))
    assert r.status_code == 200, r.text
    oc = r.json()
    check_shape(server, acct, op, oc)
    assert "ClientSecret" not in r.text and SECRET not in r.text
    assert oc["ClientId"] == "0oa1clientid"
    assert oc["Claim"] == "email" and oc["Scopes"] == "openid email"
    assert oc["RelayStateAllowList"] == [] and oc["AllowHs256"] is False
    assert oc["Provider"]["TokenEndpointAuthMethod"] == "client_secret_basic"
    assert oc["Provider"]["IssParameterSupported"] is True
    # the provider was asked for both documents
    assert "/.well-known/openid-configuration" in op.hits and "/jwks" in op.hits
    # GET answers the same, never the secret
    g = server.get(cfg_path(acct))
    assert g.status_code == 200 and g.json() == oc
    assert SECRET not in g.text and "ClientSecret" not in g.text
    # the stored JWKS is the provider's
    rows, _ = server.store.sql("SELECT jwks_json, version FROM oidc_configs WHERE account_id = '%s'"
                               % acct)
    assert json.loads(rows[0][0]) == op.jwks and int(rows[0][1]) == 1

    # a PUT without ClientSecret keeps the stored one: the claim changes, the version moves
    r = server.put(cfg_path(acct), body(op, secret=None, Claim="preferred_username",
                                        Scopes="openid email profile", AllowHs256=True,
                                        RelayStateAllowList=["https://App.Example.com:443"]))
    assert r.status_code == 200, r.text
    oc2 = r.json()
    assert oc2["Claim"] == "preferred_username" and oc2["Scopes"] == "openid email profile"
    assert oc2["AllowHs256"] is True and oc2["RelayStateAllowList"] == ["https://app.example.com"]
    assert oc2["CreatedOn"] == oc["CreatedOn"]
    rows, _ = server.store.sql("SELECT sealed FROM secrets WHERE owner_kind = 'oidc_client' "
                               "AND owner_id = '%s'" % acct)
    sealed_before = rows[0][0]
    # settings left out are kept; a new secret replaces the sealed one
    r = server.put(cfg_path(acct), body(op, secret=SECRET2))
    assert r.status_code == 200, r.text
    assert r.json()["Claim"] == "preferred_username" and r.json()["AllowHs256"] is True
    rows, _ = server.store.sql("SELECT sealed FROM secrets WHERE owner_kind = 'oidc_client' "
                               "AND owner_id = '%s'" % acct)
    assert len(rows) == 1 and rows[0][0] != sealed_before
    rows, _ = server.store.sql("SELECT version FROM oidc_configs WHERE account_id = '%s'" % acct)
    assert int(rows[0][0]) == 3

    # audit: every call named, the members given, never the secret
    ev = server.events(eventName="UpdateAccountOpenIdConfig")
    assert len(ev) == 3
    given = [e["requestParameters"]["ClientSecretGiven"] for e in ev]
    assert sorted(given) == [False, True, True]
    for e in ev:
        assert e["requestParameters"]["Issuer"] == op.issuer
        assert "ClientSecret" not in e["requestParameters"]
    assert server.events(eventName="GetAccountWithOpenIdConfig")

    # DELETE: 204, then gone, its secret with it
    d = server.delete(cfg_path(acct))
    assert d.status_code == 204, d.text
    assert_error(server.get(cfg_path(acct)), 404, "NotFoundException")
    assert_error(server.delete(cfg_path(acct)), 404, "NotFoundException")
    assert server.events(eventName="DeleteAccountOpenIdConfig")
    assert not server.store.sql("SELECT sealed FROM secrets WHERE owner_kind = 'oidc_client'")[0]
    # configured again: the secret is required once more, and the version is never reused
    assert_error(server.put(cfg_path(acct), body(op, secret=None)), 400, "BadRequestException")
    assert server.put(cfg_path(acct), body(op)).status_code == 200
    rows, _ = server.store.sql("SELECT version FROM oidc_configs WHERE account_id = '%s'" % acct)
    assert int(rows[0][0]) == 4
    # an account that does not exist
    assert_error(server.put(cfg_path("no-such-account"), body(op)), 404, "NotFoundException")
    # a secret in the query, in any spelling, is redacted from the audit and the log
    for name in ("ClientSecret", "client_secret", "clientSecret"):
        r = server.request("GET", cfg_path(acct), params={name: SECRET2})
        assert r.status_code == 200 and SECRET2 not in r.text
    assert len(server.events(eventName="GetAccountWithOpenIdConfig")) >= 4
    no_secret_anywhere(server, SECRET, SECRET2)


def test_account_delete_takes_it(server, op):
    acct = server.create_account("corp", "Enterprise")["AccountId"]
    assert server.put(cfg_path(acct), body(op)).status_code == 200
    assert server.delete("%s/%s" % (ACCOUNTS, acct)).status_code in (200, 204)
    for table in ("oidc_configs", "oidc_states"):
        assert not server.store.sql("SELECT account_id FROM %s" % table)[0]
    assert not server.store.sql("SELECT sealed FROM secrets WHERE owner_kind = 'oidc_client'")[0]


def test_issuer_checked(server, op):
    acct = server.create_account("corp", "Enterprise")["AccountId"]
    dead = Provider()
    dead.stop()  # a port nothing answers on

    def refused(case):
        b, word = case
        r = assert_error(server.put(cfg_path(acct), b), 400, "BadRequestException")
        assert word.lower() in r["Message"].lower(), r["Message"]
        assert SECRET not in json.dumps(r)

    bad_alg_doc = dict(op.discovery, code_challenge_methods_supported=["plain"])
    check_cases([
        # not answering
        (body(op, Issuer=dead.issuer), "could not be fetched"),
        # the issuer differs from the one in the document (Discovery §4.3)
        (body(op, Issuer=op.issuer + "/"), "names issuer"),
        # no document there
        (body(op, Issuer=op.issuer + "/tenant"), "404"),
        # plain http to a host that is not loopback; not a URL; a query
        (body(op, Issuer="http://idp.example.com"), "https"),
        (body(op, Issuer="not a url"), "URL"),
        (body(op, Issuer=op.issuer + "?x=1"), "query"),
        # the members
        ({"ClientId": "x", "ClientSecret": SECRET}, "Issuer"),
        (body(op, ClientId=""), "ClientId"),
        (body(op, ClientId=7), "ClientId"),
        (body(op, secret="line\nbreak"), "ClientSecret"),
        (body(op, secret="x" * 1025), "ClientSecret"),
        (body(op, Claim="email address"), "Claim"),
        (body(op, Scopes="email profile"), "openid"),
        (body(op, Scopes="openid  email"), "Scopes"),
        (body(op, AllowHs256="yes"), "AllowHs256"),
        (body(op, RelayStateAllowList=["javascript:alert(1)"]), "origin"),
        (body(op, Extra=1), "unknown member"),
    ], refused, name=lambda c: "%.80r" % (c[0],))
    assert_error(server.request("PUT", cfg_path(acct), data=b"", headers={
        "Content-Type": "application/json"}), 400, "BadRequestException")
    # the document names another issuer
    op.discovery["issuer"] = "https://evil.example.com"
    op.publish()
    r = assert_error(server.put(cfg_path(acct), body(op)), 400, "BadRequestException")
    assert "names issuer https://evil.example.com" in r["Message"], r["Message"]
    # the provider does not offer what Tessera needs
    op.routes["/.well-known/openid-configuration"] = (200, bad_alg_doc)
    r = assert_error(server.put(cfg_path(acct), body(op)), 400)
    assert "PKCE" in r["Message"]
    # the document is fine, the JWKS is not
    op.discovery["issuer"] = op.issuer
    op.publish()
    op.routes["/jwks"] = (200, {"keys": []})
    r = assert_error(server.put(cfg_path(acct), body(op)), 400)
    assert "JWKS" in r["Message"], r["Message"]
    op.routes["/jwks"] = (500, "down")
    assert "500" in assert_error(server.put(cfg_path(acct), body(op)), 400)["Message"]
    op.routes["/.well-known/openid-configuration"] = (200, "not json")
    assert "not JSON" in assert_error(server.put(cfg_path(acct), body(op)), 400)["Message"]
    # nothing was stored by the refusals
    assert_error(server.get(cfg_path(acct)), 404)
    assert not server.store.sql("SELECT account_id FROM oidc_configs")[0]
    # refused calls are audited too, without the secret
    ev = server.events(eventName="UpdateAccountOpenIdConfig")
    assert ev and all(e.get("errorCode") == "BadRequestException" for e in ev)
    no_secret_anywhere(server, SECRET)


def test_path_issuer(server):
    """An issuer with a path (Okta's custom authorization servers: .../oauth2/default)."""
    op = Provider("/oauth2/default")
    try:
        acct = server.create_account("corp", "Enterprise")["AccountId"]
        r = server.put(cfg_path(acct), body(op))
        assert r.status_code == 200, r.text
        assert r.json()["Issuer"] == op.issuer
        assert "/oauth2/default/.well-known/openid-configuration" in op.hits
    finally:
        op.stop()


def test_policies(server, op):
    acct = server.create_account("corp", "Enterprise")["AccountId"]
    assert server.put(cfg_path(acct), body(op)).status_code == 200
    # the Chime guide's table: the OpenID config is FullAccess's only
    for policy in ("ReadOnly", "UserManagement"):
        tok = server.create_key([policy])["Token"]
        assert_error(server.put(cfg_path(acct), body(op), token=tok), 403, "ForbiddenException")
        assert_error(server.delete(cfg_path(acct), token=tok), 403, "ForbiddenException")
        assert_error(server.get(cfg_path(acct), token=tok), 403, "ForbiddenException")
    full = server.create_key(["FullAccess"])["Token"]
    assert server.get(cfg_path(acct), token=full).status_code == 200
    assert server.put(cfg_path(acct), body(op), token=full).status_code == 200
    assert server.delete(cfg_path(acct), token=full).status_code == 204
    assert_error(server.get(cfg_path(acct), token=None), 401)
    refused = [e for e in server.events(eventName="UpdateAccountOpenIdConfig") if e.get("errorCode")]
    assert len(refused) == 2 and all(e["errorCode"] == "ForbiddenException" for e in refused)
    no_secret_anywhere(server, SECRET)


def test_cli_configure(server, op, tmp_path):
    acct = server.create_account("corp", "Enterprise")["AccountId"]
    f = tmp_path / "secret"
    f.write_text(SECRET + "\n")
    base = ["--db", server.store.db, "--master-key-file", server.store.key, "--account", acct,
            "--base-url", server.url]
    p = run_cli("oidc", "configure", *base, "--issuer", op.issuer, "--client-id", "0oacli",
                "--client-secret-file", str(f), "--claim", "upn")
    assert p.returncode == 0, p.stderr
    assert SECRET not in p.stdout and SECRET not in p.stderr
    out = json.loads(p.stdout)
    check_shape(server, acct, op, out)
    assert out["ClientId"] == "0oacli" and out["Claim"] == "upn"
    assert server.get(cfg_path(acct)).json() == out
    ev = server.events(eventName="UpdateAccountOpenIdConfig")
    assert ev[0]["userIdentity"]["type"] == "LocalOperator"
    assert ev[0]["requestParameters"]["ClientSecretGiven"] is True
    # the secret as sealed opens to what the file held, without its line end: the same sealed
    # value a PUT of that secret would replace (one row)
    rows, _ = server.store.sql("SELECT sealed FROM secrets WHERE owner_kind = 'oidc_client'")
    assert len(rows) == 1 and rows[0][0].startswith("ts1.")
    # without a secret file: the stored secret kept, the claim kept
    out = cli_json("oidc", "configure", *base, "--issuer", op.issuer, "--client-id", "0oacli2")
    assert out["ClientId"] == "0oacli2" and out["Claim"] == "upn"
    assert server.store.sql("SELECT sealed FROM secrets WHERE owner_kind = 'oidc_client'")[0] == rows
    # failures: exit status, a message, nothing printed, nothing changed
    long_secret = tmp_path / "long"
    long_secret.write_text("x" * 2000)
    for args in (["--issuer", op.issuer + "/nope", "--client-id", "c"],
                 ["--issuer", "http://idp.example.com", "--client-id", "c"],
                 ["--issuer", op.issuer, "--client-id", "c", "--client-secret-file",
                  str(tmp_path / "missing")],
                 ["--issuer", op.issuer, "--client-id", "c", "--client-secret-file",
                  str(long_secret)],
                 ["--issuer", op.issuer, "--client-id", "c", "--scopes", "email"],
                 ["--issuer", op.issuer]):
        p = run_cli("oidc", "configure", *base, *args)
        assert p.returncode != 0 and p.stderr.strip() and p.stdout.strip() == "", args
    p = run_cli("oidc", "configure", "--db", server.store.db, "--master-key-file",
                server.store.key, "--account", "no-such", "--issuer", op.issuer, "--client-id",
                "c", "--client-secret-file", str(f))
    assert p.returncode != 0 and SECRET not in p.stderr
    assert server.get(cfg_path(acct)).json()["ClientId"] == "0oacli2"
    assert run_cli("audit", "verify", "--db", server.store.db, "--master-key-file",
                   server.store.key).returncode == 0
    no_secret_anywhere(server, SECRET)


def test_serve_needs_base_url_with_an_openid_account(server, op):
    """docs/http.md: browser flows answer with absolute URLs; with an OpenID identity source
    in the store, serve without --base-url refuses to start, naming the account."""
    acct = server.create_account("corp", "Enterprise")["AccountId"]
    assert server.put(cfg_path(acct), body(op)).status_code == 200
    env = T.clean_env()
    p = subprocess.run([T.EXE, "serve", "--db", server.store.db, "--master-key-file",
                        server.store.key, "--listen", "127.0.0.1:%d" % T.free_port()],
                       capture_output=True, text=True, env=env, timeout=30)
    assert p.returncode != 0
    assert acct in p.stderr and "OpenID Connect" in p.stderr and "--base-url" in p.stderr, p.stderr
