"""
OIDC sign-in end to end with a real provider (oidc-provider 8.8.1, op/op.mjs): the accepted
side of the OpenID RP certification cases of the Basic and Config profiles
(reference/federation-security.md §3): rp-response_type-code, rp-scope-userinfo-claims,
rp-token_endpoint-client_secret_basic (and _post), rp-id_token-sig-rs256 (and -es256),
rp-id_token-kid-absent-single-jwks and -multiple-jwks, rp-userinfo-bearer-header,
rp-discovery-openid-configuration, rp-discovery-jwks_uri-keys, rp-key-rotation-op-sign-key,
rp-3rd_party-init-login. Each ends with /api/v1/me naming the user and licence.
"""
import base64
import time

import oidcenv as E


def test_sp_initiated(env, browser, behave):
    user = env.new_person("sp")
    assert env.user(user["id"])["UserRegistrationStatus"] == "Unregistered"
    r = env.start(browser)
    q = E.query(r.headers["Location"])
    # rp-response_type-code, rp-scope-userinfo-claims, PKCE S256 (issue #13), state and nonce
    assert q["response_type"] == "code", q
    assert set(q["scope"].split()) >= {"openid", "email"}, q
    assert q["client_id"] == E.CLIENT_ID, q
    assert q["redirect_uri"] == env.base + E.CALLBACK, q
    assert q["code_challenge_method"] == "S256", q
    assert len(base64.urlsafe_b64decode(q["code_challenge"] + "=")) == 32, q
    for name in ("state", "nonce"):
        assert len(base64.urlsafe_b64decode(q[name] + "=" * (-len(q[name]) % 4))) >= 32, (name, q)
    assert q["state"] != q["nonce"]
    assert "login_hint" not in q
    assert "client_secret" not in r.headers["Location"] and E.CLIENT_SECRET not in r.headers["Location"]
    # the binding cookie: HttpOnly, and SameSite=Lax so the provider's redirect back (a
    # cross-site top-level GET) carries it (None would need Secure, and this is http)
    binding = [c for c in E.E.set_cookies(r) if c.split("=", 1)[0].endswith("tessera_oidc")]
    assert len(binding) == 1, E.E.set_cookies(r)
    attrs = [a.strip().lower() for a in binding[0].split(";")]
    assert "httponly" in attrs and "samesite=lax" in attrs, attrs
    before = env.op.stats()
    url = E.O.at_provider(env.op, browser, r.headers["Location"], user["sub"], env.base + E.CALLBACK)
    cb = E.query(url)
    assert cb["state"] == q["state"] and cb.get("iss") == env.op.issuer, cb
    r, rid = env.callback(browser, url)
    E.assert_signed_in(env, r, rid, browser, user, "Pro")
    after = env.op.stats()
    assert after["token"] == before["token"] + 1
    assert after["lastTokenAuth"] == "client_secret_basic", after  # rp-token_endpoint-client_secret_basic
    # the email claim was in the ID token: no userinfo call
    assert after["userinfo"] == before["userinfo"], (before, after)
    p = browser.get(env.base + "/portal", allow_redirects=False)
    assert p.status_code == 200 and user["name"] in p.text, (p.status_code, p.text[:300])


def test_basic_licence_and_registration_once(env, behave):
    user = env.new_person("basic", license="Basic")
    first = E.Browser()
    r, rid = env.sign_in(first, user)
    E.assert_signed_in(env, r, rid, first, user, "Basic")
    reg = env.user(user["id"])
    again = E.Browser()
    r, rid = env.sign_in(again, user)
    E.assert_signed_in(env, r, rid, again, user, "Basic")
    now = env.user(user["id"])
    assert (now["RegisteredOn"], now["PersonalPIN"]) == (reg["RegisteredOn"], reg["PersonalPIN"])


def test_third_party_initiated_same_origin_target(env, browser, behave):
    user = env.new_person("tpi")
    params = {"iss": env.op.issuer, "login_hint": user["name"], "target_link_uri": env.base + "/api/v1/me"}
    r = env.start(browser, params=params)
    q = E.query(r.headers["Location"])
    assert q["login_hint"] == user["name"], q
    url = E.O.at_provider(env.op, browser, r.headers["Location"], user["sub"], env.base + E.CALLBACK)
    assert env.op.stats()["lastAuthorize"]["login_hint"] == user["name"]
    r, rid = env.callback(browser, url)
    E.assert_signed_in(env, r, rid, browser, user, location=env.base + "/api/v1/me")


def test_third_party_initiated_foreign_target_lands_on_portal(env, behave):
    user = env.new_person("tpi-foreign")
    for target in ("https://evil.example/steal", "//evil.example/x", "http://127.0.0.1:1/other-origin",
                   "javascript:alert(1)"):
        b = E.Browser()
        r, rid = env.sign_in(b, user, params={"iss": env.op.issuer, "target_link_uri": target})
        E.assert_signed_in(env, r, rid, b, user, location="/portal")


def test_third_party_initiated_with_another_issuer_goes_nowhere(env, browser, behave):
    stats = env.op.stats()
    r = env.start(browser, params={"iss": "https://evil.example", "login_hint": "x@example.com"}, expect=None)
    assert r.status_code in (400, 403), (r.status_code, r.headers.get("Location"))
    assert "Location" not in r.headers, r.headers["Location"]
    assert env.op.stats()["authorize"] == stats["authorize"]


