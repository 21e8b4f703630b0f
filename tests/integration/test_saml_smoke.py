"""
A smoke test of SAML sign-in end to end with a real IdP (pysaml2 7, Debian
python3-pysaml2, which signs through /usr/bin/xmlsec1): SP-initiated sign-in
through /saml/{AccountId}/login and /acs, the session seen by /api/v1/me and
/portal, a replay refused, an unsolicited response refused, a response from
another browser refused, and one SignIn audit event per decision. The whole
attack catalogue is tests/integration/saml/'s; this is the short path that
shows the pieces fit (docs/saml.md).
"""
import base64
import os
import re
import subprocess
import urllib.parse
import time
import uuid

import pytest
import requests
from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT
from saml2.config import IdPConfig
from saml2.metadata import entity_descriptor
from saml2.saml import NAMEID_FORMAT_EMAILADDRESS, NameID
from saml2.server import Server as Saml2Server

import tessera_itest as T

RSA_SHA256 = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
SHA256 = "http://www.w3.org/2001/04/xmlenc#sha256"
ROLE = "https://aws.amazon.com/SAML/Attributes/Role"
ROLE_SESSION = "https://aws.amazon.com/SAML/Attributes/RoleSessionName"
DEV = "arn:aws:iam::123456789012:role/Dev"
ADMIN = "arn:aws:iam::123456789012:role/Admin"
PROVIDER = "arn:aws:iam::123456789012:saml-provider/Okta"
IDP_ENTITY = "https://idp.smoke.test/saml"
IDP_SSO = "https://idp.smoke.test/sso"


def sh(*args):
    subprocess.run(args, check=True, capture_output=True, timeout=60)


class Idp:
    """pysaml2 as the IdP: its key, its metadata, then Tessera's SP metadata loaded."""

    def __init__(self, workdir):
        self.dir = str(workdir)
        self.key = os.path.join(self.dir, "idp.key")
        self.crt = os.path.join(self.dir, "idp.crt")
        sh("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", self.key,
           "-out", self.crt, "-days", "30", "-subj", "/CN=idp.smoke.test")
        self.cfg = self._config(None)
        self.server = None

    def _config(self, sp_metadata):
        conf = {
            "entityid": IDP_ENTITY,
            "xmlsec_binary": "/usr/bin/xmlsec1",
            "key_file": self.key,
            "cert_file": self.crt,
            "service": {"idp": {
                "endpoints": {"single_sign_on_service": [(IDP_SSO, BINDING_HTTP_REDIRECT),
                                                         (IDP_SSO, BINDING_HTTP_POST)]},
                "name_id_format": [NAMEID_FORMAT_EMAILADDRESS],
                "policy": {"default": {"lifetime": {"minutes": 5},
                                       "name_form": "urn:oasis:names:tc:SAML:2.0:attrname-format:uri"}},
            }},
        }
        if sp_metadata:
            conf["metadata"] = {"local": [sp_metadata]}
        cfg = IdPConfig()
        cfg.load(conf)
        return cfg

    def metadata(self):
        return str(entity_descriptor(self.cfg)).encode()

    def load_sp(self, xml):
        path = os.path.join(self.dir, "sp.xml")
        with open(path, "wb") as f:
            f.write(xml)
        self.cfg = self._config(path)
        self.server = Saml2Server(config=self.cfg)

    def request_id(self, location):
        """The ID of the AuthnRequest in a Redirect-binding Location, read by pysaml2."""
        q = urllib.parse.parse_qs(urllib.parse.urlsplit(location).query)
        assert q["SigAlg"] == [RSA_SHA256] and q["Signature"], q
        parsed = self.server.parse_authn_request(q["SAMLRequest"][0], BINDING_HTTP_REDIRECT)
        return parsed.message.id, parsed.message.assertion_consumer_service_url

    def response(self, name_id, acs, sp_entity, in_response_to=None, roles=(), encrypt_to=None,
                 sign_response=True):
        identity = {}
        if roles:
            identity[ROLE] = list(roles)
            identity[ROLE_SESSION] = [name_id]
        xml = self.server.create_authn_response(
            identity=identity, in_response_to=in_response_to, destination=acs,
            sp_entity_id=sp_entity, name_id=NameID(format=NAMEID_FORMAT_EMAILADDRESS, text=name_id),
            authn={"class_ref": "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport"},
            sign_response=sign_response, sign_assertion=True, sign_alg=RSA_SHA256,
            digest_alg=SHA256,
            **({"encrypt_assertion": True, "encrypt_cert_assertion": encrypt_to}
               if encrypt_to else {}))
        xml = xml if isinstance(xml, bytes) else str(xml).encode()
        return base64.b64encode(xml).decode()


