"""
The device flow's two sides for the tests: the CLI (RFC 8628 §3.1, §3.4
over plain requests) and a person signed in over SAML (samlenv) who opens
/device, reads the page and posts the form with its anti-CSRF field. Every
client comes from an address of its own (X-Forwarded-For, believed from the
loopback proxy only), so that one test's lockout is its own.
"""
import itertools
import re

import requests

import samlenv as E
import tessera_itest as T

DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
HTTP_TIMEOUT = 30 * T.SCALE
USER_CODE_RE = re.compile(r"^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$")
CSRF_RE = re.compile(r'name="csrf" value="([^"]+)"')
_addresses = itertools.count(1)


def new_address():
    """A documentation address (RFC 5737) no other client of the run uses."""
    n = next(_addresses)
    return "198.18.%d.%d" % (n // 250, n % 250 + 1)


def start_server(store, dns, extra=()):
    """samlenv's server, with the device flow's poll interval at 1 s, X-Forwarded-For from
    loopback trusted and no sign-in rate limit."""
    return E.start_server(store, dns, extra=["--device-poll-interval", "1", "--trusted-proxy", "127.0.0.1/32",
                                             "--signin-rate-limit", "0"] + list(extra))


class OauthEnv:
    """samlenv.Env with the start URL; attributes of the SAML env pass through."""

    def __init__(self, env, store):
        self.saml = env
        self.store = store
        self.start_url = "%s/start/%s" % (env.base, env.acct)

    def __getattr__(self, name):
        return getattr(self.saml, name)


def other_account(env, workdir):
    """A second account on env's server: its own domain (example.net) and pysaml2 IdP."""
    saved = E.DOMAIN
    E.DOMAIN = "example.net"
    try:
        o = E.Env(env.srv, workdir, env.dns, env.backend)
        o.user_in_domain = o.new_user("stranger")
    finally:
        E.DOMAIN = saved
    o.start_url = "%s/start/%s" % (o.base, o.acct)
    return o


class Cli(requests.Session):
    """The command line's side of the device flow."""

    def __init__(self, base, start_url, address=None):
        super().__init__()
        self.base = base
        self.start_url = start_url
        self.headers["User-Agent"] = "tessera-cli-itest/1"
        self.headers["X-Forwarded-For"] = address or new_address()

    def authorize(self, client_id="tessera-cli", start_url=None, expect=200, **extra):
        form = {"client_id": client_id, "start_url": start_url or self.start_url}
        form.update(extra)
        r = self.post(self.base + "/oauth/device_authorization", data=form, timeout=HTTP_TIMEOUT)
        assert r.status_code == expect, (r.status_code, r.text)
        return r.json()

    def poll(self, device_code, client_id="tessera-cli"):
        return self.post(self.base + "/oauth/token",
                         data={"grant_type": DEVICE_GRANT, "device_code": device_code, "client_id": client_id},
                         timeout=HTTP_TIMEOUT)

    def refresh(self, token, client_id="tessera-cli"):
        return self.post(self.base + "/oauth/token",
                         data={"grant_type": "refresh_token", "refresh_token": token, "client_id": client_id},
                         timeout=HTTP_TIMEOUT)

    def me(self, access_token):
        return requests.get(self.base + "/api/v1/me", headers={"Authorization": "Bearer " + access_token},
                            timeout=HTTP_TIMEOUT)


def oauth_error(r, status=400):
    """The RFC 6749 §5.2 error of an answer."""
    assert r.status_code == status, (r.status_code, r.text)
    assert r.headers["Content-Type"].startswith("application/json"), r.headers
    assert r.headers.get("Cache-Control") == "no-store", r.headers
    body = r.json()
    assert set(body) <= {"error", "error_description"}, body
    return body["error"]


def signed_in(env, user, address=None):
    """A Browser signed in as user over SAML (SP-initiated, pysaml2's answer)."""
    b = E.Browser()
    b.headers["X-Forwarded-For"] = address or new_address()
    b.user = user
    req = env.login(b)
    r, _ = env.acs(b, env.idp.response(user["name"], req.id), relay_state=req.relay_state)
    assert r.status_code in (302, 303), (r.status_code, r.text[:300])
    assert env.me(b).status_code == 200
    return b


def device_page(browser, base, user_code, status=200):
    r = browser.get(base + "/device", params={"user_code": user_code}, allow_redirects=False,
                    timeout=HTTP_TIMEOUT)
    assert r.status_code == status, (r.status_code, r.text[:500])
    return r


def decide(browser, base, user_code, decision="approve", csrf=None, status=200, headers=None):
    """Opens the confirmation page, then posts the form with its anti-CSRF field (or csrf)."""
    if csrf is None:
        page = device_page(browser, base, user_code)
        csrf = CSRF_RE.search(page.text).group(1)
    form = {"user_code": user_code, "decision": decision}
    if csrf is not False:
        form["csrf"] = csrf
    r = browser.post(base + "/device", data=form, allow_redirects=False, timeout=HTTP_TIMEOUT,
                     headers=headers or {})
    assert r.status_code == status, (r.status_code, r.text[:500])
    return r


def tokens(env, cli, browser):
    """A whole device sign-in: authorize, approve, poll; the token answer."""
    flow = cli.authorize()
    decide(browser, env.base, flow["user_code"])
    r = cli.poll(flow["device_code"])
    assert r.status_code == 200, r.text
    return r.json()