def test_userinfo_when_the_id_token_has_no_email(env, browser, behave):
    """rp-userinfo-bearer-header and rp-scope-userinfo-claims: the claim comes from userinfo,
    called with the access token in the Authorization header."""
    user = env.new_person("userinfo")
    env.op.mode(emailInIdToken=False)
    before = env.op.stats()
    r, rid = env.sign_in(browser, user)
    E.assert_signed_in(env, r, rid, browser, user)
    after = env.op.stats()
    assert after["userinfo"] == before["userinfo"] + 1, (before, after)
    assert after["userinfoBearer"] == before["userinfoBearer"] + 1, (before, after)


def test_client_secret_post_when_discovery_lists_only_it(env, browser, behave):
    user = env.new_person("post")
    env.op.mode(discovery={"token_endpoint_auth_methods_supported": ["client_secret_post"]})
    env.put_oidc_config(client_id=E.POST_CLIENT_ID)
    r, rid = env.sign_in(browser, user)
    E.assert_signed_in(env, r, rid, browser, user)
    assert env.op.stats()["lastTokenAuth"] == "client_secret_post"


def test_id_token_signed_es256(env, browser, behave):
    """rp-id_token-sig-es256: the provider's EC key of its JWKS, an algorithm its discovery lists."""
    user = env.new_person("es256")
    env.op.mode(idToken="sig-es256")
    r, rid = env.sign_in(browser, user)
    E.assert_signed_in(env, r, rid, browser, user)


def test_kid_absent_single_jwks(env, browser, behave):
    """rp-id_token-kid-absent-single-jwks: the JWKS holds one key, the ID token names no kid.
    A PUT reads the provider's JWKS again (docs/oidc.md, "What a PUT checks")."""
    user = env.new_person("kid-single")
    env.op.mode(jwks=["single"], signWith={"key": "single", "kid": False})
    env.put_oidc_config()
    r, rid = env.sign_in(browser, user)
    E.assert_signed_in(env, r, rid, browser, user)


def test_kid_absent_multiple_jwks(env, browser, behave):
    """rp-id_token-kid-absent-multiple-jwks: two RSA keys and an EC key, no kid: either every
    key of the algorithm's type is tried and the sign-in succeeds, or it is refused cleanly
    (both pass the case); the contract (jose.h) says every key is tried."""
    user = env.new_person("kid-multi")
    env.op.mode(jwks=["multi-a", "multi-b", "ec1"], signWith={"key": "multi-b", "kid": False})
    env.put_oidc_config()
    r, rid = env.sign_in(browser, user)
    E.assert_signed_in(env, r, rid, browser, user)


def test_hs256_with_the_client_secret_when_allowed(env, browser, behave):
    """rp-id_token-sig-hs256: accepted once the account allows HS256 (the key is the client
    secret); refused by default (test_oidc_hostile)."""
    user = env.new_person("hs256")
    env.put_oidc_config(AllowHs256=True)
    env.op.mode(idToken="hs256-client-secret")
    r, rid = env.sign_in(browser, user)
    E.assert_signed_in(env, r, rid, browser, user)


# src/oidc/web.h TS__OIDC_JWKS_REFRESH_MIN_MS: a JWKS is fetched again on an unknown kid only
# when the last fetch is this old
JWKS_REFRESH_MIN_S = 10.0


def test_key_rotation(env, behave):
    """rp-key-rotation-op-sign-key: a token under the current key, then the provider rotates
    (new JWKS, new kid): accepted after exactly one JWKS refresh, and the next token under the
    new key needs none."""
    user = env.new_person("rotate")
    env.put_oidc_config()
    fetched = time.monotonic()
    b = E.Browser()
    r, rid = env.sign_in(b, user)
    E.assert_signed_in(env, r, rid, b, user)
    rotated = "rot-" + rid[-8:]
    env.op.mode(jwks=[rotated], signWith={"key": rotated, "kid": True})
    time.sleep(max(0.0, JWKS_REFRESH_MIN_S + 0.5 - (time.monotonic() - fetched)))
    before = env.op.stats()["jwks"]
    b = E.Browser()
    r, rid = env.sign_in(b, user)
    E.assert_signed_in(env, r, rid, b, user)
    assert env.op.stats()["jwks"] == before + 1, "one refresh on the unknown kid"
    b = E.Browser()
    r, rid = env.sign_in(b, user)
    E.assert_signed_in(env, r, rid, b, user)
    assert env.op.stats()["jwks"] == before + 1, "the refreshed JWKS is kept"


def test_configuration_answer(env, behave):
    """The answer names the URIs to paste into Okta and never the secret; a read neither."""
    cfg = env.put_oidc_config()
    text = str(cfg)
    assert E.CLIENT_SECRET not in text
    assert env.base + E.CALLBACK in text, cfg
    assert env.base + "/auth/%s/oidc" % env.acct in text, cfg
    got = env.admin("GET", "/accounts/%s/openid-config" % env.acct)
    assert E.CLIENT_SECRET not in str(got) and env.op.issuer in str(got), got
