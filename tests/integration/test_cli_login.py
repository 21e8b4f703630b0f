"""
`tessera login` and `tessera credentials` against the real server (SPEC §3, §8;
docs/cli-login.md), with real parts only: the account signs in over SAML through the
pysaml2 IdP (saml/samlenv.py), and again over OpenID Connect through oidc-provider
(oidc/oidcenv.py), every test running against both, on SQLite and on PostgreSQL; targets, permission sets and assignments go in through
the admin API, the binary runs as a person would run it (no terminal, no display,
XDG_CONFIG_HOME of the test's own), and its user code is approved or denied on /device by
a browser session signed in at the IdP, through the page's own form (its anti-CSRF field
included). The credentials the command prints are verified with jwcrypto against
/oauth/jwks; refresh (expired access token, then an access token the server refuses) and
LogoutUser (refresh refused: "run: tessera login") are seen from the command line. The
files' modes, another profile kept, tokens never printed, the choice refused without a
terminal (naming the flag), names taken for --target and --permission-set, a denial, a
start URL whose server has another issuer (RFC 8414 §3.3), and xdg-open called (with the
complete URI as its one argument) only with a display and without --no-browser are checked
too.
"""
import base64
import html.parser
import http.server
import json
import os
import re
import stat
import subprocess
import sys
import threading
import time
import urllib.parse
import uuid
import warnings

import pytest
import requests

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "saml"))
sys.path.insert(0, os.path.join(HERE, "oidc"))
with warnings.catch_warnings():
    # pysaml2 7.0.1 on Python 3.11 warns about its own schema loading at import
    warnings.simplefilter("ignore", DeprecationWarning)
    import samlenv as S  # noqa: E402
import oidcenv as OE  # noqa: E402
import oidcop as O  # noqa: E402
import tessera_itest as T  # noqa: E402

CODE_RE = re.compile(r"^[A-Z]{4}-[A-Z]{4}$")
LOGIN_TIMEOUT = 90  # seconds: a poll interval or two past the approval, scaled below
# serve --device-code-ttl and --device-poll-interval: short, so that a test sees a code
# expire and the approvals are picked up quickly
DEVICE_TTL_S = 15
INTERVAL_S = 1


def start_server(store, dns):
    """samlenv.start_server's server, with the short device-code lifetime and interval."""
    root = store.init()
    for _ in range(5):
        port = T.free_port()
        srv = T.Server(store, root_token=root, port=port,
                       extra_args=["--base-url", "http://127.0.0.1:%d" % port, "--dns-server", dns.address,
                                   "--access-log", "off", "--device-code-ttl", str(DEVICE_TTL_S),
                                   "--device-poll-interval", str(INTERVAL_S)])
        try:
            return srv.start()
        except T.ServerStartError as ex:
            if "cannot listen" not in str(ex):
                raise
    raise AssertionError("no free port for tessera serve")


@pytest.fixture(scope="module", params=[("saml", "sqlite"), ("oidc", "sqlite"),
                                        ("saml", "postgres"), ("oidc", "postgres")],
                ids=lambda p: "-".join(p))
def env(request, tmp_path_factory):
    """A server whose account signs in over SAML (pysaml2) or OpenID Connect (oidc-provider),
    on either store."""
    protocol, backend = request.param
    work = tmp_path_factory.mktemp("cli-login-%s-%s" % (protocol, backend))
    store = (T.SqliteStore(work) if backend == "sqlite"
             else T.PgStore(request.getfixturevalue("pg_cluster"), work))
    dns = T.Dns(str(work)).start()
    srv = op = None
    try:
        srv = start_server(store, dns)
        if protocol == "saml":
            yield S.Env(srv, work, dns, backend)
        else:
            problem = O.check_installed()  # a missing peer fails, never skips
            assert problem is None, problem
            op = O.Op(str(work / "op"), OE.clients(srv.url)).start()
            yield OE.Env(srv, work, dns, backend, op=op)
    finally:
        problems = srv.shutdown_problems() if srv is not None else []
        if op is not None:
            op.stop()
        dns.stop()
        store.destroy()
        if srv is not None and problems:
            print("---- %s, last lines:\n%s" % (srv.err_path, "\n".join(srv.stderr().splitlines()[-20:])))
        assert not problems, "\n".join(problems)


