"""
A negative test for every row of federation-security.md §1 (the fixtures
are in samlcases.py, built from valid responses with lxml and xmlsec1). Each
asserts: 403 (413 for the size cap), one generic page, no `sid` cookie, no
redirect, the users named unchanged (the victim still Unregistered), and
exactly one SignIn audit event whose errorCode names the check. Every fixture
is also given to Lasso: it refuses it too, or the fixture's row in
samlcases.CASES says why Tessera is the stricter one (checked here to be so).
Lasso holds the SP private keys, opened from the store with the master key
by samlseal as an operator could, so the encrypted fixtures are given to it
like the others.

Lasso agreement table (samlcases.CASES, "lasso" column), as measured with
Debian's Lasso 2.8.1 and a fresh LassoLogin per message:

| fixture | Tessera | Lasso | why Tessera is stricter |
|---|---|---|---|
| XSW1, XSW2, XSW4-6, XSW8, XSW10, signed error + ds:Object | refuses | refuses | |
| XSW3 | refuses (AssertionCount) | refuses (signature not found) | |
| XSW7 | refuses (DuplicateId) | accepts Mallory's own signed assertion | duplicate IDs are refused outright |
| comment in NameID / RoleSessionName | refuses (Subject/Attribute) | accepts the whole text | markup in a value is refused |
| comment in Role, malformed Role or RoleSessionName | refuses (Attribute) | accepts | Lasso knows no AWS Role attribute |
| stripped, tampered, attacker key, metadata cert + attacker key | refuses | refuses | |
| unsigned Response: Destination changed | refuses | accepts | Lasso checks no Destination |
| unsigned Response: Status changed | refuses | refuses | |
| unsigned Response / SCD InResponseTo differ, unknown, another browser's | refuses | accepts | request state is the caller's |
| XXE, entity expansion, not base64, not XML | refuses | refuses | |
| every time case (future NotBefore, past NotOnOrAfter, no Z, garbage, 9999) | refuses | accepts | Lasso checks no times |
| Audience wrong / missing / one of two wrong, Conditions missing | refuses | accepts | Lasso checks no Audience |
| Recipient wrong, not bearer | refuses | accepts | Lasso checks no SubjectConfirmation |
| wrong Issuer (Response, Assertion) | refuses | refuses | |
| rsa-sha1, sha1 digest | refuses | accepts | Debian's Lasso has no minimum hash |
| two assertions | refuses | accepts | exactly one assertion |
| two assertions from two issuers, HMAC-SHA1 keyed with the public certificate | refuses | refuses | |
| no assertion, no NameID | refuses | refuses | |
| encrypted: unsigned inside | refuses (Signature) | refuses (signature not found) | |
| encrypted: to another key, garbage ciphertext | refuses (Decryption) | refuses (no assertion) | |
| encrypted: RSA1_5 key transport | refuses (Algorithm) | accepts | Tessera takes RSA-OAEP only |
| encrypted and plain assertion | refuses (AssertionCount) | refuses (the plain copy's signature fails) | |
| replay (same or second browser), unsolicited when not allowed | refuses | accepts | replay cache and IdP-initiated policy are the caller's |
"""
import re

import pytest

import samlcases as C
import samlenv as E
import samlforge as F
import samlidp as I
import samllasso as L
import samlseal as S


def _refuse_and_compare(env, browser, case, ctx):
    xml = case.build(ctx)
    form = xml if isinstance(xml, str) else I.b64(xml)
    users = [env.victim, env.mallory]
    before = {u["id"]: env.user_state(u["id"]) for u in users}
    assert before[env.victim["id"]][0] == "Unregistered", before
    r, rid = env.acs(browser, form)
    E.assert_refused(env, r, rid, case.check, browser, users, before)
    ok, why = env.lasso.verdict(form)
    if case.lasso is None:
        assert not ok, "Lasso accepts %s (%s) but the table says it refuses" % (case.name, why)
    else:
        assert ok, "the table says Tessera is stricter than Lasso on %s, but Lasso refuses it too: %s" % (case.name, why)


@pytest.mark.parametrize("case", C.CASES, ids=lambda c: c.name)
def test_hostile_response(env, browser, case):
    other = E.Browser()
    other_req = env.login(other)  # a request issued to another browser
    req = env.login(browser)
    ctx = C.Ctx(env.forge, req.id, env.victim["name"], env.mallory["name"], other_irt=other_req.id)
    _refuse_and_compare(env, browser, case, ctx)


def test_comment_injection_keeps_the_signature_valid(env):
    """The forge's comment injection is a real attack: xmlsec1 still verifies the signatures."""
    ctx = C.Ctx(env.forge, None, env.victim["name"], env.mallory["name"])
    xml = C.comment_in_name_id(ctx)
    root = C.F.reparse(xml)
    assert env.forge.check_signature(xml, root.get("ID"))
    assert env.forge.check_signature(xml, root.find(C.A + "Assertion").get("ID"))
    assert b"<!---->" in xml
    # and the tampered (unsigned-in-signed) fixture is not: the digest breaks
    bad = C.unsigned_assertion_tampered(ctx)
    assert not env.forge.check_signature(bad, C.F.reparse(bad).get("ID"))


