"""
The SAML identity source of an account (contract: /api/v1/accounts/{id}/saml-config):
Okta-shaped IdP metadata (the seeds' administrators upload Okta's
"Identity Provider metadata") loads with two signing certificates for a
rollover and both sign in; what the administrator copies into the IdP; the
JSON form and its settings (RelayState allow-list); bad metadata; DELETE;
the CLI; SP key rotation with both certificates published; the sign-in check's
last attempts and the certificate-expiry warning.
"""
import base64
import hashlib
import http.server
import re
import threading

import pytest

import samlenv as E
import samlidp as I
import tessera_itest as T

OKTA_SSO = "https://dev-123456.okta.com/app/dev-123456_tessera_1/exk1fcia6d6EMsf1G1d7/sso/saml"


@pytest.fixture
def restore(env):
    yield
    env.restore()


def _fingerprint(pem):
    der = base64.b64decode(I.cert_b64(pem))
    return hashlib.sha256(der).hexdigest()


def _norm_fp(s):
    return re.sub(r"[^0-9a-f]", "", s.lower())


def test_okta_metadata_with_two_certificates(env, browser, restore):
    old = I.keypair(env.dir, "okta-old", "okta-old", days=10)
    new = I.keypair(env.dir, "okta-new", "okta-new", days=365)
    entity_id, xml = I.okta_metadata([old[2], new[2]], OKTA_SSO)
    cfg = env.put_saml_config(xml, "application/xml")
    assert cfg["IdpEntityId"] == entity_id and cfg["IdpSsoUrl"] == OKTA_SSO, cfg
    got = {_norm_fp(c["Sha256Fingerprint"]): c for c in cfg["Certificates"]}
    assert set(got) == {_fingerprint(old[2]), _fingerprint(new[2])}, cfg["Certificates"]
    assert got[_fingerprint(old[2])]["ExpiresInDays"] in (9, 10), got
    assert got[_fingerprint(new[2])]["ExpiresInDays"] >= 360, got
    sp = cfg["ServiceProvider"]
    base = env.base + "/saml/" + env.acct
    assert sp["EntityId"] == base + "/metadata" and sp["MetadataUrl"] == base + "/metadata", sp
    assert sp["AcsUrl"] == base + "/acs" and sp["LoginUrl"] == base + "/login", sp
    assert sp["Certificates"] and any(c["Current"] for c in sp["Certificates"]), sp
    assert env.admin("GET", "/accounts/%s/saml-config" % env.acct)["SamlConfig"] == cfg
    # the SP metadata says the same
    md = I.SpMetadata(env.get_sp_metadata())
    assert md.entity_id == sp["EntityId"] and md.acs_url == sp["AcsUrl"]
    assert md.signing_certs and md.encryption_certs
    # both certificates of the rollover sign people in
    for key, who in ((new, "okta-new"), (old, "okta-old")):
        idp = I.Idp(env.dir + "/" + who, entity_id=entity_id, sso_url=OKTA_SSO, key=key, name=who)
        idp.load_sp(env.get_sp_metadata())
        user = env.new_user(who)
        b = E.Browser()
        r = b.get(env.base + "/saml/%s/login" % env.acct, allow_redirects=False)
        assert r.status_code == 302 and r.headers["Location"].startswith(OKTA_SSO + "?"), r.headers
        req = idp.read_request(r.headers["Location"])
        r, rid = env.acs(b, idp.response(user["name"], req.id))
        E.assert_signed_in(env, r, rid, b, user, "Pro")


def test_expiring_certificate_warning_and_gauge(env, restore):
    old = I.keypair(env.dir, "expiring", "expiring", days=10)
    env.put_saml_config(I.okta_metadata([old[2], env.idp.cert_pem], OKTA_SSO)[1], "application/xml")
    chk = env.admin("GET", "/accounts/%s/users/%s/sign-in-check" % (env.acct, env.victim["id"]))["SignInCheck"]
    assert any("expires in" in w for w in chk.get("Warnings", [])), chk

    def soonest():  # the upkeep thread recomputes the gauge shortly after the change
        metrics = T.requests.get(env.base + "/metrics", timeout=10).text
        m = re.search(r'^tessera_saml_idp_cert_expiry_seconds\{account="%s"\} (\S+)$' % env.acct, metrics, re.M)
        return m and 8 * 86400 < float(m.group(1)) <= 10 * 86400 + 60 and m.group(0)

    T.wait_for(soonest, 10, interval=0.2, what="the expiry gauge of the 10-day certificate")


