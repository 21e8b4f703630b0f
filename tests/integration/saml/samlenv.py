"""
One Tessera server set up for SAML sign-in, with real parts only: an
Enterprise account whose domain example.com is verified through dnsmasq
(the directory tests' way), users and groups pushed over SCIM with the
account's API key, groups mapped to Pro and Basic, a pysaml2 IdP whose
metadata goes in with PUT saml-config and which loads Tessera's SP metadata
from GET /saml/{AccountId}/metadata, the forge and Lasso on top (Lasso given
the SP private keys that samlseal opens from the store with the master key,
as an operator could, so that it decrypts EncryptedAssertion too).

The browser side is a requests.Session per "browser" (cookies kept), which
follows no redirect: every 302/303 is looked at.
"""
import re
import time
import uuid

import pytest
import requests

import samlforge as F
import samlidp as I
import samllasso as L
import samlseal as S
import tessera_itest as T

SCIM_JSON = "application/scim+json"
USER = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"
PATCHOP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
DOMAIN = "example.com"
HTTP_TIMEOUT = 30 * T.SCALE


def start_server(store, dns, root=None, extra=()):
    """init + serve with --base-url on a port chosen first (the SP's URLs are built from it),
    and the flags of extra."""
    root = root or store.init()
    for _ in range(5):
        port = T.free_port()
        srv = T.Server(store, root_token=root, port=port,
                       extra_args=["--base-url", "http://127.0.0.1:%d" % port, "--dns-server", dns.address,
                                   "--access-log", "off"] + list(extra))
        try:
            return srv.start()
        except T.ServerStartError as ex:
            if "cannot listen" not in str(ex):
                raise
    raise AssertionError("no free port for tessera serve")


def quiet_pysaml2(items, folder):
    """Marks the tests of folder to ignore the warning pysaml2 7.0.1 gives on Python 3.11
    about its own template loading at run time."""
    mark = pytest.mark.filterwarnings("ignore:pathlib.Path.__enter__:DeprecationWarning")
    for item in items:
        if str(item.path).startswith(folder):
            item.add_marker(mark)


class Browser(requests.Session):
    def __init__(self):
        super().__init__()
        self.headers["User-Agent"] = "tessera-saml-itest/1"


