"""
Sign-in end to end with a real IdP (pysaml2 7.0.1, RSA-SHA256): SP-initiated
(Tessera's AuthnRequest read from the 302 and its signature checked with the
SP certificate of Tessera's metadata) and IdP-initiated; the Response, the
Assertion or both signed; EncryptedAssertion (pysaml2's own, and AES-256-GCM
from xmlsec1); the AWS Role attribute (one role taken, two give the chooser);
the first sign-in registers the user. Each ends with /api/v1/me naming the
user, licence and role, and Lasso accepts the same message (the encrypted
ones too: Lasso holds the SP private key, see samlseal).
"""
import html
import re

import pytest

import samlcases as C
import samlenv as E
import samlforge as F
import samlidp as I

ROLE_DEV = {"RoleArn": "arn:aws:iam::123456789012:role/Dev",
            "ProviderArn": "arn:aws:iam::123456789012:saml-provider/Okta"}
ROLE_ADMIN = {"RoleArn": "arn:aws:iam::123456789012:role/Admin",
              "ProviderArn": "arn:aws:iam::123456789012:saml-provider/Okta"}


def _unregistered(env, user):
    u = env.user(user["id"])
    assert u["UserRegistrationStatus"] == "Unregistered", u
    assert u["RegisteredOn"] is None, u


@pytest.mark.parametrize("signed", ["response", "assertion", "both"])
def test_sp_initiated(env, browser, signed):
    user = env.new_user("sp-" + signed)
    _unregistered(env, user)
    req = env.login(browser, relay_state="/api/v1/me")
    assert req.relay_state == "/api/v1/me"
    assert req.protocol_binding == "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"
    xml = env.idp.response(user["name"], req.id, sign_response=signed in ("response", "both"),
                           sign_assertion=signed in ("assertion", "both"))
    r, rid = env.acs(browser, xml, relay_state=req.relay_state)
    E.assert_signed_in(env, r, rid, browser, user, "Pro", location="/api/v1/me")
    assert env.lasso.verdict(I.b64(xml)) == (True, user["name"])


def test_idp_initiated_when_allowed(env, browser):
    user = env.new_user("idp", license="Basic")
    env.settings(AllowIdpInitiated=True)
    try:
        xml = env.idp.response(user["name"], None)
        r, rid = env.acs(browser, xml)
        E.assert_signed_in(env, r, rid, browser, user, "Basic")
        assert env.lasso.verdict(I.b64(xml)) == (True, user["name"])
    finally:
        env.settings(AllowIdpInitiated=False)


def test_registration_happens_once(env, browser):
    user = env.new_user("reg")
    req = env.login(browser)
    r, rid = env.acs(browser, env.idp.response(user["name"], req.id))
    E.assert_signed_in(env, r, rid, browser, user, "Pro")
    first = env.user(user["id"])
    b2 = E.Browser()
    req = env.login(b2)
    r, rid = env.acs(b2, env.idp.response(user["name"], req.id))
    E.assert_signed_in(env, r, rid, b2, user, "Pro")
    again = env.user(user["id"])
    assert (again["RegisteredOn"], again["PersonalPIN"]) == (first["RegisteredOn"], first["PersonalPIN"])


def test_encrypted_assertion_from_pysaml2(env, browser):
    user = env.new_user("enc")
    req = env.login(browser)
    xml = env.idp.response(user["name"], req.id, sign_response=False, sign_assertion=True, encrypt=True)
    assert b"EncryptedAssertion" in xml and b"<ns1:Assertion" not in xml
    r, rid = env.acs(browser, xml)
    E.assert_signed_in(env, r, rid, browser, user, "Pro")
    assert env.lasso.verdict(I.b64(xml)) == (True, user["name"])


def test_encrypted_assertion_aes_gcm_rsa_oaep(env, browser):
    user = env.new_user("gcm")
    req = env.login(browser)
    ctx = C.Ctx(env.forge, req.id, user["name"], None)
    signed = env.forge.sign(ctx.draft(), assertion=True, response=False)
    xml = env.forge.encrypt(signed, env.idp.sp.encryption_certs[0], F.AES256_GCM, F.RSA_OAEP)
    r, rid = env.acs(browser, xml)
    E.assert_signed_in(env, r, rid, browser, user, "Pro")
    assert env.lasso.verdict(I.b64(xml)) == (True, user["name"])