def _attempts(env, user, email=None):
    chk = env.admin("GET", "/accounts/%s/users/%s/sign-in-check" % (env.acct, user["id"]),
                    params={"email": email} if email else None)["SignInCheck"]
    return [(a["Outcome"], a["Check"], a["Source"]) for a in chk["LastSignInAttempts"]]


def test_attempts_show_in_the_sign_in_check(env, browser):
    """A directory refusal, then a sign-in: newest first."""
    user = env.new_user("seen", license=None)
    req = env.login(browser)
    r, rid = env.acs(browser, env.idp.response(user["name"], req.id))
    assert r.status_code == 403
    env.scim("PATCH", "/Groups/" + env.groups["Basic"],
             {"schemas": [E.PATCHOP], "Operations": [{"op": "add", "path": "members", "value": [{"value": user["id"]}]}]})
    b2 = E.Browser()
    req = env.login(b2)
    r, rid = env.acs(b2, env.idp.response(user["name"], req.id))
    E.assert_signed_in(env, r, rid, b2, user, "Basic")
    assert _attempts(env, user) == [("Allowed", None, "saml"), ("Refused", "LicensedGroup", "saml")]


def test_a_refused_signature_algorithm_shows_in_the_sign_in_check(env, browser):
    """The administrator's case: the IdP signs with SHA-1; the user's check says so."""
    user = env.new_user("sha1seen")
    req = env.login(browser)
    r, rid = env.acs(browser, env.idp.response(user["name"], req.id, sign_alg=I.RSA_SHA1, digest_alg=I.SHA1))
    assert r.status_code == 403
    # the refusal is filed under the NameID it claimed (unverified), so the check for that address
    # shows it; the user's own check (no ?email) must show it too: the NameID is their userName
    assert _attempts(env, user, email=user["name"]) == [("Refused", "Algorithm", "saml")]
    assert _attempts(env, user) == [("Refused", "Algorithm", "saml")], "not listed without ?email="


def test_json_document_settings_and_allow_list(env, restore):
    cfg = env.put_saml_config(env.idp.metadata(), "json", AllowIdpInitiated=True,
                              RelayStateAllowList=["https://app.example.com"])
    assert cfg["AllowIdpInitiated"] is True and cfg["AllowSha1"] is False, cfg
    assert cfg["RelayStateAllowList"] == ["https://app.example.com"], cfg
    assert cfg["IdpEntityId"] == env.idp.entity_id and cfg["MetadataUrl"] is None
    # XML body again: the settings keep their values
    cfg = env.put_saml_config(env.idp.metadata(), "text/xml")
    assert cfg["AllowIdpInitiated"] is True and cfg["RelayStateAllowList"] == ["https://app.example.com"], cfg
    user = env.new_user("deep")
    for rs, where in [("https://app.example.com/deep/link?x=1", "https://app.example.com/deep/link?x=1"),
                      ("https://app.example.com.evil.example/", "/portal"),
                      ("/api/v1/me?tab=roles", "/api/v1/me?tab=roles")]:
        b = E.Browser()
        r, rid = env.acs(b, env.idp.response(user["name"], None), relay_state=rs)
        E.assert_signed_in(env, r, rid, b, user, "Pro", location=where)


@pytest.mark.parametrize("bad", [
    b"<notmetadata/>",
    b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e "x">]><md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="&e;"/>',
    b"not xml at all",
])
def test_bad_metadata_is_400(env, bad):
    r = env.admin("PUT", "/accounts/%s/saml-config" % env.acct, raw=bad,
                  headers={"Content-Type": "application/xml"}, expect=400)
    assert r["Code"] == "BadRequestException" and r["Message"], r
    # the configuration in place is untouched
    assert env.admin("GET", "/accounts/%s/saml-config" % env.acct)["SamlConfig"]["IdpEntityId"] == env.idp.entity_id


def test_delete_then_not_configured(env, browser, restore):
    r = env.admin("DELETE", "/accounts/%s/saml-config" % env.acct, expect=204)
    env.admin("GET", "/accounts/%s/saml-config" % env.acct, expect=404)
    env.admin("DELETE", "/accounts/%s/saml-config" % env.acct, expect=404)
    before = {env.victim["id"]: env.user_state(env.victim["id"])}
    r, rid = env.acs(browser, env.idp.response(env.victim["name"], None))
    E.assert_refused(env, r, rid, ("NotConfigured",), browser, [env.victim], before)
    names = [e["eventName"] for e in env.admin("GET", "/audit-events", params={"max-results": "50"})["Events"]]
    assert "DeleteSamlConfig" in names and "PutSamlConfig" in names


