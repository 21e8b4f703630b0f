"""
The refused side: each RP certification case of the Basic and Config profiles that an RP must
reject (reference/federation-security.md §3), plus bad-signature ES256, HS256 keyed with the
RSA public key, an expired token, state replay, a callback without state, a state from
another browser, the provider's access_denied, a wrong RFC 9207 iss, a key never found, and
discovery issuer mismatch at configuration. The provider misbehaves through op/op.mjs's
switch, with a real provisioned, licensed user signing in: only the check can refuse.

Every refusal: 403, the generic "Sign-in failed" page not naming the check, no session
cookie, /api/v1/me 401, the user's registration untouched, and exactly one SignIn event
(Protocol "oidc") whose errorCode is the check (docs/oidc.md, "Sign-in").
"""
import uuid

import pytest

import oidcenv as E
import tessera_itest as T

# The check each case must name (docs/oidc.md, src/oidc/idtoken.h's TS_OIDC_CHECK_TABLE and
# src/oidc/callback.c).
STATE = ("State",)
ID_TOKEN_CASES = [
    # (op.mjs idToken mode, checks)                  RP certification case
    ("nonce", ("Nonce",)),                           # rp-nonce-invalid
    ("aud", ("Audience",)),                          # rp-id_token-aud (wrong)
    ("aud-missing", ("Audience",)),                  # rp-id_token-aud (missing)
    ("azp", ("AuthorizedParty",)),                   # azp names another client
    ("iss", ("Issuer",)),                            # rp-id_token-issuer-mismatch
    ("sub-missing", ("Subject",)),                   # rp-id_token-sub
    ("iat-missing", ("IssuedAt",)),                  # rp-id_token-iat
    ("iat-future", ("IssuedAt",)),                   # iat beyond the skew
    ("expired", ("Expired",)),                       # exp in the past beyond the skew
    ("bad-sig-rs256", ("Signature",)),               # rp-id_token-bad-sig-rs256
    ("bad-sig-es256", ("Signature",)),               # rp-id_token-bad-sig-es256
    ("es256-foreign-key", ("Signature",)),           # ES256 by a key not in the JWKS, its kid borrowed
    ("none", ("Algorithm",)),                        # rp-id_token-sig-none (none not configured)
    ("hs256-public-key", ("Algorithm",)),            # HS256 keyed with the RSA public key (PEM)
    ("hs256-client-secret", ("Algorithm",)),         # HS256 not configured for the account
    ("malformed", ("Malformed",)),
]


@pytest.mark.parametrize("how,checks", ID_TOKEN_CASES, ids=[c[0] for c in ID_TOKEN_CASES])
def test_id_token_refused(env, browser, behave, how, checks):
    user = env.new_person("bad-" + how)
    env.op.mode(idToken=how)
    url = env.authorize(browser, user)
    before = E.snapshot(env, [user])
    r, rid = env.callback(browser, url)
    ev = E.assert_refused(env, r, rid, checks, browser, [user], before)
    assert ev["requestParameters"].get("Issuer") == env.op.issuer, ev


def test_unknown_kid_after_one_refresh(env, browser, behave):
    """A kid the JWKS never names, even after the refresh: refused, one refresh per attempt."""
    user = env.new_person("stranger")
    env.op.mode(signWith={"key": "stranger", "kid": True})
    url = env.authorize(browser, user)
    before = E.snapshot(env, [user])
    jwks = env.op.stats()["jwks"]
    r, rid = env.callback(browser, url)
    E.assert_refused(env, r, rid, ("KeyUnknown",), browser, [user], before)
    assert env.op.stats()["jwks"] <= jwks + 1


def test_userinfo_sub_mismatch(env, browser, behave):
    """rp-userinfo-bad-sub-claim: the ID token has no email, userinfo answers for another sub."""
    user = env.new_person("ui-sub")
    env.op.mode(emailInIdToken=False, userinfoSub="someone-else")
    url = env.authorize(browser, user)
    before = E.snapshot(env, [user])
    r, rid = env.callback(browser, url)
    E.assert_refused(env, r, rid, ("UserinfoSubject",), browser, [user], before)


def test_authorization_response_iss_mismatch(env, browser, behave):
    """RFC 9207 §2.4: an iss on the authorization response that is not the issuer."""
    user = env.new_person("iss9207")
    env.op.mode(authIss="http://127.0.0.1:1/mix-up")
    url = env.authorize(browser, user)
    before = E.snapshot(env, [user])
    tokens = env.op.stats()["token"]
    r, rid = env.callback(browser, url)
    E.assert_refused(env, r, rid, ("IssuerParameter",), browser, [user], before)
    assert env.op.stats()["token"] == tokens, "the code was not exchanged"