def test_lasso_holds_the_sp_key_an_operator_opens(env, browser):
    """samlseal opens the SP private key with the master key file and the store alone
    (docs/secrets.md, on libsodium through ctypes, not Tessera's code): it is the key of the
    metadata's encryption certificate, it opens only at its own place and only with the store's
    master key, and it is what lets Lasso read an EncryptedAssertion."""
    keys = S.sp_keys(env.srv.store, env.acct)
    kid, cert, pem, _ = keys[-1]
    published = [S.x509.load_pem_x509_certificate(c.encode()) for c in env.idp.sp.encryption_certs]
    assert S.x509.load_pem_x509_certificate(cert.encode()) in published
    master = S.read_master_key(env.srv.store.key)
    _, sealed = S.sealed_private_key(env.srv.store, kid)
    assert S.open_sealed(master, sealed, S.OWNER_KIND, kid, S.SECRET_NAME).decode() == pem
    body = sealed.rsplit(".", 1)[1]
    flipped = sealed[:-len(body)] + ("A" if body[0] != "A" else "B") + body[1:]
    other_master = bytes([master[0] ^ 1]) + master[1:]
    for args in ((master, sealed, S.OWNER_KIND, kid[:-1] + ("0" if kid[-1] != "0" else "1"), S.SECRET_NAME),
                 (master, sealed, "oidc_client", kid, S.SECRET_NAME),
                 (master, sealed, S.OWNER_KIND, kid, "client_secret"),
                 (other_master, sealed, S.OWNER_KIND, kid, S.SECRET_NAME),
                 (master, flipped, S.OWNER_KIND, kid, S.SECRET_NAME)):
        with pytest.raises(S.SealError):
            S.open_sealed(*args)
    user = env.new_user("lasso-key")
    req = env.login(browser)
    ctx = C.Ctx(env.forge, req.id, user["name"], None)
    xml = env.forge.encrypt(env.forge.sign(ctx.draft(), assertion=True, response=False),
                            env.idp.sp.encryption_certs[0], F.AES256_GCM, F.RSA_OAEP)
    assert env.lasso.verdict(I.b64(xml)) == (True, user["name"])
    keyless = L.Lasso(env.dir + "/lasso-keyless", env.sp_metadata, env.idp.metadata(), [])
    ok, why = keyless.verdict(I.b64(xml))
    assert not ok and "MissingAssertion" in why, why


def _idp_initiated(env, allow):
    env.settings(AllowIdpInitiated=allow)


def test_unsolicited_refused_when_not_allowed(env, browser):
    _idp_initiated(env, False)
    users = [env.victim]
    before = {env.victim["id"]: env.user_state(env.victim["id"])}
    xml = env.idp.response(env.victim["name"], None)
    r, rid = env.acs(browser, xml)
    E.assert_refused(env, r, rid, ("Unsolicited",), browser, users, before)
    ok, _ = env.lasso.verdict(I.b64(xml))
    assert ok, "Lasso accepts an unsolicited response (the IdP-initiated policy is its caller's)"


def test_replay_from_the_same_and_a_second_browser(env, browser):
    user = env.new_user("replay")
    _idp_initiated(env, True)
    try:
        xml = env.idp.response(user["name"], None)
        r, rid = env.acs(browser, xml)
        E.assert_signed_in(env, r, rid, browser, user, "Pro")
        after_first = {user["id"]: env.user_state(user["id"])}
        second = E.Browser()
        r, rid = env.acs(second, xml)
        E.assert_refused(env, r, rid, ("Replay",), second, [user], after_first)
        third = E.Browser()
        r, rid = env.acs(third, xml)
        E.assert_refused(env, r, rid, ("Replay",), third, [user], after_first)
        assert env.lasso.verdict(I.b64(xml))[0], "a fresh LassoLogin has no replay cache"
    finally:
        _idp_initiated(env, False)


def test_sp_initiated_replay_in_the_same_browser(env, browser):
    user = env.new_user("replay-sp")
    req = env.login(browser)
    xml = env.idp.response(user["name"], req.id)
    r, rid = env.acs(browser, xml)
    E.assert_signed_in(env, r, rid, browser, user, "Pro")
    after = {user["id"]: env.user_state(user["id"])}
    fresh = E.Browser()
    fresh.cookies.update({c.name: c.value for c in browser.cookies if c.name.endswith("saml_binding")})
    r, rid = env.acs(fresh, xml)
    # the request is used and the assertion ID is in the cache: either check may answer first
    E.assert_refused(env, r, rid, ("Replay", "RequestUnknown"), fresh, [user], after)


def test_a_second_response_to_a_used_request(env, browser):
    user = env.new_user("once")
    req = env.login(browser)
    r, rid = env.acs(browser, env.idp.response(user["name"], req.id))
    E.assert_signed_in(env, r, rid, browser, user, "Pro")
    after = {user["id"]: env.user_state(user["id"]), env.victim["id"]: env.user_state(env.victim["id"])}
    b2 = E.Browser()
    b2.cookies.update({c.name: c.value for c in browser.cookies if c.name.endswith("saml_binding")})
    r, rid = env.acs(b2, env.idp.response(env.victim["name"], req.id))
    E.assert_refused(env, r, rid, ("RequestUnknown",), b2, [user, env.victim], after)