def test_cli_configure(env, restore):
    path = env.dir + "/cli-idp.xml"
    entity_id, xml = I.okta_metadata([env.idp.cert_pem], OKTA_SSO)
    with open(path, "wb") as f:
        f.write(xml)
    out = T.cli_json("saml", "configure", "--account", env.acct, "--idp-metadata", path, "--allow-idp-initiated",
                     "--db", env.srv.db, "--master-key-file", env.srv.key_file)
    cfg = out["SamlConfig"]
    assert cfg["IdpEntityId"] == entity_id and cfg["AllowIdpInitiated"] is True, cfg
    assert env.admin("GET", "/accounts/%s/saml-config" % env.acct)["SamlConfig"]["IdpEntityId"] == entity_id


def test_sp_key_rotation_publishes_both(env, browser, restore):
    old_md = I.SpMetadata(env.get_sp_metadata())
    cfg = env.admin("POST", "/accounts/%s/saml-config" % env.acct, params={"operation": "rotate-sp-key"})["SamlConfig"]
    certs = cfg["ServiceProvider"]["Certificates"]
    assert len(certs) == 2 and sum(1 for c in certs if c["Current"]) == 1, certs
    new_md = I.SpMetadata(env.get_sp_metadata())
    assert set(old_md.signing_certs) < set(new_md.signing_certs), "the old certificate stays published"
    # the AuthnRequest is signed by the new key
    env.idp.load_sp(env.get_sp_metadata())
    user = env.new_user("rotated")
    req = env.login(browser)
    assert req.signed_by not in old_md.signing_certs
    # an IdP that still encrypts to the old certificate is understood during the overlap
    xml = env.forge.sign(E.F.Draft(env.idp.response(user["name"], req.id, sign_response=False, sign_assertion=False)),
                         assertion=True)
    xml = env.forge.encrypt(xml, old_md.encryption_certs[0])
    r, rid = env.acs(browser, xml)
    E.assert_signed_in(env, r, rid, browser, user, "Pro")
    # Lasso, given both SP private keys as Tessera holds them (samlseal), reads it too
    keys = env.sp_private_keys()
    assert len(keys) == 2, len(keys)
    lasso = E.L.Lasso(env.dir + "/lasso-rotated", env.get_sp_metadata(), env.idp.metadata(), keys)
    assert lasso.verdict(I.b64(xml)) == (True, user["name"])
    names = [e["eventName"] for e in env.admin("GET", "/audit-events", params={"max-results": "50"})["Events"]]
    assert "RotateSamlSpKey" in names


def test_policies(env):
    ro = env.admin("POST", "/admin-keys", {"Policies": ["ReadOnly"]}, expect=201)["AdminKey"]["Token"]
    um = env.admin("POST", "/admin-keys", {"Policies": ["UserManagement"]}, expect=201)["AdminKey"]["Token"]
    path = env.base + "/api/v1/accounts/%s/saml-config" % env.acct
    for tok in (ro, um):
        h = {"Authorization": "Bearer " + tok}
        assert T.requests.get(path, headers=h, timeout=10).status_code == 200
        r = T.requests.put(path, data=env.idp.metadata(), headers=dict(h, **{"Content-Type": "application/xml"}), timeout=10)
        assert r.status_code == 403, r.text
        assert T.requests.delete(path, headers=h, timeout=10).status_code == 403


def test_metadata_url_over_loopback_http(env, restore):
    """{"MetadataUrl"}: fetched by Tessera (http allowed to loopback only)."""
    body = env.idp.metadata()

    class H(http.server.BaseHTTPRequestHandler):
        def log_message(self, *a):
            pass

        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Type", "application/samlmetadata+xml")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    try:
        url = "http://127.0.0.1:%d/app/exk1/sso/saml/metadata" % srv.server_address[1]
        cfg = env.admin("PUT", "/accounts/%s/saml-config" % env.acct, {"MetadataUrl": url})["SamlConfig"]
        assert cfg["MetadataUrl"] == url and cfg["MetadataFetchedOn"], cfg
        assert cfg["IdpEntityId"] == env.idp.entity_id, cfg
        r = env.admin("PUT", "/accounts/%s/saml-config" % env.acct, {"MetadataUrl": "http://idp.example.test/md"},
                      expect=400)
        assert r["Code"] == "BadRequestException", r
    finally:
        srv.shutdown()
        srv.server_close()