def literal(v):
    if isinstance(v, int):
        return str(v)
    return "'" + str(v).replace("'", "''") + "'"


def sql(store, query, params=()):
    """One statement with %s placeholders, on either backend (PgStore takes literal SQL)."""
    if store.kind == "sqlite":
        return store.sql(query.replace("%s", "?"), params)
    for p in params:
        query = query.replace("%s", literal(p), 1)
    return store.sql(query)


@pytest.fixture
def smoke(store, start_server, tmp_path):
    port = T.free_port()
    srv = start_server(init=True, port=port,
                       extra_args=["--base-url", "http://127.0.0.1:%d" % port])
    acct = srv.create_account("smoke", "Enterprise")["AccountId"]
    now = T.now_ms()
    # the directory: a verified domain, an IdP-managed directory, a user in a Pro group
    sql(store, "INSERT INTO domains (account_id, domain_name, status, token, created_ms, verified_ms, "
               "next_check_ms) VALUES (%s, 'example.com', 'Verified', 't', %s, %s, %s)",
        (acct, now, now, now + 86400000))
    sql(store, "INSERT INTO api_keys (api_key_id, account_id, secret_hash, created_ms) "
               "VALUES (%s, %s, %s, %s)", (str(uuid.uuid4()), acct, "0" * 64, now))
    uid = str(uuid.uuid4())
    sql(store, "INSERT INTO users (user_id, account_id, user_name, user_name_key, active, "
               "suspended, registration_status, created_ms, modified_ms) VALUES (%s, %s, "
               "'pat@example.com', 'pat@example.com', 1, 0, 'Unregistered', %s, %s)",
        (uid, acct, now, now))
    sql(store, "INSERT INTO user_emails (user_id, account_id, value, value_key, type, is_primary) "
               "VALUES (%s, %s, 'pat@example.com', 'pat@example.com', 'work', 1)", (uid, acct))
    gid = str(uuid.uuid4())
    sql(store, "INSERT INTO groups (group_id, account_id, display_name, display_key, created_ms, "
               "modified_ms) VALUES (%s, %s, 'hosts', 'hosts', %s, %s)", (gid, acct, now, now))
    sql(store, "INSERT INTO group_members (group_id, user_id) VALUES (%s, %s)", (gid, uid))
    r = srv.put("/api/v1/accounts/%s/groups" % acct,
                {"Groups": [{"GroupName": "hosts", "LicenseType": "Pro"}]})
    assert r.status_code == 200, r.text
    idp = Idp(tmp_path)
    r = srv.put("/api/v1/accounts/%s/saml-config" % acct, data=idp.metadata(),
                headers={"Content-Type": "application/xml"})
    assert r.status_code == 200, r.text
    sp = r.json()["SamlConfig"]["ServiceProvider"]
    md = requests.get(srv.url + "/saml/%s/metadata" % acct, timeout=10)
    assert md.status_code == 200 and md.headers["Content-Type"].startswith(
        "application/samlmetadata+xml"), md.text
    idp.load_sp(md.content)
    return srv, acct, uid, idp, sp