def test_signature_without_keyinfo(env, browser):
    """KeyInfo is never a key source: without it the metadata key still verifies."""
    user = env.new_user("nokeyinfo")
    req = env.login(browser)
    ctx = C.Ctx(env.forge, req.id, user["name"], None)
    xml = env.forge.sign(ctx.draft(), assertion=True, response=True, keyinfo=False)
    assert b"KeyInfo" not in xml
    r, rid = env.acs(browser, xml)
    E.assert_signed_in(env, r, rid, browser, user, "Pro")
    assert env.lasso.verdict(I.b64(xml)) == (True, user["name"])


@pytest.mark.parametrize("name,build", C.ACCEPTED_TIMES, ids=[n for n, _ in C.ACCEPTED_TIMES])
def test_time_boundary_accepted_side(env, browser, name, build):
    user = env.new_user("time")
    req = env.login(browser)
    xml = build(C.Ctx(env.forge, req.id, user["name"], None))
    r, rid = env.acs(browser, xml)
    E.assert_signed_in(env, r, rid, browser, user, "Pro")
    assert env.lasso.verdict(I.b64(xml)) == (True, user["name"])


def test_sha1_when_the_account_opts_in(env, browser):
    user = env.new_user("sha1")
    env.settings(AllowSha1=True)
    try:
        req = env.login(browser)
        xml = C.sha1(C.Ctx(env.forge, req.id, user["name"], None))
        r, rid = env.acs(browser, xml)
        E.assert_signed_in(env, r, rid, browser, user, "Pro")
    finally:
        env.settings(AllowSha1=False)


@pytest.mark.parametrize("order", ["role-first", "provider-first"])
def test_one_role_is_taken(env, browser, order):
    user = env.new_user("role")
    req = env.login(browser)
    value = "%s,%s" % (ROLE_DEV["RoleArn"], ROLE_DEV["ProviderArn"])
    if order == "provider-first":
        value = "%s,%s" % (ROLE_DEV["ProviderArn"], ROLE_DEV["RoleArn"])
    xml = env.idp.response(user["name"], req.id, {I.ROLE_ATTR: [value], I.SESSION_ATTR: "pat.dev"})
    r, rid = env.acs(browser, xml)
    E.assert_signed_in(env, r, rid, browser, user, "Pro", role=dict(ROLE_DEV, RoleSessionName="pat.dev"))


def _form(page):
    """(action, {name: value} of hidden inputs, [role values]) of the chooser page."""
    action = re.search(r'<form[^>]*action="([^"]+)"', page, re.I)
    assert action, page[:800]
    hidden = {html.unescape(m.group(1)): html.unescape(m.group(2)) for m in
              re.finditer(r'<input[^>]*type="hidden"[^>]*name="([^"]+)"[^>]*value="([^"]*)"', page, re.I)}
    roles = [html.unescape(v) for v in re.findall(r'name="role"[^>]*value="([^"]*)"', page, re.I)]
    roles += [html.unescape(v) for v in re.findall(r'value="([^"]*)"[^>]*name="role"', page, re.I)]
    return html.unescape(action.group(1)), hidden, roles