class Env:
    def __init__(self, server, workdir, dns, backend):
        self.srv = server
        self.dir = str(workdir)
        self.dns = dns
        self.backend = backend
        self.base = server.url
        self.acct = self.account()
        self.verify_domain(DOMAIN)
        self.scim_token = self.admin("POST", "/accounts/%s/api-keys" % self.acct,
                                     {"Description": "okta"}, expect=201)["ApiKey"]["Token"]
        self.groups = {"Pro": self.scim("POST", "/Groups", {"schemas": [GROUP], "displayName": "tessera-pro"})["id"],
                       "Basic": self.scim("POST", "/Groups", {"schemas": [GROUP], "displayName": "tessera-basic"})["id"]}
        self.admin("PUT", "/accounts/%s/groups" % self.acct,
                   {"Groups": [{"GroupName": "tessera-pro", "LicenseType": "Pro"},
                               {"GroupName": "tessera-basic", "LicenseType": "Basic"}]})
        self.idp = I.Idp(self.dir + "/idp")
        self.config = self.put_saml_config(self.idp.metadata(), content_type="application/xml")
        self.sp_metadata = self.get_sp_metadata()
        self.idp.load_sp(self.sp_metadata)
        self.forge = F.Forge(self.idp, self.dir + "/forge")
        self.lasso = self.new_lasso()
        self.victim = self.new_user("victim")
        self.mallory = self.new_user("mallory")

    # ---- admin API

    def admin(self, method, path, body=None, expect=200, params=None, raw=None, headers=None):
        h = {"Authorization": "Bearer " + self.srv.root_token}
        if headers:
            h.update(headers)
        kw = {"data": raw} if raw is not None else {"json": body}
        r = requests.request(method, self.base + "/api/v1" + path, params=params, headers=h,
                             timeout=HTTP_TIMEOUT, **kw)
        if expect is not None:
            assert r.status_code == expect, "%s %s -> %d %s" % (method, path, r.status_code, r.text[:500])
        return r.json() if r.content and r.headers.get("Content-Type", "").startswith("application/json") else r

    def account(self):
        return self.admin("POST", "/accounts", {"Name": "corp-" + uuid.uuid4().hex[:6], "AccountType": "Enterprise"},
                          expect=201)["Account"]["AccountId"]

    def verify_domain(self, name):
        rec = self.admin("POST", "/accounts/%s/domains" % self.acct, {"DomainName": name},
                         expect=201)["Domain"]["VerificationRecord"]
        self.dns.publish(rec["Name"], rec["Value"])
        self.admin("POST", "/accounts/%s/domains/%s" % (self.acct, name), params={"operation": "verify"}, expect=202)
        T.wait_for(lambda: self.admin("GET", "/accounts/%s/domains/%s" % (self.acct, name))["Domain"]["DomainStatus"]
                   == "Verified", 15, what=name + " Verified")

    def put_saml_config(self, xml=None, content_type="application/xml", **settings):
        """PUT saml-config: the XML body, or JSON {"MetadataDocument", settings...}."""
        path = "/accounts/%s/saml-config" % self.acct
        if content_type == "json":
            body = dict(settings)
            if xml is not None:
                body["MetadataDocument"] = xml.decode() if isinstance(xml, bytes) else xml
            return self.admin("PUT", path, body)["SamlConfig"]
        return self.admin("PUT", path, raw=xml, headers={"Content-Type": content_type})["SamlConfig"]

    def settings(self, **settings):
        """Changes AllowIdpInitiated / AllowSha1 / RelayStateAllowList, keeping the metadata."""
        return self.put_saml_config(self.idp.metadata(), "json", **settings)

    def restore(self):
        """Back to the env's own IdP with default settings; the SP metadata read again (a
        test may have deleted the configuration or rotated the SP key)."""
        self.config = self.put_saml_config(self.idp.metadata(), "json", AllowIdpInitiated=False, AllowSha1=False,
                                           RelayStateAllowList=[])
        self.sp_metadata = self.get_sp_metadata()
        self.idp.load_sp(self.sp_metadata)
        self.lasso = self.new_lasso()

    def sp_private_keys(self):
        """The SP private keys Tessera decrypts with now (current, and retired ones in their
        overlap), opened from the store as an operator holding the master key could."""
        now = T.now_ms()
        return [pem for _, _, pem, retired in S.sp_keys(self.srv.store, self.acct) if retired == 0 or retired >= now]

    def new_lasso(self):
        """Lasso for the SP metadata read last and the SP private keys of the store now."""
        return L.Lasso(self.dir + "/lasso", self.sp_metadata, self.idp.metadata(), self.sp_private_keys())

    def get_sp_metadata(self):
        r = requests.get(self.base + "/saml/%s/metadata" % self.acct, timeout=HTTP_TIMEOUT)
        assert r.status_code == 200, (r.status_code, r.text[:300])
        assert r.headers["Content-Type"].startswith("application/samlmetadata+xml"), r.headers
        return r.content

    def user(self, uid):
        return self.admin("GET", "/accounts/%s/users/%s" % (self.acct, uid))["User"]

    def user_state(self, uid):
        u = self.user(uid)
        return (u["UserRegistrationStatus"], u.get("RegisteredOn"), u.get("PersonalPIN"), u.get("ActiveSessions"))

    # ---- SCIM

    def scim(self, method, path, body=None, expect=None):
        r = requests.request(method, self.base + "/scim/v2" + path, json=body, timeout=HTTP_TIMEOUT,
                             headers={"Authorization": "Bearer " + self.scim_token, "Content-Type": SCIM_JSON,
                                      "Accept": SCIM_JSON})
        ok = expect or (201 if method == "POST" else 200)
        assert r.status_code in (ok, 204), "%s %s -> %d %s" % (method, path, r.status_code, r.text[:300])
        return r.json() if r.content else None

    def new_user(self, prefix="u", license="Pro", email=None):
        """A SCIM user (userName = primary email on example.com) in the licence's group."""
        name = email or "%s-%s@%s" % (prefix, uuid.uuid4().hex[:8], DOMAIN)
        u = self.scim("POST", "/Users", {"schemas": [USER], "userName": name, "active": True,
                                         "name": {"givenName": prefix, "familyName": "Test"},
                                         "emails": [{"value": name, "primary": True, "type": "work"}]})
        if license:
            self.scim("PATCH", "/Groups/" + self.groups[license],
                      {"schemas": [PATCHOP], "Operations": [{"op": "add", "path": "members",
                                                             "value": [{"value": u["id"]}]}]})
        return {"id": u["id"], "name": name, "license": license}

    # ---- the browser side

    def login(self, browser, relay_state=None, base=None):
        """GET /saml/{AccountId}/login: the 302 to the IdP; the AuthnRequest read and checked."""
        params = {"RelayState": relay_state} if relay_state is not None else None
        r = browser.get((base or self.base) + "/saml/%s/login" % self.acct, params=params,
                        allow_redirects=False, timeout=HTTP_TIMEOUT)
        assert r.status_code == 302, (r.status_code, r.text[:300])
        assert "saml_binding" in r.cookies, r.headers
        req = self.idp.read_request(r.headers["Location"])
        assert req.acs_url == self.idp.sp.acs_url, (req.acs_url, self.idp.sp.acs_url)
        return req

    def acs(self, browser, saml_response, relay_state=None, base=None, extra=None):
        """POST /saml/{AccountId}/acs; returns (response, request id sent)."""
        rid = "saml-" + uuid.uuid4().hex
        form = {"SAMLResponse": saml_response if isinstance(saml_response, str) else I.b64(saml_response)}
        if relay_state is not None:
            form["RelayState"] = relay_state
        if extra:
            form.update(extra)
        r = browser.post((base or self.base) + "/saml/%s/acs" % self.acct, data=form, allow_redirects=False,
                         headers={"X-Request-Id": rid}, timeout=HTTP_TIMEOUT)
        return r, rid

    def me(self, browser, base=None):
        return browser.get((base or self.base) + "/api/v1/me", timeout=HTTP_TIMEOUT)

    # ---- audit

    def signin_events(self, r, rid, timeout=5):
        """The SignIn events of one ACS call (matched by our X-Request-Id or the server's)."""
        ids = {rid, r.headers.get("X-Request-Id")}

        def mine():
            evs = self.admin("GET", "/audit-events", params={"eventName": "SignIn", "max-results": "1000"})["Events"]
            return [e for e in evs if e.get("clientRequestID") in ids or e.get("requestID") in ids]

        got = T.wait_for(mine, timeout, interval=0.05, what="the SignIn event of %s" % rid)
        time.sleep(0.05)  # a second event would be written by the same batch
        return mine() or got