def signin_events(srv, n):
    def got():
        ev = srv.events(eventName="SignIn")
        return ev if len(ev) >= n else None
    return T.wait_for(got, timeout=10, what="%d SignIn events" % n)


def login(srv, acct, idp, browser, relay=None):
    params = {"RelayState": relay} if relay else None
    r = browser.get(srv.url + "/saml/%s/login" % acct, params=params, allow_redirects=False,
                    timeout=10)
    assert r.status_code == 302, r.text
    assert r.headers["Location"].startswith(IDP_SSO + "?")
    assert "saml_binding" in browser.cookies
    return idp.request_id(r.headers["Location"])


def test_sp_initiated_signin(smoke):
    srv, acct, uid, idp, sp = smoke
    browser = requests.Session()
    req_id, acs = login(srv, acct, idp, browser, relay="/portal?from=smoke")
    assert acs == sp["AcsUrl"]
    resp = idp.response("pat@example.com", sp["AcsUrl"], sp["EntityId"], req_id, roles=[
        DEV + "," + PROVIDER])
    r = browser.post(sp["AcsUrl"], data={"SAMLResponse": resp, "RelayState": "/ignored"},
                     allow_redirects=False, timeout=10)
    assert r.status_code == 303, r.text
    # the RelayState stored with the request wins over the one posted back
    assert r.headers["Location"] == "/portal?from=smoke"
    assert "sid" in browser.cookies
    me = browser.get(srv.url + "/api/v1/me", timeout=10)
    assert me.status_code == 200, me.text
    got = me.json()["Me"]
    assert got["AccountId"] == acct and got["UserId"] == uid
    assert got["UserName"] == "pat@example.com" and got["PrimaryEmail"] == "pat@example.com"
    assert got["LicenseType"] == "Pro"
    assert got["Role"] == {"RoleArn": DEV, "ProviderArn": PROVIDER,
                           "RoleSessionName": "pat@example.com"}
    page = browser.get(srv.url + "/portal", timeout=10)
    assert page.status_code == 200 and "pat@example.com" in page.text
    # the bearer form of the same token
    tok = browser.cookies["sid"]
    assert requests.get(srv.url + "/api/v1/me", headers={"Authorization": "Bearer " + tok},
                        timeout=10).json()["Me"]["UserId"] == uid
    assert requests.get(srv.url + "/api/v1/me", timeout=10).status_code == 401
    # the first sign-in registered the user
    u = srv.get("/api/v1/accounts/%s/users/%s" % (acct, uid)).json()["User"]
    assert u["UserRegistrationStatus"] == "Registered" and u["RegisteredOn"]
    # the same response again: a replay (the request is used too), one generic page
    r = browser.post(sp["AcsUrl"], data={"SAMLResponse": resp}, allow_redirects=False, timeout=10)
    assert r.status_code == 403 and "Sign-in failed" in r.text
    assert "set-cookie" not in r.headers and "location" not in r.headers
    assert "InResponseTo" not in r.text and "Replay" not in r.text
    ev = signin_events(srv, 2)
    newest, first = ev[0], ev[1]
    assert first.get("errorCode") is None
    assert first["userIdentity"]["type"] == "User"
    assert first["requestParameters"]["NameId"] == "pat@example.com"
    assert first["requestParameters"]["InResponseTo"] == req_id
    assert newest["errorCode"] == "RequestUnknown"
    body = str(ev)
    assert resp[:40] not in body  # never the SAMLResponse