def test_authorization_response_iss_missing(env, browser, behave):
    """Discovery says authorization_response_iss_parameter_supported: iss is required."""
    user = env.new_person("iss-missing")
    env.op.mode(authIss=None)
    url = env.authorize(browser, user)
    assert "iss" not in E.query(url)
    before = E.snapshot(env, [user])
    r, rid = env.callback(browser, url)
    E.assert_refused(env, r, rid, ("IssuerParameter",), browser, [user], before)


def test_provider_error_access_denied_from_its_own_cancel(env, browser, behave):
    """The person presses Cancel on the provider's login page: error=access_denied comes back."""
    url = env.authorize(browser, None, abort=True)
    assert E.query(url)["error"] == "access_denied", url
    r, rid = env.callback(browser, url)
    E.assert_refused(env, r, rid, ("ProviderError",), browser)


def test_provider_error_at_the_authorization_endpoint(env, browser, behave):
    env.op.mode(authError="access_denied")
    r = env.start(browser)
    url = r.headers["Location"].replace(env.op.issuer, env.op.url, 1)
    back = browser.get(url, allow_redirects=False)
    assert back.status_code == 302, back.status_code
    r, rid = env.callback(browser, back.headers["Location"])
    E.assert_refused(env, r, rid, ("ProviderError",), browser)


def test_state_replay(env, behave):
    """The callback of a completed sign-in, again from the same browser's binding cookie."""
    user = env.new_person("replay")
    first = E.Browser()
    url = env.authorize(first, user)
    r, rid = env.callback(first, url)
    E.assert_signed_in(env, r, rid, first, user)
    before = E.snapshot(env, [user])
    again = E.Browser()
    again.cookies.update({c.name: c.value for c in first.cookies if c.name.endswith("tessera_oidc")})
    assert len(again.cookies) == 1, list(first.cookies)
    r, rid = env.callback(again, url)
    E.assert_refused(env, r, rid, STATE, again, [user], before)


def test_callback_without_state(env, browser, behave):
    user = env.new_person("nostate")
    url = env.authorize(browser, user)
    q = E.query(url)
    before = E.snapshot(env, [user])
    tokens = env.op.stats()["token"]
    r, rid = env.callback(browser, env.base + E.CALLBACK + "?code=%s&iss=%s" % (q["code"], q["iss"]))
    E.assert_refused(env, r, rid, ("StateMissing",), browser, [user], before)
    assert env.op.stats()["token"] == tokens, "the code was not exchanged"


def test_state_from_another_browser(env, behave):
    """The victim's callback URL opened by the attacker's browser: with no binding cookie, and
    with a binding cookie of its own sign-in."""
    user = env.new_person("victim")
    for with_own_flow in (False, True):
        victim = E.Browser()
        url = env.authorize(victim, user)
        attacker = E.Browser()
        if with_own_flow:
            env.start(attacker)
            assert any(c.name.endswith("tessera_oidc") for c in attacker.cookies)
        before = E.snapshot(env, [user])
        tokens = env.op.stats()["token"]
        r, rid = env.callback(attacker, url)
        E.assert_refused(env, r, rid, STATE, attacker, [user], before)
        assert env.op.stats()["token"] == tokens, "the code was not exchanged"


def test_discovery_issuer_mismatch_at_configuration(env, behave):
    """rp-discovery-issuer-not-matching-config: PUT answers a clear 400, the configuration stays."""
    env.op.mode(discoveryIssuer="http://127.0.0.1:1/not-me")
    r = env.put_oidc_config(expect=None)
    body = T.assert_error(r, 400)
    assert "issuer" in body["Message"].lower(), body
    assert E.CLIENT_SECRET not in r.text
    got = env.admin("GET", "/accounts/%s/openid-config" % env.acct)
    assert env.op.issuer in str(got), got


def test_issuer_that_does_not_answer(env, behave):
    port = T.free_port()
    r = env.put_oidc_config(issuer="http://127.0.0.1:%d" % port, expect=None)
    T.assert_error(r, 400)


def test_issuer_not_https_nor_loopback(env, behave):
    r = env.put_oidc_config(issuer="http://example.com", expect=None)
    T.assert_error(r, 400)


def test_unknown_state(env, browser, behave):
    user = env.new_person("unknown-state")
    url = env.authorize(browser, user)
    q = E.query(url)
    forged = env.base + E.CALLBACK + "?code=%s&state=%s&iss=%s" % (q["code"], "A" * 43, q["iss"])
    before = E.snapshot(env, [user])
    r, rid = env.callback(browser, forged)
    E.assert_refused(env, r, rid, STATE, browser, [user], before)


