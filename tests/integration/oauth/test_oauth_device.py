"""
RFC 8628 against the real server (docs/oauth.md): the metadata and the
device authorization answer, every polling error (authorization_pending,
slow_down with its interval raised for the rest of the flow, access_denied,
expired_token, invalid_grant once a code has given its tokens), the /device
page and form (a person signed in over SAML sees which client asked and
when; the anti-CSRF field; one decision per code), the limits (five wrong
entries kill a code; ten wrong codes from one address lock it out) and the
audit trail, which never holds a device code, a token or a whole user code.
"""
import json
import re
import socket
import urllib.parse
import time

import pytest
import requests

import oauthenv as O
import tessera_itest as T


def test_metadata(env):
    r = requests.get(env.base + "/.well-known/oauth-authorization-server", timeout=30)
    assert r.status_code == 200
    m = r.json()
    assert m["issuer"] == env.base
    assert m["device_authorization_endpoint"] == env.base + "/oauth/device_authorization"
    assert m["token_endpoint"] == env.base + "/oauth/token"
    assert m["jwks_uri"] == env.base + "/oauth/jwks"
    assert O.DEVICE_GRANT in m["grant_types_supported"] and "refresh_token" in m["grant_types_supported"]


def test_device_authorization_answer(env, cli):
    flow = cli.authorize(scope="openid")
    assert O.USER_CODE_RE.match(flow["user_code"]), flow
    # RFC 8628 §5.2: at least 128 bits; 43 characters of 62 is about 256
    assert len(flow["device_code"]) >= 43 and re.fullmatch(r"[A-Za-z0-9]+", flow["device_code"])
    assert flow["verification_uri"] == env.base + "/device"
    assert flow["verification_uri_complete"] == env.base + "/device?user_code=" + flow["user_code"]
    assert flow["expires_in"] == 600 and flow["interval"] == 1
    # codes differ from flow to flow
    again = cli.authorize()
    assert again["user_code"] != flow["user_code"] and again["device_code"] != flow["device_code"]


@pytest.mark.parametrize("form,status,error", [
    ({"client_id": "someone-else"}, 401, "invalid_client"),
    ({"client_id": None}, 400, "invalid_request"),
    ({"start_url": None}, 400, "invalid_request"),
    ({"start_url": "https://evil.example/start/x"}, 400, "invalid_request"),
    ({"start_url": "{base}/start/no-such-account"}, 400, "invalid_request"),
    ({"start_url": "{base}/start/{acct}/more"}, 400, "invalid_request"),
])
def test_device_authorization_refused(env, cli, form, status, error):
    data = {"client_id": "tessera-cli", "start_url": env.start_url}
    for k, v in form.items():
        if v is None:
            data.pop(k)
        else:
            data[k] = v.format(base=env.base, acct=env.acct)
    r = cli.post(env.base + "/oauth/device_authorization", data=data, timeout=30)
    assert O.oauth_error(r, status) == error


def test_account_without_identity_source_refused(env, cli):
    acct = env.admin("POST", "/accounts", {"Name": "no-idp", "AccountType": "Enterprise"},
                     expect=201)["Account"]["AccountId"]
    r = cli.post(env.base + "/oauth/device_authorization",
                 data={"client_id": "tessera-cli", "start_url": "%s/start/%s" % (env.base, acct)}, timeout=30)
    assert O.oauth_error(r) == "invalid_request"


def test_json_body_refused(env, cli):
    r = cli.post(env.base + "/oauth/token", json={"grant_type": O.DEVICE_GRANT}, timeout=30)
    assert O.oauth_error(r) == "invalid_request"
    r = cli.post(env.base + "/oauth/token", data={"grant_type": "password", "client_id": "tessera-cli"}, timeout=30)
    assert O.oauth_error(r) == "unsupported_grant_type"
    r = cli.post(env.base + "/oauth/token", data={"grant_type": O.DEVICE_GRANT, "client_id": "x", "device_code": "y"},
                 timeout=30)
    assert O.oauth_error(r, 401) == "invalid_client"
    r = cli.poll("not-a-device-code")
    assert O.oauth_error(r) == "invalid_grant"