def test_several_roles_give_the_chooser(smoke):
    srv, acct, uid, idp, sp = smoke
    browser = requests.Session()
    req_id, _ = login(srv, acct, idp, browser)
    resp = idp.response("pat@example.com", sp["AcsUrl"], sp["EntityId"], req_id,
                        roles=[DEV + "," + PROVIDER, PROVIDER + "," + ADMIN])
    r = browser.post(sp["AcsUrl"], data={"SAMLResponse": resp}, allow_redirects=False, timeout=10)
    assert r.status_code == 200, r.text
    assert "Choose a role" in r.text and ADMIN in r.text and DEV in r.text
    csrf = re.search(r'name="csrf" value="([^"]+)"', r.text).group(1)
    assert browser.get(srv.url + "/api/v1/me", timeout=10).json()["Me"]["Role"] is None
    # a wrong token is refused and changes nothing
    bad = browser.post(srv.url + "/saml/%s/role" % acct, data={"csrf": "x" * 43, "role": "1"},
                       allow_redirects=False, timeout=10)
    assert bad.status_code == 403
    r = browser.post(srv.url + "/saml/%s/role" % acct, data={"csrf": csrf, "role": "1"},
                     allow_redirects=False, timeout=10)
    assert r.status_code == 303 and r.headers["Location"] == "/portal", r.text
    role = browser.get(srv.url + "/api/v1/me", timeout=10).json()["Me"]["Role"]
    assert role["RoleArn"] == ADMIN and role["ProviderArn"] == PROVIDER


def test_refusals_leave_no_session(smoke):
    srv, acct, uid, idp, sp = smoke
    # unsolicited, while the account does not allow IdP-initiated sign-in
    unsolicited = idp.response("pat@example.com", sp["AcsUrl"], sp["EntityId"])
    b = requests.Session()
    r = b.post(sp["AcsUrl"], data={"SAMLResponse": unsolicited}, allow_redirects=False, timeout=10)
    assert r.status_code == 403 and "sid" not in b.cookies
    # a response to another browser's request: that browser has no binding cookie, so it
    # gets the resubmit page first (nothing consumed), then a refusal
    victim = requests.Session()
    req_id, _ = login(srv, acct, idp, victim)
    resp = idp.response("pat@example.com", sp["AcsUrl"], sp["EntityId"], req_id)
    thief = requests.Session()
    r = thief.post(sp["AcsUrl"], data={"SAMLResponse": resp}, allow_redirects=False, timeout=10)
    assert r.status_code == 200 and "resubmit.js" in r.text and 'name="resubmitted"' in r.text
    assert "script-src 'self'" in r.headers["Content-Security-Policy"]
    js = requests.get(srv.url + "/saml/static/resubmit.js", timeout=10)
    assert js.status_code == 200 and "submit()" in js.text
    r = thief.post(sp["AcsUrl"], data={"SAMLResponse": resp, "resubmitted": "1"},
                   allow_redirects=False, timeout=10)
    assert r.status_code == 403 and "sid" not in thief.cookies
    # the request was consumed by that refusal: the victim's own POST is refused as well
    r = victim.post(sp["AcsUrl"], data={"SAMLResponse": resp}, allow_redirects=False, timeout=10)
    assert r.status_code == 403
    # a tampered response (the NameID changed after signing)
    req2, _ = login(srv, acct, idp, victim)
    good = base64.b64decode(idp.response("pat@example.com", sp["AcsUrl"], sp["EntityId"], req2))
    bad = base64.b64encode(good.replace(b"pat@example.com", b"eve@example.com")).decode()
    r = victim.post(sp["AcsUrl"], data={"SAMLResponse": bad}, allow_redirects=False, timeout=10)
    assert r.status_code == 403 and "sid" not in victim.cookies
    # a form over 256 KiB
    r = victim.post(sp["AcsUrl"], data={"SAMLResponse": "A" * (300 * 1024)},
                    allow_redirects=False, timeout=10)
    assert r.status_code == 413
    ev = signin_events(srv, 4)
    codes = [e.get("errorCode") for e in ev[:4]]
    assert codes == ["Signature", "RequestUnknown", "RequestUnknown", "Unsolicited"], codes
    assert all(e["userIdentity"]["type"] in ("User", "Anonymous") for e in ev)
    u = srv.get("/api/v1/accounts/%s/users/%s" % (acct, uid)).json()["User"]
    assert u["UserRegistrationStatus"] == "Unregistered"


