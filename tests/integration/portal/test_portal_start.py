"""
The start URL, GET /start/{AccountId}[?next=...] (SPEC §2, §8, docs/portal.md): to the
account's SAML sign-in (pysaml2) or OpenID Connect sign-in (oidc-provider) and back to
next, /portal by default; next only a same-origin path (open-redirect attempts land on
/portal); an unknown account or one without an identity source is the sign-in pages' 404;
a browser already signed in to the account goes straight to next.
"""
import uuid

import pytest

import oidcenv as OE
import portalenv as P
import samlenv as S

# every spelling of "somewhere else" a browser could follow, raw (the test encodes it) ...
EVIL = ["//evil.example/x", "/\\evil.example", "\\\\evil.example", "https://evil.example/",
        "http://evil.example", "javascript:alert(1)", "/%2F%2Fevil.example", "/%5Cevil.example",
        "/%252F%252Fevil.example", "/%2f/evil.example", "/\t/evil.example", "/\n/evil.example",
        "/\x7f", "evil.example", "", "/" + "a" * 1100, "///evil.example", "/ /evil.example",
        "/%0d%0aSet-Cookie:x=1"]
# ... and query strings sent as they are (encoded by the attacker)
EVIL_RAW = ["next=%2F%2Fevil.example", "next=%2F%5Cevil.example", "next=https%3A%2F%2Fevil.example",
            "next=%2F%09%2Fevil.example", "next=%2F%252F%252Fevil.example", "next=//evil.example",
            "next=/%5C/evil.example", "next=%E2%80%8F//evil", "next=%C0%AF%C0%AFevil"]


def _relay(r):
    assert r.status_code == 302, (r.status_code, r.text[:300])
    return P.query(r.headers["Location"])["RelayState"]


def _target(env, r):
    assert r.status_code == 302, (r.status_code, r.text[:300])
    return P.query(r.headers["Location"])["target_link_uri"]


def test_saml_start_signs_in_to_the_portal(env, browser):
    user = env.new_user("start")
    r = P.follow_start(env, browser, env.acct)
    assert r.headers["Location"] == "/saml/%s/login?RelayState=%%2Fportal" % env.acct
    assert r.headers["Cache-Control"] == "no-store" and "Content-Security-Policy" in r.headers
    r, rid = P.saml_sign_in(env, browser, user)
    S.assert_signed_in(env, r, rid, browser, user, "Pro", location="/portal")
    page = browser.get(env.base + "/portal", timeout=P.HTTP_TIMEOUT)
    assert page.status_code == 200 and user["name"] in page.text


def test_saml_start_deep_link(env, browser):
    user = env.new_user("deep")
    assert _relay(P.follow_start(env, browser, env.acct, "/api/v1/me?x=1&y=%2F")) == "/api/v1/me?x=1&y=%2F"
    r, rid = P.saml_sign_in(env, browser, user, "/api/v1/me?x=1")
    S.assert_signed_in(env, r, rid, browser, user, "Pro", location="/api/v1/me?x=1")


@pytest.mark.parametrize("env", ["sqlite"], indirect=True)
@pytest.mark.parametrize("nxt", EVIL)
def test_saml_start_refuses_open_redirects(env, browser, nxt):
    assert _relay(P.follow_start(env, browser, env.acct, nxt)) == "/portal"


@pytest.mark.parametrize("env", ["sqlite"], indirect=True)
@pytest.mark.parametrize("raw", EVIL_RAW)
def test_saml_start_refuses_encoded_open_redirects(env, browser, raw):
    r = P.follow_start(env, browser, env.acct, raw_query=raw)
    if r.status_code == 400:  # not UTF-8 once decoded: the HTTP layer's page, no redirect
        assert "Location" not in r.headers and r.headers["Content-Type"].startswith("text/html")
        return
    assert _relay(r) == "/portal"


def test_oidc_start_signs_in_to_the_portal(oidc_env, browser):
    env = oidc_env
    user = env.new_person("start")
    assert _target(env, P.follow_start(env, browser, env.acct)) == env.base + "/portal"
    r, rid = P.oidc_sign_in(env, browser, user)
    OE.assert_signed_in(env, r, rid, browser, user, location="/portal")


def test_oidc_start_deep_link(oidc_env, browser):
    env = oidc_env
    user = env.new_person("deep")
    r, rid = P.oidc_sign_in(env, browser, user, "/api/v1/me?from=start")
    OE.assert_signed_in(env, r, rid, browser, user, location="/api/v1/me?from=start")


@pytest.mark.parametrize("nxt", EVIL)
def test_oidc_start_refuses_open_redirects(oidc_env, browser, nxt):
    assert _target(oidc_env, P.follow_start(oidc_env, browser, oidc_env.acct, nxt)) == oidc_env.base + "/portal"


@pytest.mark.parametrize("raw", EVIL_RAW)
def test_oidc_start_refuses_encoded_open_redirects(oidc_env, browser, raw):
    r = P.follow_start(oidc_env, browser, oidc_env.acct, raw_query=raw)
    if r.status_code == 400:
        assert "Location" not in r.headers
        return
    assert _target(oidc_env, r) == oidc_env.base + "/portal"


def _not_found(r):
    assert r.status_code == 404, (r.status_code, r.headers.get("Location"), r.text[:300])
    assert "Location" not in r.headers
    assert r.headers["Content-Type"].startswith("text/html"), r.headers
    assert "Sign-in not available" in r.text
    return r.text.split("<main>")[-1].split("Request")[0]


def test_unknown_account_and_account_without_source_look_the_same(env, browser):
    bare = env.account()  # no identity source
    pages = {_not_found(P.follow_start(env, browser, a))
             for a in (str(uuid.uuid4()), bare, "not-an-account", env.acct.upper())}
    assert len(pages) == 1, pages


def test_signed_in_browser_goes_straight_to_next(env, browser):
    user = env.new_user("again")
    r, rid = P.saml_sign_in(env, browser, user)
    S.assert_signed_in(env, r, rid, browser, user, "Pro")
    r = P.follow_start(env, browser, env.acct, "/api/v1/me")
    assert r.status_code == 303 and r.headers["Location"] == "/api/v1/me", (r.status_code, r.headers)
    r = P.follow_start(env, browser, env.acct, "//evil.example")
    assert r.status_code == 303 and r.headers["Location"] == "/portal", r.headers
    # another account's start URL still signs in there
    other = env.account()
    assert P.follow_start(env, browser, other).status_code == 404
    # signed out everywhere: the start URL sends the browser to the IdP again
    env.admin("POST", "/accounts/%s/users/%s" % (env.acct, user["id"]), params={"operation": "logout"},
              expect=None)
    assert env.me(browser).status_code == 401
    assert _relay(P.follow_start(env, browser, env.acct, "/api/v1/me")) == "/api/v1/me"