def test_approve_flow(env, cli, person):
    flow = cli.authorize()
    assert O.oauth_error(cli.poll(flow["device_code"])) == "authorization_pending"
    # typed in lowercase without the dash: the same code
    typed = flow["user_code"].replace("-", "").lower()
    page = O.device_page(person, env.base, typed)
    assert "tessera-cli" in page.text and "tessera-cli-itest/1" in page.text  # which client asked
    assert re.search(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z", page.text)  # and when
    assert person.user["name"] in page.text
    assert "default-src 'none'" in page.headers["Content-Security-Policy"]
    O.decide(person, env.base, typed)
    time.sleep(1.05)
    r = cli.poll(flow["device_code"])
    assert r.status_code == 200, r.text
    tok = r.json()
    assert tok["token_type"] == "Bearer" and tok["expires_in"] == 3600
    assert tok["access_token"].startswith("tss_") and tok["refresh_token"].startswith("tsr_")
    assert r.headers["Cache-Control"] == "no-store"
    me = cli.me(tok["access_token"])
    assert me.status_code == 200 and me.json()["Me"]["UserId"] == person.user["id"]
    # a code yields tokens once
    time.sleep(1.05)
    assert O.oauth_error(cli.poll(flow["device_code"])) == "invalid_grant"
    # and is decided once: approving or denying again is refused
    O.decide(person, env.base, flow["user_code"], "deny", csrf=_csrf(env, person), status=409)
    O.decide(person, env.base, flow["user_code"], "approve", csrf=_csrf(env, person), status=409)
    evs = _device_events(env)
    mine = [e for e in evs if e["requestParameters"].get("Decision") == "approve"
            and e["userIdentity"].get("principalId") == person.user["id"]]
    assert mine and mine[0]["requestParameters"]["UserCodeHint"] == flow["user_code"][:4] + "-****"
    _no_secrets(env, flow, tok)


def _csrf(env, person):
    """The person's anti-CSRF value, read from a confirmation page of a fresh code."""
    fresh = O.Cli(env.base, env.start_url).authorize()
    return O.CSRF_RE.search(O.device_page(person, env.base, fresh["user_code"]).text).group(1)


def _device_events(env):
    evs = env.admin("GET", "/audit-events", params={"eventName": "SignIn", "max-results": "1000"})["Events"]
    return [e for e in evs if e["requestParameters"].get("Protocol") == "device"]


def _no_secrets(env, flow, tok):
    """Neither the audit trail nor the log holds the device code, a token or the whole user code."""
    def clean():
        text = str(env.admin("GET", "/audit-events", params={"max-results": "1000"})) + env.srv.stderr()
        for secret in (flow["device_code"], tok["access_token"], tok["refresh_token"],
                       flow["user_code"], flow["user_code"].replace("-", "")):
            assert secret not in text, secret
        return True
    assert clean()


def test_deny(env, cli, person):
    flow = cli.authorize()
    O.decide(person, env.base, flow["user_code"], "deny")
    assert O.oauth_error(cli.poll(flow["device_code"])) == "access_denied"
    time.sleep(1.05)
    assert O.oauth_error(cli.poll(flow["device_code"])) == "access_denied"
    O.decide(person, env.base, flow["user_code"], "approve", csrf=_csrf(env, person), status=409)


def test_slow_down(env, cli):
    flow = cli.authorize()
    dc = flow["device_code"]
    assert O.oauth_error(cli.poll(dc)) == "authorization_pending"
    assert O.oauth_error(cli.poll(dc)) == "slow_down"  # at once: faster than 1 s
    # RFC 8628 §3.5: the interval is now 6 s for the rest of the flow; 1.5 s is too soon
    time.sleep(1.5)
    assert O.oauth_error(cli.poll(dc)) == "slow_down"  # and now 11 s
    time.sleep(11.2)
    assert O.oauth_error(cli.poll(dc)) == "authorization_pending"


def test_expired_token(env, tmp_path):
    """A server with --device-code-ttl 2 on the same store: its codes die after two seconds."""
    port = T.free_port()
    base = "http://127.0.0.1:%d" % port
    short = T.Server(env.store, root_token=env.srv.root_token, port=port,
                     extra_args=["--base-url", base, "--dns-server", env.dns.address, "--access-log", "off",
                                 "--device-code-ttl", "2", "--device-poll-interval", "1",
                                 "--trusted-proxy", "127.0.0.1/32"]).start()
    try:
        cli = O.Cli(base, "%s/start/%s" % (base, env.acct))
        flow = cli.authorize()
        assert flow["expires_in"] == 2
        assert O.oauth_error(cli.poll(flow["device_code"])) == "authorization_pending"
        time.sleep(2.2)
        assert O.oauth_error(cli.poll(flow["device_code"])) == "expired_token"
        # and the person can no longer enter it
        person = O.signed_in(env, env.new_user("late"))
        O.device_page(person, env.base, flow["user_code"], status=400)
        time.sleep(1.05)
        assert O.oauth_error(cli.poll(flow["device_code"])) == "expired_token"
    finally:
        problems = short.shutdown_problems()
        assert not problems, problems


def test_csrf_refused(env, cli, person):
    flow = cli.authorize()
    code = flow["user_code"]
    O.device_page(person, env.base, code)
    O.decide(person, env.base, code, csrf=False, status=403)          # no field
    O.decide(person, env.base, code, csrf="A" * 43, status=403)       # a made-up one
    someone = O.signed_in(env, env.new_user("someone"))               # another session's
    O.decide(person, env.base, code, csrf=_csrf(env, someone), status=403)
    good = O.CSRF_RE.search(O.device_page(person, env.base, code).text).group(1)
    O.decide(person, env.base, code, csrf=good, status=403, headers={"Origin": "https://evil.example"})
    assert O.oauth_error(cli.poll(flow["device_code"])) == "authorization_pending"  # nothing decided
    O.decide(person, env.base, code, csrf=good)  # the real form works


def test_not_signed_in(env, cli):
    flow = cli.authorize()
    anon = requests.Session()
    anon.headers["X-Forwarded-For"] = O.new_address()
    r = anon.get(env.base + "/device", params={"user_code": flow["user_code"]}, allow_redirects=False, timeout=30)
    # to the account's start URL, and back to this code after
    assert r.status_code == 303, r.text
    assert r.headers["Location"] == "%s/start/%s?next=%%2Fdevice%%3Fuser_code%%3D%s" % (
        env.base, env.acct, flow["user_code"])
    r = anon.get(env.base + "/device", allow_redirects=False, timeout=30)
    assert r.status_code == 401 and "start URL" in r.text
    r = anon.post(env.base + "/device", data={"user_code": flow["user_code"], "decision": "approve"},
                  allow_redirects=False, timeout=30)
    assert r.status_code == 401
    assert O.oauth_error(cli.poll(flow["device_code"])) == "authorization_pending"


def test_five_wrong_entries_kill_a_code(env, other, cli):
    """Someone of another account entering a code is a wrong entry against it (docs/oauth.md)."""
    flow = cli.authorize()
    stranger = O.signed_in(other, other.user_in_domain)
    for _ in range(5):
        O.device_page(stranger, env.base, flow["user_code"], status=400)
    # dead: the poll hears access_denied, and its own person cannot approve it any more
    assert O.oauth_error(cli.poll(flow["device_code"])) == "access_denied"
    person = O.signed_in(env, env.new_user("owner"))
    O.device_page(person, env.base, flow["user_code"], status=400)
    checks = [e["errorCode"] for e in _device_events(env)
              if e["userIdentity"].get("principalId") == other.user_in_domain["id"]]
    assert checks.count("DeviceCodeAccount") == 5, checks


def test_ten_wrong_codes_lock_the_address(env, cli):
    addr = O.new_address()
    person = O.signed_in(env, env.new_user("guesser"), address=addr)
    flow = cli.authorize()
    for i in range(10):
        O.device_page(person, env.base, "BBBB-BBB" + "BCDFGHJKLM"[i], status=400)
    # the eleventh entry, even of a real code, is refused for 15 minutes
    r = O.device_page(person, env.base, flow["user_code"], status=429)
    assert r.headers["Retry-After"] == "900"
    # another address is not locked
    elsewhere = O.signed_in(env, env.new_user("neighbour"))
    O.decide(elsewhere, env.base, flow["user_code"])
    locked = [e for e in _device_events(env) if e.get("errorCode") == "DeviceAddressLocked"
              and e["sourceIPAddress"] == addr]
    assert locked, "the refusal is audited"


def test_anonymous_lookups_lock_only_anonymous_lookups(env, cli):
    """Ten junk codes looked up without a session (cross-site <img> loads from an office's
    shared address) lock anonymous lookups from it, not the people signed in behind it."""
    addr = O.new_address()
    anon = requests.Session()
    anon.headers["X-Forwarded-For"] = addr
    for i in range(10):
        r = anon.get(env.base + "/device", params={"user_code": "CCCC-CCC" + "BCDFGHJKLM"[i]},
                     allow_redirects=False, timeout=30)
        assert r.status_code == 400, r.text
    flow = cli.authorize()
    r = anon.get(env.base + "/device", params={"user_code": flow["user_code"]}, allow_redirects=False,
                 timeout=30)
    assert r.status_code == 429 and r.headers["Retry-After"] == "900"
    # someone signed in behind the same address still enters codes
    person = O.signed_in(env, env.new_user("behind-the-nat"), address=addr)
    O.decide(person, env.base, flow["user_code"])
    r = cli.poll(flow["device_code"])
    assert r.status_code == 200, r.text


def test_too_large_token_request_is_not_cached(env):
    """A body past --max-body on /oauth/token (h2o refuses it from its Content-Length before any
    handler runs): 413 in the RFC 6749 §5.2 shape, with Cache-Control: no-store."""
    host, port = urllib.parse.urlsplit(env.base).netloc.split(":")
    with socket.create_connection((host, int(port)), timeout=30) as sock:
        sock.sendall(("POST /oauth/token HTTP/1.1\r\nHost: %s:%s\r\nConnection: close\r\n"
                      "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: %d\r\n\r\n"
                      % (host, port, 1 << 30)).encode())
        raw = b""
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            raw += chunk
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    assert lines[0].split()[1] == "413", lines
    headers = {k.strip().lower(): v.strip() for k, v in (h.split(":", 1) for h in lines[1:])}
    assert headers.get("cache-control") == "no-store", headers
    assert headers["content-type"].startswith("application/json")
    assert json.loads(body)["error"] == "invalid_request"


@pytest.mark.parametrize("method,path,status", [
    ("GET", "/device/elsewhere", 404),     # no such route under /device
    ("DELETE", "/device", 405),            # the wrong method
    ("GET", "/portal/elsewhere", 404),     # the portal is a browser's page too
])
def test_http_layer_refusals_on_browser_pages_are_pages(env, method, path, status):
    """What the HTTP layer itself refuses on /device and /portal (no route, wrong method) is
    the sign-in pages' HTML, as the browser that asked can show it, not {"Code","Message"}
    JSON; /oauth keeps RFC 6749 §5.2 JSON."""
    r = requests.request(method, env.base + path, allow_redirects=False, timeout=30)
    assert r.status_code == status, r.text
    assert r.headers["Content-Type"].startswith("text/html"), r.headers
    assert "<html" in r.text.lower()
    r = requests.get(env.base + "/oauth/elsewhere", timeout=30)
    assert r.status_code == 404
    assert r.json()["error"] == "invalid_request"
