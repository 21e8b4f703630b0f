"""
One Tessera server set up for OIDC sign-in, on the SAML tests' set-up (samlenv: server with
--base-url, Enterprise account, example.com verified through dnsmasq, SCIM users and groups
mapped to Pro and Basic, the admin and SCIM clients, the audit reads, assert_signed_in and
assert_refused), with the account's identity source an oidc-provider (oidcop.Op) configured
through PUT /api/v1/accounts/{id}/openid-config.

A sign-in by requests: GET /auth/{AccountId}/oidc (302 to the provider), the provider's own
devInteractions pages, and the redirect to /auth/oidc/callback, followed with a request id
of the test's own so that the SignIn event of that callback is found.
"""
import os
import sys
import urllib.parse
import uuid
import warnings

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "saml"))
with warnings.catch_warnings():
    # pysaml2 7.0.1 on Python 3.11 warns about its own schema loading at import
    warnings.simplefilter("ignore", DeprecationWarning)
    import samlenv as E  # noqa: E402

import oidcop as O  # noqa: E402

HTTP_TIMEOUT = E.HTTP_TIMEOUT
USER = E.USER
SCIM_JSON = E.SCIM_JSON
Browser = E.Browser
start_server = E.start_server
CALLBACK = "/auth/oidc/callback"
CLIENT_ID = "tessera-itest"
CLIENT_SECRET = "itest-client-secret-" + uuid.uuid4().hex
POST_CLIENT_ID = "tessera-itest-post"


def clients(base):
    """The provider's clients for a Tessera at base: one authenticating with
    client_secret_basic, one with client_secret_post."""
    cb = base + CALLBACK
    return [{"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "redirect_uris": [cb],
             "token_endpoint_auth_method": "client_secret_basic"},
            {"client_id": POST_CLIENT_ID, "client_secret": CLIENT_SECRET, "redirect_uris": [cb],
             "token_endpoint_auth_method": "client_secret_post"}]


class Env(E.Env):
    """samlenv.Env without the SAML identity source: the account signs in with OIDC."""

    def __init__(self, server, workdir, dns, backend, op=None):
        self.srv = server
        self.dir = str(workdir)
        self.dns = dns
        self.backend = backend
        self.base = server.url
        self.acct = self.account()
        self.verify_domain(E.DOMAIN)
        self.scim_token = self.admin("POST", "/accounts/%s/api-keys" % self.acct,
                                     {"Description": "okta"}, expect=201)["ApiKey"]["Token"]
        self.groups = {"Pro": self.scim("POST", "/Groups", {"schemas": [E.GROUP], "displayName": "tessera-pro"})["id"],
                       "Basic": self.scim("POST", "/Groups", {"schemas": [E.GROUP], "displayName": "tessera-basic"})["id"]}
        self.admin("PUT", "/accounts/%s/groups" % self.acct,
                   {"Groups": [{"GroupName": "tessera-pro", "LicenseType": "Pro"},
                               {"GroupName": "tessera-basic", "LicenseType": "Basic"}]})
        self.op = op or O.Op(os.path.join(self.dir, "op"), clients(self.base)).start()
        self.config = self.put_oidc_config()
        self.victim = self.new_user("victim")

    # ---- configuration

    def put_oidc_config(self, issuer=None, client_id=CLIENT_ID, secret=CLIENT_SECRET, expect=200, **extra):
        body = {"Issuer": issuer or self.op.issuer, "ClientId": client_id, "ClientSecret": secret}
        body.update(extra)
        path = "/accounts/%s/openid-config" % self.acct
        if expect is None:  # the response itself, for an error's checks
            return E.requests.put(self.base + "/api/v1" + path, json=body, timeout=HTTP_TIMEOUT,
                                  headers={"Authorization": "Bearer " + self.srv.root_token})
        r = self.admin("PUT", path, body, expect=expect)
        assert secret not in str(r), "the answer carries the client secret"
        return r

    def restore(self):
        self.op.mode()
        self.config = self.put_oidc_config()

    def new_person(self, prefix="u", license="Pro"):
        """A SCIM user and the provider's account for them: sub is not the address, the ID
        token's email claim is."""
        user = self.new_user(prefix, license=license)
        user["sub"] = "sub-" + uuid.uuid4().hex[:12]
        self.op.add_accounts({user["sub"]: {"email": user["name"]}})
        return user

    # ---- the browser side

    def start(self, browser, params=None, base=None, expect=302):
        """GET /auth/{AccountId}/oidc; returns the response (the 302 to the provider)."""
        r = browser.get((base or self.base) + "/auth/%s/oidc" % self.acct, params=params, allow_redirects=False,
                        timeout=HTTP_TIMEOUT)
        if expect is not None:
            assert r.status_code == expect, (r.status_code, r.headers.get("Location"), r.text[:300])
        if expect == 302:
            loc = r.headers["Location"]
            assert loc.startswith(self.op.issuer + "/auth?"), loc
        return r

    def authorize(self, browser, user, params=None, base=None, abort=False):
        """SP side start, then the provider signs user in: the callback URL (not followed)."""
        r = self.start(browser, params=params, base=base)
        return O.at_provider(self.op, browser, r.headers["Location"], user["sub"] if user else "nobody",
                             self.base + CALLBACK, abort=abort)

    def callback(self, browser, url, base=None):
        """Follows the provider's redirect to the callback (on base when given); (response, rid)."""
        if base is not None:
            url = base + url[len(self.base):]
        rid = "oidc-" + uuid.uuid4().hex
        r = browser.get(url, allow_redirects=False, headers={"X-Request-Id": rid}, timeout=HTTP_TIMEOUT)
        return r, rid

    def sign_in(self, browser, user, params=None, base=None):
        return self.callback(browser, self.authorize(browser, user, params=params, base=base), base=base)


def query(url):
    return dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(url).query))


def assert_signed_in(env, r, rid, browser, user, license="Pro", location="/portal"):
    me = E.assert_signed_in(env, r, rid, browser, user, license, location=location)
    ev = env.signin_events(r, rid)[0]
    assert ev["requestParameters"].get("Protocol") == "oidc", ev
    _no_secrets(env, ev)
    return me


def snapshot(env, users):
    """The users' registration state, taken before a callback that must leave it alone."""
    return {u["id"]: env.user_state(u["id"]) for u in users}


def assert_refused(env, r, rid, checks, browser, users=(), before=None, status=403):
    """E.assert_refused (no session, generic page not naming the check, users unchanged since
    before = snapshot(...), one SignIn event whose errorCode is one of checks) plus the OIDC
    shape of the event."""
    users = list(users)
    assert not users or before is not None, "take the snapshot before the callback"
    ev = E.assert_refused(env, r, rid, checks, browser, users, before or {}, status=status)
    assert ev["requestParameters"].get("Protocol") == "oidc", ev
    assert not any(c.name in ("sid", "__Host-sid") for c in browser.cookies), list(browser.cookies)
    _no_secrets(env, ev)
    return ev


def _no_secrets(env, ev):
    text = str(ev)
    assert CLIENT_SECRET not in text, ev
    for key in ("code", "id_token", "access_token", "state", "code_verifier"):
        assert key not in ev.get("requestParameters", {}), (key, ev)
    # an ID token or a JWT header never lands in the event
    assert "eyJ" not in text, ev