def test_unknown_accounts_and_no_base_url(store, start_server):
    port = T.free_port()
    srv = start_server(init=True, port=port,
                       extra_args=["--base-url", "http://127.0.0.1:%d" % port])
    acct = srv.create_account("bare", "Enterprise")["AccountId"]
    for path in ("/saml/%s/metadata" % acct, "/saml/%s/login" % acct, "/saml/nope/login"):
        r = requests.get(srv.url + path, allow_redirects=False, timeout=10)
        assert r.status_code == 404 and r.headers["Content-Type"].startswith("text/html"), path
    for a in (acct, "nope"):
        r = requests.post(srv.url + "/saml/%s/acs" % a, data={"SAMLResponse": "PHg+"},
                          allow_redirects=False, timeout=10)
        assert r.status_code == 403 and "Sign-in failed" in r.text
    ev = signin_events(srv, 2)
    assert [e.get("errorCode") for e in ev[:2]] == ["NotConfigured", "NotConfigured"]
    assert all(e["userIdentity"]["type"] == "Anonymous" for e in ev[:2])
    srv.terminate()
    # without --base-url the SAML endpoints refuse to guess their origin from Host
    bare = start_server()
    r = requests.get(bare.url + "/saml/%s/login" % acct, allow_redirects=False, timeout=10)
    assert r.status_code == 503 and "Retry-After" in r.headers
    assert "location" not in r.headers
    assert bare.stderr().count("SAML sign-in is off: serve --base-url is not set") == 1


def test_idp_initiated(smoke):
    srv, acct, uid, idp, sp = smoke
    r = srv.put("/api/v1/accounts/%s/saml-config" % acct,
                {"MetadataDocument": idp.metadata().decode(), "AllowIdpInitiated": True,
                 "RelayStateAllowList": ["https://app.example.com"]})
    assert r.status_code == 200, r.text
    b = requests.Session()
    unsolicited = idp.response("pat@example.com", sp["AcsUrl"], sp["EntityId"])
    r = b.post(sp["AcsUrl"], data={"SAMLResponse": unsolicited,
                                   "RelayState": "https://app.example.com/deep?x=1"},
               allow_redirects=False, timeout=10)
    assert r.status_code == 303 and r.headers["Location"] == "https://app.example.com/deep?x=1"
    assert b.get(srv.url + "/api/v1/me", timeout=10).json()["Me"]["UserId"] == uid
    # an origin off the list lands on the portal
    b2 = requests.Session()
    r = b2.post(sp["AcsUrl"], data={"SAMLResponse": idp.response("pat@example.com", sp["AcsUrl"],
                                                                 sp["EntityId"]),
                                    "RelayState": "https://evil.example/"},
                allow_redirects=False, timeout=10)
    assert r.status_code == 303 and r.headers["Location"] == "/portal"


def test_encrypted_assertion(smoke):
    srv, acct, uid, idp, sp = smoke
    # EncryptedAssertion to the SP certificate of the metadata
    md = requests.get(srv.url + "/saml/%s/metadata" % acct, timeout=10).text
    cert = re.search(r"<(?:\w+:)?X509Certificate>([^<]+)<", md).group(1)
    body = "".join(cert.split())
    pem = "-----BEGIN CERTIFICATE-----\n" + "\n".join(
        body[i:i + 64] for i in range(0, len(body), 64)) + "\n-----END CERTIFICATE-----\n"
    r = srv.put("/api/v1/accounts/%s/saml-config" % acct,
                {"MetadataDocument": idp.metadata().decode(), "AllowIdpInitiated": True})
    assert r.status_code == 200, r.text
    # the assertion signed, then encrypted (Okta's shape)
    b3 = requests.Session()
    enc = idp.response("pat@example.com", sp["AcsUrl"], sp["EntityId"], encrypt_to=pem,
                       sign_response=False)
    assert b"EncryptedAssertion" in base64.b64decode(enc)
    r = b3.post(sp["AcsUrl"], data={"SAMLResponse": enc}, allow_redirects=False, timeout=10)
    assert r.status_code == 303 and r.headers["Location"] == "/portal", r.text
    assert b3.get(srv.url + "/api/v1/me", timeout=10).json()["Me"]["UserId"] == uid
    # both signed, then the assertion encrypted (pysaml2 names both ds:Signature "Signature1")
    b4 = requests.Session()
    both = idp.response("pat@example.com", sp["AcsUrl"], sp["EntityId"], encrypt_to=pem)
    r = b4.post(sp["AcsUrl"], data={"SAMLResponse": both}, allow_redirects=False, timeout=10)
    assert r.status_code == 303 and b4.get(srv.url + "/api/v1/me", timeout=10).json()["Me"][
        "UserId"] == uid, r.text