def test_two_roles_give_the_chooser(env, browser):
    user = env.new_user("chooser")
    req = env.login(browser)
    values = ["%s,%s" % (ROLE_DEV["RoleArn"], ROLE_DEV["ProviderArn"]),
              "%s,%s" % (ROLE_ADMIN["ProviderArn"], ROLE_ADMIN["RoleArn"])]
    r, rid = env.acs(browser, env.idp.response(user["name"], req.id, {I.ROLE_ATTR: values, I.SESSION_ATTR: "pat"}),
                     relay_state="/api/v1/me")
    assert r.status_code == 200, (r.status_code, r.text[:300])
    assert ROLE_DEV["RoleArn"] in r.text and ROLE_ADMIN["RoleArn"] in r.text
    # the session may exist already (saml-web opens it with no role), but carries no role yet
    pre = env.me(browser)
    assert pre.status_code == 401 or pre.json()["Me"]["Role"] is None, pre.text
    action, hidden, roles = _form(r.text)
    assert action.endswith("/saml/%s/role" % env.acct), action
    assert hidden.get("csrf"), hidden
    assert sorted(roles) == ["0", "1"], roles
    # a forged choice (wrong csrf) is refused and leaves no session
    bad = browser.post(env.base + "/saml/%s/role" % env.acct, data=dict(hidden, csrf="x" * 32, role="1"),
                       allow_redirects=False)
    assert bad.status_code in (400, 403) and "Location" not in bad.headers, bad.status_code
    pre = env.me(browser)
    assert pre.status_code == 401 or pre.json()["Me"]["Role"] is None, pre.text
    # the person picks Admin
    r2 = browser.post(env.base + "/saml/%s/role" % env.acct, data=dict(hidden, role="1"), allow_redirects=False)
    assert r2.status_code == 303 and r2.headers["Location"] in ("/api/v1/me", env.base + "/api/v1/me"), (r2.status_code, r2.headers)
    me = env.me(browser).json()["Me"]
    assert me["UserId"] == user["id"] and me["LicenseType"] == "Pro"
    assert me["Role"] == dict(ROLE_ADMIN, RoleSessionName="pat"), me
    u = env.user(user["id"])
    assert u["UserRegistrationStatus"] == "Registered" and u["RegisteredOn"]
    # only an offered role can be chosen
    for bad_index in ("2", "-1", "x"):
        again = browser.post(env.base + "/saml/%s/role" % env.acct, data=dict(hidden, role=bad_index),
                             allow_redirects=False)
        assert again.status_code in (400, 403), (bad_index, again.status_code)
    assert env.me(browser).json()["Me"]["Role"] == dict(ROLE_ADMIN, RoleSessionName="pat")


def test_portal_names_the_user(env, browser):
    user = env.new_user("portal")
    req = env.login(browser)
    r, rid = env.acs(browser, env.idp.response(user["name"], req.id))
    E.assert_signed_in(env, r, rid, browser, user, "Pro")
    p = browser.get(env.base + "/portal", allow_redirects=False)
    assert p.status_code == 200 and user["name"] in p.text, (p.status_code, p.text[:300])
    anon = E.Browser().get(env.base + "/portal", allow_redirects=False)
    assert anon.status_code in (302, 401) and user["name"] not in anon.text


def test_directory_rules_after_a_valid_response(env, browser):
    """A valid response for someone the directory refuses: the rule is the check named."""
    nobody = {"id": None, "name": "nobody@example.com"}
    unlicensed = env.new_user("nolicence", license=None)
    for who, check in [(nobody, "IdentityMatch"), (unlicensed, "LicensedGroup")]:
        b = E.Browser()
        users = [unlicensed] if who is unlicensed else []
        before = {u["id"]: env.user_state(u["id"]) for u in users}
        assert all(v[0] == "Unregistered" for v in before.values()), before
        req = env.login(b)
        r, rid = env.acs(b, env.idp.response(who["name"], req.id))
        E.assert_refused(env, r, rid, (check,), b, users, before)


def test_cookie_attributes(env, browser):
    """saml_binding: HttpOnly, SameSite=Lax over http (None needs Secure); sid: HttpOnly."""
    r = browser.get(env.base + "/saml/%s/login" % env.acct, allow_redirects=False)
    assert r.status_code == 302
    binding = [c for c in E.set_cookies(r) if c.startswith("saml_binding=")]
    assert len(binding) == 1, E.set_cookies(r)
    attrs = [a.strip().lower() for a in binding[0].split(";")]
    assert "httponly" in attrs and "samesite=lax" in attrs, attrs
    user = env.new_user("cookie")
    req = env.idp.read_request(r.headers["Location"])
    r, rid = env.acs(browser, env.idp.response(user["name"], req.id))
    E.assert_signed_in(env, r, rid, browser, user, "Pro")
    sid = [c for c in E.set_cookies(r) if c.startswith("sid=")]
    assert len(sid) == 1 and "httponly" in sid[0].lower(), E.set_cookies(r)