@pytest.fixture
def home(tmp_path):
    """XDG_CONFIG_HOME of one test: the CLI's files go to home/tessera."""
    return str(tmp_path / "xdg")


# ---- the admin side

def _post(env, what, body):
    return env.admin("POST", "/accounts/%s/%s" % (env.acct, what), body, expect=201)


def target(env, name):
    return _post(env, "targets", {"Name": name, "Kind": "Console",
                                  "Url": "https://console.example.org/" + name})["Target"]


def permission_set(env, name, duration=900):
    pol = [{"Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}]
    return _post(env, "permission-sets", {"Name": name, "Policies": pol,
                                          "SessionDuration": duration})["PermissionSet"]


def assign(env, user, t, ps):
    return _post(env, "assignments", {"PrincipalType": "USER", "PrincipalId": user["id"],
                                      "TargetId": t["TargetId"],
                                      "PermissionSetId": ps["PermissionSetId"]})["Assignment"]


def signed_in(env, prefix):
    """A new Pro user and a browser signed in at the account's IdP (pysaml2 or oidc-provider)."""
    b = S.Browser()
    if isinstance(env, OE.Env):
        user = env.new_person(prefix)
        r, rid = env.sign_in(b, user)
    else:
        user = env.new_user(prefix)
        req = env.login(b)
        r, rid = env.acs(b, env.idp.response(user["name"], req.id), relay_state=req.relay_state)
    assert r.status_code == 303, (r.status_code, r.text[:300])
    assert env.me(b).status_code == 200
    return user, b


# ---- /device, through its page

class _Forms(html.parser.HTMLParser):
    """The page's forms: [(method, action, {name: value} of its inputs)]."""

    def __init__(self):
        super().__init__()
        self.forms = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.forms.append(((a.get("method") or "get").lower(), a.get("action") or "", {}))
        elif tag in ("input", "button") and self.forms and a.get("name"):
            self.forms[-1][2].setdefault(a["name"], a.get("value") or "")


def decide(env, browser, complete_url, code, decision):
    """Opens verification_uri_complete as the signed-in person and answers its form."""
    r = browser.get(complete_url, allow_redirects=False, timeout=S.HTTP_TIMEOUT)
    assert r.status_code == 200, (r.status_code, r.text[:300])
    p = _Forms()
    p.feed(r.text)
    posts = [f for f in p.forms if f[0] == "post"]
    assert posts, r.text[:500]
    _, action, fields = posts[0]
    hidden = {k: v for k, v in fields.items() if k not in ("user_code", "decision")}
    assert hidden, "the /device form has no anti-CSRF field: %r" % fields
    data = dict(hidden, user_code=code, decision=decision)
    r = browser.post(urllib.parse.urljoin(complete_url, action or "/device"), data=data,
                     headers={"Origin": env.base}, allow_redirects=False, timeout=S.HTTP_TIMEOUT)
    assert r.status_code in (200, 303), (r.status_code, r.text[:300])
    return r


# ---- the command line

class Login:
    """`tessera login` running: its stderr read as it comes."""

    def __init__(self, env, home, profile, *flags, extra_env=None, no_browser=True):
        e = T.clean_env({"XDG_CONFIG_HOME": home})
        e.pop("DISPLAY", None)
        e.pop("WAYLAND_DISPLAY", None)
        e.update(extra_env or {})
        argv = [T.EXE, "login", "--start-url", "%s/start/%s" % (env.base, env.acct),
                "--profile", profile, *(["--no-browser"] if no_browser else []), *flags]
        self.p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True, env=e, cwd=home.rsplit("/", 1)[0])
        self.lines = []
        self.t = threading.Thread(target=self._read, daemon=True)
        self.t.start()

    def _read(self):
        for line in self.p.stderr:
            self.lines.append(line.rstrip("\n"))

    def code(self):
        """(user code, verification_uri, verification_uri_complete) once printed."""
        def shown():
            codes = [l for l in self.lines if CODE_RE.match(l)]
            urls = [l for l in self.lines if l.startswith("http")]
            return (codes[0], urls) if codes and len(urls) >= 2 else None
        code, urls = T.wait_for(shown, 30, what="the user code on stderr")
        return code, urls[0], urls[1]

    def finish(self):
        """(exit status, stdout, stderr) once the command has ended."""
        out = self.p.stdout.read()
        rc = self.p.wait(timeout=LOGIN_TIMEOUT * T.SCALE)
        self.t.join(timeout=10)
        err = "\n".join(self.lines)
        assert not T.sanitizer_lines(err), err
        return rc, out, err


def credentials(home, profile):
    return T.run_cli("credentials", "--profile", profile, env={"XDG_CONFIG_HOME": home})


def tessera_dir(home):
    return os.path.join(home, "tessera")


def tokens_of(home, profile):
    with open(os.path.join(tessera_dir(home), "tokens", profile + ".json")) as f:
        return json.load(f)


def write_tokens(home, profile, tokens):
    path = os.path.join(tessera_dir(home), "tokens", profile + ".json")
    with open(path, "w") as f:
        json.dump(tokens, f)


def mode(path):
    return stat.S_IMODE(os.lstat(path).st_mode)


def _b64(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def verified_claims(env, jwt):
    """The token's claims after its ES256 signature verifies against /oauth/jwks (jwcrypto)."""
    from jwcrypto import jwk, jwt as jjwt
    keys = requests.get(env.base + "/oauth/jwks", timeout=S.HTTP_TIMEOUT)
    assert keys.status_code == 200, keys.text[:300]
    header = json.loads(_b64(jwt.split(".")[0]))
    assert header["alg"] == "ES256" and header.get("kid"), header
    t = jjwt.JWT(jwt=jwt, key=jwk.JWKSet.from_json(keys.text), algs=["ES256"], check_claims=False)
    return json.loads(t.claims)


def login_approved(env, home, profile, browser, *flags):
    lg = Login(env, home, profile, *flags)
    code, uri, complete = lg.code()
    assert uri.startswith(env.base + "/"), uri
    assert complete.startswith(env.base + "/") and "user_code=" in complete, complete
    decide(env, browser, complete, code, "approve")
    return lg.finish()


# ---- the tests

def test_login_only_choice_credentials_refresh_and_logout(env, home):
    user, b = signed_in(env, "cli")
    t = target(env, "prod-" + uuid.uuid4().hex[:6])
    ps = permission_set(env, "ViewOnly-" + uuid.uuid4().hex[:6])
    assign(env, user, t, ps)
    # another profile, written by hand, is kept as it is
    os.makedirs(tessera_dir(home), mode=0o700)
    other = "# mine\n[profile other]\nstart_url = https://elsewhere.example/start/x\n"
    with open(os.path.join(tessera_dir(home), "config"), "w") as f:
        f.write(other)

    rc, out, err = login_approved(env, home, "work", b)
    assert rc == 0, err
    assert out == "", out
    # the AWS CLI's way of saying there was nothing to choose
    assert "The only target available to you is: %s (%s)" % (t["Name"], t["TargetId"]) in err, err
    assert "The only permission set available to you is: %s" % ps["Name"] in err, err
    d = tessera_dir(home)
    assert mode(d) == 0o700 and mode(os.path.join(d, "config")) == 0o600
    assert mode(os.path.join(d, "tokens")) == 0o700
    assert mode(os.path.join(d, "tokens", "work.json")) == 0o600
    with open(os.path.join(d, "config")) as f:
        config = f.read()
    assert config.startswith(other), config
    assert ("[profile work]\nstart_url = %s/start/%s\naccount_id = %s\ntarget_id = %s\n"
            "permission_set_id = %s\n" % (env.base, env.acct, env.acct, t["TargetId"],
                                          ps["PermissionSetId"])) in config, config
    tok = tokens_of(home, "work")
    assert tok["AccessToken"].startswith("tss_") and tok["RefreshToken"], tok.keys()
    for secret in (tok["AccessToken"], tok["RefreshToken"]):
        assert secret not in err and secret not in out

    # credentials: the credential_process shape, a token anyone can verify
    p = credentials(home, "work")
    assert p.returncode == 0, p.stderr
    c = json.loads(p.stdout)
    assert set(c) == {"Version", "Token", "Expiration", "AccountId", "TargetId", "PermissionSetId"}, c
    assert c["Version"] == 1 and c["AccountId"] == env.acct, c
    assert c["TargetId"] == t["TargetId"] and c["PermissionSetId"] == ps["PermissionSetId"], c
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", c["Expiration"]), c
    claims = verified_claims(env, c["Token"])
    assert claims["sub"] == user["id"] and claims["iss"] == env.base, claims
    assert claims["exp"] <= time.time() + 900 + 60, claims
    for secret in (tok["AccessToken"], tok["RefreshToken"]):
        assert secret not in p.stdout and secret not in p.stderr

    # an access token past its expiry: renewed first, the refresh token rotated, saved 0600
    write_tokens(home, "work", dict(tok, ExpiresAt="2020-01-01T00:00:00.000Z"))
    p = credentials(home, "work")
    assert p.returncode == 0, p.stderr
    tok2 = tokens_of(home, "work")
    assert tok2["AccessToken"] != tok["AccessToken"] and tok2["RefreshToken"] != tok["RefreshToken"]
    assert mode(os.path.join(d, "tokens", "work.json")) == 0o600
    assert json.loads(p.stdout)["TargetId"] == t["TargetId"]

    # an access token the server refuses (401) though not yet expired: renewed once, retried
    write_tokens(home, "work", dict(tok2, AccessToken="tss_" + "A" * 43))
    p = credentials(home, "work")
    assert p.returncode == 0, p.stderr
    tok3 = tokens_of(home, "work")
    assert tok3["RefreshToken"] != tok2["RefreshToken"]

    # several credential_process hooks at once, the access token expired: one renews it (the
    # profile's lock), the others take what it saved, and the family lives on (a refresh token
    # spent twice would revoke it, docs/oauth.md)
    write_tokens(home, "work", dict(tok3, ExpiresAt="2020-01-01T00:00:00.000Z"))
    procs = [subprocess.Popen([T.EXE, "credentials", "--profile", "work"],
                              env=T.clean_env({"XDG_CONFIG_HOME": home}), cwd=home,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(8)]
    outs = [pr.communicate(timeout=60 * T.SCALE) for pr in procs]
    assert [pr.returncode for pr in procs] == [0] * 8, [o[1] for o in outs]
    assert not any(T.sanitizer_lines(o[1]) for o in outs), [o[1] for o in outs]
    tok4 = tokens_of(home, "work")
    assert tok4["RefreshToken"] != tok3["RefreshToken"]
    p = credentials(home, "work")
    assert p.returncode == 0, p.stderr
    assert tokens_of(home, "work") == tok4  # still valid: nothing renewed
    tok3 = tok4

    # LogoutUser: the access token and the refresh token die with the sessions
    env.admin("POST", "/accounts/%s/users/%s" % (env.acct, user["id"]), params={"operation": "logout"},
              expect=204)
    p = credentials(home, "work")
    assert p.returncode != 0 and p.stdout == "", p.stdout
    assert "run: tessera login --profile work" in p.stderr, p.stderr
    assert tokens_of(home, "work") == tok3  # nothing new was stored
    # the other profile is still there, untouched
    with open(os.path.join(d, "config")) as f:
        assert f.read().startswith(other)


def test_choice_needs_a_flag_without_terminal_then_names(env, home):
    user, b = signed_in(env, "multi")
    ta, tb = target(env, "alpha-" + uuid.uuid4().hex[:6]), target(env, "beta-" + uuid.uuid4().hex[:6])
    ro, admin = permission_set(env, "ReadOnly-" + uuid.uuid4().hex[:6]), permission_set(env, "Admin-" + uuid.uuid4().hex[:6])
    for t in (ta, tb):
        for ps in (ro, admin):
            assign(env, user, t, ps)
    # two targets, stdin no terminal, no flag: refused, naming the flag; nothing written
    rc, out, err = login_approved(env, home, "multi", b)
    assert rc != 0, err
    assert "pass --target" in err, err
    assert not os.path.exists(os.path.join(tessera_dir(home), "config")), err
    # the target by its name, the permission set still ambiguous: refused naming that flag
    rc, out, err = login_approved(env, home, "multi", b, "--target", tb["Name"])
    assert rc != 0 and "pass --permission-set" in err, err
    # both by name
    rc, out, err = login_approved(env, home, "multi", b, "--target", tb["Name"],
                                  "--permission-set", admin["Name"])
    assert rc == 0, err
    p = credentials(home, "multi")
    assert p.returncode == 0, p.stderr
    c = json.loads(p.stdout)
    assert (c["TargetId"], c["PermissionSetId"]) == (tb["TargetId"], admin["PermissionSetId"]), c
    claims = verified_claims(env, c["Token"])
    assert claims["sub"] == user["id"], claims
    # a name nobody holds
    lg = Login(env, home, "multi", "--target", "no-such-target")
    code, _, complete = lg.code()
    decide(env, b, complete, code, "approve")
    rc, _, err = lg.finish()
    assert rc != 0 and "no target no-such-target is available to you" in err, err


def test_browser_only_with_a_display(env, home, tmp_path):
    # an xdg-open of the test's own, first on PATH, writes down how it was called
    bindir = tmp_path / "bin"
    bindir.mkdir()
    opened = tmp_path / "opened"
    (bindir / "xdg-open").write_text('#!/bin/sh\nprintf "%%s\\n" "$#" "$@" > %s\n' % opened)
    (bindir / "xdg-open").chmod(0o755)
    path = "%s:%s" % (bindir, os.environ.get("PATH", "/usr/bin:/bin"))
    cases = [({"DISPLAY": ":99"}, False, True),
             ({"WAYLAND_DISPLAY": "wayland-0"}, False, True),
             ({"DISPLAY": ":99"}, True, False),  # --no-browser
             ({}, False, False)]  # no display
    for extra, no_browser, want in cases:
        lg = Login(env, home, "browser", extra_env=dict(extra, PATH=path), no_browser=no_browser)
        try:
            code, uri, complete = lg.code()
            if want:
                # one argument, the URI carrying the code: no shell in between
                T.wait_for(lambda: opened.exists() and opened.read_text().endswith("\n"), 10,
                           what="xdg-open called")
                assert opened.read_text() == "1\n%s\n" % complete, opened.read_text()
                assert any("Attempting to automatically open" in l for l in lg.lines), lg.lines
            else:
                time.sleep(1)
                assert not opened.exists(), (extra, no_browser, opened.read_text())
                assert not any("Attempting to automatically open" in l for l in lg.lines), lg.lines
        finally:
            lg.p.terminate()
            lg.p.wait(timeout=10)
            if opened.exists():
                opened.unlink()


def test_denied_in_the_browser(env, home):
    user, b = signed_in(env, "deny")
    lg = Login(env, home, "denied")
    code, _, complete = lg.code()
    decide(env, b, complete, code, "deny")
    rc, out, err = lg.finish()
    assert rc != 0 and "denied" in err, err
    assert out == ""
    assert not os.path.exists(tessera_dir(home)) or not os.path.exists(
        os.path.join(tessera_dir(home), "tokens", "denied.json"))


def test_code_expires_unapproved(env, home):
    t0 = time.monotonic()
    lg = Login(env, home, "late")
    lg.code()
    rc, out, err = lg.finish()
    took = time.monotonic() - t0
    assert rc != 0 and "the code expired before it was approved" in err, err
    assert out == ""
    # RFC 8628 §3.5: polled until expires_in, never past it
    assert DEVICE_TTL_S - 2 * INTERVAL_S - 1 <= took <= DEVICE_TTL_S + 5 * T.SCALE, took
    assert not os.path.exists(tessera_dir(home))


def test_issuer_of_another_origin_refused(env, home):
    # localhost and 127.0.0.1 reach the same server, whose issuer is its --base-url (127.0.0.1)
    port = urllib.parse.urlsplit(env.base).port
    p = T.run_cli("login", "--start-url", "http://localhost:%d/start/%s" % (port, env.acct),
                  "--no-browser", env={"XDG_CONFIG_HOME": home})
    assert p.returncode != 0 and "issuer" in p.stderr and "RFC 8414" in p.stderr, p.stderr
    assert not os.path.exists(tessera_dir(home))


def test_credentials_without_profile_or_with_bad_start_url(env, home):
    p = credentials(home, "nobody")
    assert p.returncode != 0 and "run: tessera login --profile nobody" in p.stderr, p.stderr
    for bad in ("http://example.com/start/x", "%s/portal" % env.base, "%s/start/" % env.base,
                "ftp://127.0.0.1/start/x", "%s/start/a?b=c" % env.base):
        p = T.run_cli("login", "--start-url", bad, "--no-browser", env={"XDG_CONFIG_HOME": home})
        assert p.returncode != 0 and p.stderr.startswith("tessera: login: "), (bad, p.stderr)


def test_poll_backs_off_when_the_server_is_busy(home):
    """A token endpoint that answers 503 (a node restarting, a database failing over) is polled
    again after a longer wait, as after a lost connection; the flow goes on to its real answer.
    The peer is a scripted authorization server (RFC 8414 metadata, RFC 8628 answers), since a
    real one cannot be made to answer 503 on cue; the rest of this file uses the real one."""
    polls = []

    class Peer(http.server.BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def answer(self, status, doc):
            body = json.dumps(doc).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self):
            base = "http://127.0.0.1:%d" % self.server.server_port
            self.answer(200, {"issuer": base,
                              "device_authorization_endpoint": base + "/oauth/device_authorization",
                              "token_endpoint": base + "/oauth/token"})

        def do_POST(self):
            self.rfile.read(int(self.headers.get("Content-Length", "0")))
            base = "http://127.0.0.1:%d" % self.server.server_port
            if self.path == "/oauth/device_authorization":
                self.answer(200, {"device_code": "d" * 43, "user_code": "BCDF-GHJK",
                                  "verification_uri": base + "/device",
                                  "verification_uri_complete": base + "/device?user_code=BCDF-GHJK",
                                  "expires_in": 60, "interval": 1})
                return
            polls.append(time.monotonic())
            if len(polls) == 1:
                self.answer(503, {"error": "temporarily_unavailable"})
            else:
                self.answer(400, {"error": "access_denied"})

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Peer)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    try:
        p = T.run_cli("login", "--start-url",
                      "http://127.0.0.1:%d/start/%s" % (srv.server_port, uuid.uuid4()),
                      "--no-browser", env={"XDG_CONFIG_HOME": home})
    finally:
        srv.shutdown()
        srv.server_close()
    assert p.returncode != 0, p.stderr
    assert "answered 503; trying again" in p.stderr, p.stderr
    assert "denied" in p.stderr, p.stderr
    assert len(polls) == 2, polls
    assert polls[1] - polls[0] >= 1.9, polls  # the interval doubled after the 503
    assert not os.path.exists(tessera_dir(home))