def test_signin_rate_limit_per_client_address(store, start_server):
    """Anonymous sign-in steps write (a request kept, an audit event): one client address
    gets --signin-rate-limit per second with ten seconds' worth of burst, then 429 with
    Retry-After and a page; nothing is written for the refused ones (docs/saml.md)."""
    port = T.free_port()
    srv = start_server(init=True, port=port,
                       extra_args=["--base-url", "http://127.0.0.1:%d" % port,
                                   "--signin-rate-limit", "1"])
    acct = srv.create_account("limited", "Enterprise")["AccountId"]
    codes = []
    for _ in range(14):
        r = requests.post(srv.url + "/saml/%s/acs" % acct, data={"SAMLResponse": "PHg+"},
                          allow_redirects=False, timeout=10)
        codes.append(r.status_code)
        if r.status_code == 429:
            assert int(r.headers["Retry-After"]) >= 1
            assert r.headers["Content-Type"].startswith("text/html")
            assert "Too many sign-ins" in r.text
    # a burst of 10 (at 1/s, a token may come back during the loop)
    assert codes[:10] == [403] * 10, codes
    assert codes.count(429) >= 3, codes
    r = requests.get(srv.url + "/saml/%s/login" % acct, allow_redirects=False, timeout=10)
    assert r.status_code == 429
    # one audit event per admitted step, none for the refused ones
    ev = signin_events(srv, codes.count(403))
    assert len([e for e in ev if e.get("errorCode") == "NotConfigured"]) == codes.count(403)
    # the metadata is read-only and not limited
    r = requests.get(srv.url + "/saml/%s/metadata" % acct, timeout=10)
    assert r.status_code == 404


def test_metadata_past_valid_until_refuses(smoke):
    """SAML Metadata §2.3.2: metadata is not used after its validUntil. A document that
    expires in two seconds is accepted, signs a person in, then stops doing so."""
    srv, acct, uid, idp, sp = smoke
    until = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 3))
    doc = idp.metadata().decode().replace("entityID=", 'validUntil="%s" entityID=' % until, 1)
    r = srv.put("/api/v1/accounts/%s/saml-config" % acct,
                {"MetadataDocument": doc, "AllowIdpInitiated": True})
    assert r.status_code == 200, r.text
    b = requests.Session()
    r = b.post(sp["AcsUrl"], data={"SAMLResponse": idp.response("pat@example.com", sp["AcsUrl"],
                                                                sp["EntityId"])},
               allow_redirects=False, timeout=10)
    assert r.status_code == 303, r.text
    time.sleep(4)
    b2 = requests.Session()
    r = b2.post(sp["AcsUrl"], data={"SAMLResponse": idp.response("pat@example.com", sp["AcsUrl"],
                                                                 sp["EntityId"])},
                allow_redirects=False, timeout=10)
    assert r.status_code == 403 and "sid" not in b2.cookies
    assert signin_events(srv, 2)[0].get("errorCode") == "MetadataExpired"
    r = b2.get(srv.url + "/saml/%s/login" % acct, allow_redirects=False, timeout=10)
    assert r.status_code == 404 and "location" not in r.headers