SID_RE = re.compile(r"(^|[;,]\s*)(__Host-)?sid=", re.I)


def set_cookies(r):
    raw = r.raw.headers.getlist("Set-Cookie") if hasattr(r.raw.headers, "getlist") else [r.headers.get("Set-Cookie", "")]
    return [c for c in raw if c]


def assert_refused(env, r, rid, checks, browser, users, before, status=403):
    """A refusal: status, one generic page, no session cookie, no redirect, the users
    unchanged, exactly one SignIn event naming one of checks."""
    assert r.status_code == status, "expected %d, got %d: %s" % (status, r.status_code, r.text[:300])
    assert "Location" not in r.headers, r.headers.get("Location")
    assert not any(SID_RE.search(c) for c in set_cookies(r)), set_cookies(r)
    assert not any(c.name in ("sid", "__Host-sid") for c in browser.cookies), browser.cookies
    assert env.me(browser).status_code == 401
    for u in users:
        assert env.user_state(u["id"]) == before[u["id"]], (u["name"], before[u["id"]], env.user_state(u["id"]))
    evs = env.signin_events(r, rid)
    assert len(evs) == 1, evs
    ev = evs[0]
    assert ev["eventSource"] == "signin.tessera" and ev["eventName"] == "SignIn", ev
    assert ev.get("errorCode") in checks, (ev.get("errorCode"), checks, ev)
    if status == 403:
        assert "Sign-in failed" in r.text, r.text[:300]
        assert ev["errorCode"] not in r.text, "the page names the check"
    text = str(ev)
    # never the message itself: no XML, no base64 of it (pysaml2's "<?xml", "<samlp", "<ns0:")
    for needle in ("<?xml", "<ns0:", "<saml", "PD94bWwg", "PHNhbWxw", "PG5zMDpS"):
        assert needle not in text, (needle, ev)
    return ev


def assert_signed_in(env, r, rid, browser, user, license, role=None, location="/portal", first=True):
    """An accepted sign-in: 303 to location, a sid cookie, /api/v1/me naming user, licence and
    role, the user registered, one SignIn event with no errorCode."""
    if r.status_code != 303:
        try:
            why = [(e.get("errorCode"), e.get("errorMessage")) for e in env.signin_events(r, rid, timeout=2)]
        except AssertionError:
            why = "no SignIn event"
        raise AssertionError("expected 303, got %d (%s): %s" % (r.status_code, why, r.text[:200]))
    loc = r.headers["Location"]
    want = location if location.startswith("http") else env.base + location
    assert loc in (location, want), (loc, location)
    assert any(c.name in ("sid", "__Host-sid") for c in browser.cookies), list(browser.cookies)
    m = env.me(browser)
    assert m.status_code == 200, (m.status_code, m.text)
    me = m.json()["Me"]
    assert me["AccountId"] == env.acct and me["UserId"] == user["id"], me
    assert me["UserName"] == user["name"] and me["PrimaryEmail"] == user["name"], me
    assert me["LicenseType"] == license, me
    assert me["Role"] == role, me
    assert me["SessionExpires"], me
    u = env.user(user["id"])
    assert u["UserRegistrationStatus"] == "Registered", u
    assert u["RegisteredOn"], u
    assert re.fullmatch(r"[0-9]{10}", u["PersonalPIN"] or ""), u
    evs = env.signin_events(r, rid)
    assert len(evs) == 1 and not evs[0].get("errorCode"), evs
    assert evs[0]["userIdentity"].get("principalId") == user["id"], evs[0]
    return me