def test_account_without_oidc_goes_nowhere(env, browser, behave):
    other = env.admin("POST", "/accounts", {"Name": "no-oidc", "AccountType": "Enterprise"},
                      expect=201)["Account"]["AccountId"]
    stats = env.op.stats()
    r = browser.get(env.base + "/auth/%s/oidc" % other, allow_redirects=False, timeout=E.HTTP_TIMEOUT)
    assert r.status_code in (403, 404), r.status_code
    assert "Location" not in r.headers
    assert env.op.stats()["authorize"] == stats["authorize"]


@pytest.mark.parametrize("who", ["not-provisioned", "unlicensed", "suspended"])
def test_directory_rules_after_a_valid_id_token(env, browser, behave, who):
    """A valid ID token for someone the directory refuses: the rule is the check named."""
    if who == "not-provisioned":
        tag = uuid.uuid4().hex[:8]
        user = {"id": None, "name": "nobody-%s@example.com" % tag, "sub": "sub-nobody-" + tag}
        env.op.add_accounts({user["sub"]: {"email": user["name"]}})
        users, checks = [], ("IdentityMatch",)
    elif who == "unlicensed":
        user = env.new_person("nolicence", license=None)
        users, checks = [user], ("LicensedGroup",)
    else:
        user = env.new_person("suspended")
        env.admin("POST", "/accounts/%s/users" % env.acct, {"UserIdList": [user["id"]]},
                  params={"operation": "suspend"})
        users, checks = [user], ("Active",)
    url = env.authorize(browser, user)
    before = E.snapshot(env, users)
    r, rid = env.callback(browser, url)
    E.assert_refused(env, r, rid, checks, browser, users, before)


def _attempts(env, user):
    chk = env.admin("GET", "/accounts/%s/users/%s/sign-in-check" % (env.acct, user["id"]))["SignInCheck"]
    return [(a["Outcome"], a["Check"], a["Source"]) for a in chk["LastSignInAttempts"]]


def test_attempts_show_in_the_sign_in_check(env, behave):
    """A refused ID token (filed under the email it claimed), then a sign-in: newest first."""
    user = env.new_person("seen")
    env.op.mode(idToken="expired")
    b = E.Browser()
    r, rid = env.sign_in(b, user)
    assert r.status_code == 403
    env.op.mode()
    b = E.Browser()
    r, rid = env.sign_in(b, user)
    E.assert_signed_in(env, r, rid, b, user)
    assert _attempts(env, user)[:2] == [("Allowed", None, "oidc"), ("Refused", "Expired", "oidc")], _attempts(env, user)


def test_initiator_with_another_issuer_is_audited(env, browser, behave):
    """Third-party-initiated login naming another issuer: no redirect, one SignIn event."""
    rid = "oidc-" + uuid.uuid4().hex
    r = browser.get(env.base + "/auth/%s/oidc" % env.acct, params={"iss": "https://evil.example"},
                    headers={"X-Request-Id": rid}, allow_redirects=False, timeout=E.HTTP_TIMEOUT)
    E.assert_refused(env, r, rid, ("InitiatorIssuer",), browser, status=r.status_code)
    assert r.status_code in (400, 403), r.status_code


def test_sign_ins_in_flight_end_with_the_configuration(env, browser, behave):
    """DeleteAccountOpenIdConfig deletes the states (docs/oidc.md): the callback of a sign-in
    begun before is refused, and a new one does not start."""
    user = env.new_person("deleted")
    url = env.authorize(browser, user)
    env.admin("DELETE", "/accounts/%s/openid-config" % env.acct, expect=204)
    before = E.snapshot(env, [user])
    r, rid = env.callback(browser, url)
    E.assert_refused(env, r, rid, STATE + ("NotConfigured",), browser, [user], before)
    r = env.start(E.Browser(), expect=None)
    assert r.status_code in (403, 404) and "Location" not in r.headers, r.status_code


@pytest.mark.parametrize("query", ["state={s}&state={s}&code={c}", "state={s}&code={c}&code={c}",
                                   "state={s}&code=" + "A" * 9000])
def test_malformed_callback_query(env, browser, behave, query):
    """Each parameter once, each capped (src/oidc/callback.c step 1): nothing is exchanged."""
    user = env.new_person("malformed")
    q = E.query(env.authorize(browser, user))
    before = E.snapshot(env, [user])
    tokens = env.op.stats()["token"]
    r, rid = env.callback(browser, env.base + E.CALLBACK + "?" + query.format(s=q["state"], c=q["code"]))
    E.assert_refused(env, r, rid, ("Malformed",), browser, [user], before, status=r.status_code)
    assert r.status_code in (400, 403), r.status_code
    assert env.op.stats()["token"] == tokens, "the code was not exchanged"