def test_body_over_the_cap_is_413(env, browser):
    env.login(browser)
    before = {env.victim["id"]: env.user_state(env.victim["id"])}
    r, rid = env.acs(browser, "A" * (300 * 1024))
    assert r.status_code == 413, (r.status_code, r.text[:200])
    assert "Location" not in r.headers
    assert not any(E.SID_RE.search(c) for c in E.set_cookies(r))
    assert env.me(browser).status_code == 401
    assert env.user_state(env.victim["id"]) == before[env.victim["id"]]


def test_response_without_the_binding_cookie_is_resubmitted_not_consumed(env, browser):
    """A cross-site POST over http drops the Lax saml_binding cookie: Tessera answers a page that
    re-posts the same fields with resubmitted=1 and consumes nothing; the re-post, which carries
    the cookie, signs in."""
    user = env.new_user("resubmit")
    req = env.login(browser)
    xml = env.idp.response(user["name"], req.id)
    binding = [c for c in browser.cookies if c.name.endswith("saml_binding")]
    for c in binding:  # the cross-site POST: the browser leaves the Lax cookie out
        browser.cookies.clear(c.domain, c.path, c.name)
    r, rid = env.acs(browser, xml, relay_state="/portal")
    assert r.status_code == 200, (r.status_code, r.text[:300])
    assert "/saml/static/resubmit.js" in r.text and "resubmitted" in r.text, r.text[:500]
    assert "noscript" in r.text.lower()
    assert I.b64(xml) in r.text.replace("&#43;", "+").replace("&#x2B;", "+").replace("&#61;", "=").replace("&#x3D;", "=")
    csp = r.headers.get("Content-Security-Policy", "")
    assert "script-src 'self'" in csp, csp
    assert not any(E.SID_RE.search(c) for c in E.set_cookies(r))
    assert env.user_state(user["id"])[0] == "Unregistered"
    js = browser.get(env.base + "/saml/static/resubmit.js")
    assert js.status_code == 200 and "javascript" in js.headers.get("Content-Type", ""), js.headers
    for c in binding:  # the re-post is same-site: the cookie comes along
        browser.cookies.set_cookie(c)
    r, rid = env.acs(browser, xml, relay_state="/portal", extra={"resubmitted": "1"})
    E.assert_signed_in(env, r, rid, browser, user, "Pro")


def test_resubmitted_without_the_cookie_is_another_browser(env, browser):
    env.login(browser)
    other = E.Browser()
    req = env.login(other)
    before = {env.victim["id"]: env.user_state(env.victim["id"])}
    cookieless = E.Browser()
    r, rid = env.acs(cookieless, env.idp.response(env.victim["name"], req.id), extra={"resubmitted": "1"})
    E.assert_refused(env, r, rid, ("RequestUnknown",), cookieless, [env.victim], before)
    # and with the cookie of a different browser
    r, rid = env.acs(browser, env.idp.response(env.victim["name"], req.id))
    E.assert_refused(env, r, rid, ("RequestUnknown",), browser, [env.victim], before)


HOSTILE_RELAY = {"absolute-other-origin": "https://evil.example/", "scheme-relative": "//evil.example/x",
                 "javascript": "javascript:alert(1)", "CR-LF": "/portal\r\nSet-Cookie: sid=evil",
                 "backslash": "/\\evil.example", "4KB": "/" + "a" * 4096}


@pytest.mark.parametrize("kind", list(HOSTILE_RELAY))
def test_hostile_relay_state_falls_back_to_portal(env, kind):
    rs = HOSTILE_RELAY[kind]
    user = env.new_user("relay")
    _idp_initiated(env, True)
    try:
        b = E.Browser()
        r, rid = env.acs(b, env.idp.response(user["name"], None), relay_state=rs)
        E.assert_signed_in(env, r, rid, b, user, "Pro", location="/portal")
        assert "evil" not in r.headers["Location"]
        assert not re.search(r"sid=evil", " ".join(E.set_cookies(r)))
    finally:
        _idp_initiated(env, False)


def test_a_refusal_leaves_no_replay_entry(env, browser):
    """federation-security.md §1 harness: a refused response writes no replay-cache entry, so
    the same (valid) response is taken once the account allows IdP-initiated sign-in."""
    user = env.new_user("noentry")
    _idp_initiated(env, False)
    xml = env.idp.response(user["name"], None)
    before = {user["id"]: env.user_state(user["id"])}
    r, rid = env.acs(browser, xml)
    E.assert_refused(env, r, rid, ("Unsolicited",), browser, [user], before)
    _idp_initiated(env, True)
    try:
        r, rid = env.acs(browser, xml)
        E.assert_signed_in(env, r, rid, browser, user, "Pro")
    finally:
        _idp_initiated(env, False)
