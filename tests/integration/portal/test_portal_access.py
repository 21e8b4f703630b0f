"""
What a signed-in person may open (SPEC §8, docs/portal.md): /portal and /api/v1/me list the
targets and permission sets given through the user's own assignments and those of the
user's directory groups (created through the admin API); POST /api/v1/me/credentials signs
short-lived credentials for a pair the person holds (ES256, verified with jwcrypto against
/oauth/jwks), refuses any other pair (403, another account's ids included, and once the
assignment is gone), dies with the session (LogoutUser: 401), takes a CLI bearer token
without CSRF and a browser cookie only with the CSRF token and a same-origin Origin, and
writes an audit event without the token.
"""
import base64
import html
import json
import re
import time
import uuid

import pytest
import requests

import portalenv as P
import samlenv as S
import tessera_itest as T

CRED = "/api/v1/me/credentials"


def _signed_in(env, prefix="p"):
    """A new Pro user signed in through the start URL: (user, browser, session token)."""
    user = env.new_user(prefix)
    b = P.Browser()
    r, rid = P.saml_sign_in(env, b, user)
    S.assert_signed_in(env, r, rid, b, user, "Pro")
    token = next(c.value for c in b.cookies if c.name in ("sid", "__Host-sid"))
    return user, b, token


def _bearer(token):
    return {"Authorization": "Bearer " + token}


def _me(env, token):
    r = requests.get(env.base + "/api/v1/me", headers=_bearer(token), timeout=P.HTTP_TIMEOUT)
    assert r.status_code == 200, (r.status_code, r.text[:300])
    return r.json()


def _creds(env, token, target, pset, expect=200):
    r = requests.post(env.base + CRED, headers=_bearer(token), timeout=P.HTTP_TIMEOUT,
                      json={"TargetId": target["TargetId"] if isinstance(target, dict) else target,
                            "PermissionSetId": pset["PermissionSetId"] if isinstance(pset, dict) else pset})
    assert r.status_code == expect, (r.status_code, r.text[:300])
    return r.json()


def _b64(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def _verified_claims(env, jwt):
    """The JWT's claims after its ES256 signature verifies against /oauth/jwks (jwcrypto)."""
    from jwcrypto import jwk, jwt as jjwt
    keys = requests.get(env.base + "/oauth/jwks", timeout=P.HTTP_TIMEOUT)
    assert keys.status_code == 200, keys.text[:300]
    header = json.loads(_b64(jwt.split(".")[0]))
    assert header["alg"] == "ES256" and header.get("kid"), header
    ks = jwk.JWKSet.from_json(keys.text)
    t = jjwt.JWT(jwt=jwt, key=ks, algs=["ES256"], check_claims=False)
    return json.loads(t.claims)


def test_listing_through_user_and_group_assignments(env):
    user, b, token = _signed_in(env, "list")
    other, _, other_token = _signed_in(env, "other")
    a = P.Access(env)
    # names chosen so that the page's order (target name, then permission set name) is known
    t1 = a.target("Alpha <console>", url="https://alpha.example.org/start?x=1&y=2")
    t2 = a.target("Beta", url="https://beta.example.org/")
    ro, admin = a.permission_set("ReadOnly"), a.permission_set("Admin", duration=900)
    a.assign("USER", user["id"], t1, ro)
    g = a.group([user])
    a.assign("GROUP", g, t1, admin)
    a.assign("GROUP", g, t2, ro)
    a.assign("USER", user["id"], t2, ro)  # the same pair twice: listed once
    body = _me(env, token)
    assert body["Me"]["UserId"] == user["id"]
    assert body["Targets"] == [
        {"TargetId": t1["TargetId"], "Name": "Alpha <console>-" + a.tag, "Url": "https://alpha.example.org/start?x=1&y=2",
         "PermissionSets": [{"PermissionSetId": admin["PermissionSetId"], "Name": "Admin-" + a.tag},
                            {"PermissionSetId": ro["PermissionSetId"], "Name": "ReadOnly-" + a.tag}]},
        {"TargetId": t2["TargetId"], "Name": "Beta-" + a.tag, "Url": "https://beta.example.org/",
         "PermissionSets": [{"PermissionSetId": ro["PermissionSetId"], "Name": "ReadOnly-" + a.tag}]}], body["Targets"]
    # the cookie sees the same
    assert b.get(env.base + "/api/v1/me", timeout=P.HTTP_TIMEOUT).json()["Targets"] == body["Targets"]
    # nobody else's assignments leak to another user
    assert _me(env, other_token)["Targets"] == []
    page = b.get(env.base + "/portal", timeout=P.HTTP_TIMEOUT)
    assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html")
    assert "script-src" not in page.headers["Content-Security-Policy"]
    assert "Alpha &lt;console&gt;" in page.text and "<console>" not in page.text
    links = re.findall(r'<a href="([^"]*)" data-permission-set="([^"]*)"[^>]*>([^<]*)</a>', page.text)
    assert [(html.unescape(h), p, n) for h, p, n in links] == [
        (t1["Url"], admin["PermissionSetId"], "Admin-" + a.tag), (t1["Url"], ro["PermissionSetId"], "ReadOnly-" + a.tag),
        (t2["Url"], ro["PermissionSetId"], "ReadOnly-" + a.tag)], links
    assert "<script" not in page.text
    # out of the group: the group's pairs go at once
    env.scim("PATCH", "/Groups/" + g, {"schemas": [S.PATCHOP], "Operations": [
        {"op": "remove", "path": 'members[value eq "%s"]' % user["id"]}]})
    assert [(t["Name"], [p["Name"] for p in t["PermissionSets"]]) for t in _me(env, token)["Targets"]] == [
        ("Alpha <console>-" + a.tag, ["ReadOnly-" + a.tag]), ("Beta-" + a.tag, ["ReadOnly-" + a.tag])]


def test_portal_needs_a_session(env):
    r = requests.get(env.base + "/portal", timeout=P.HTTP_TIMEOUT)
    assert r.status_code == 401 and "Not signed in" in r.text
    r = requests.get(env.base + "/api/v1/me", headers=_bearer("tss_" + "x" * 43), timeout=P.HTTP_TIMEOUT)
    assert r.status_code == 401 and r.json()["Code"] == "UnauthorizedClientException"


def test_credentials(env):
    user, b, token = _signed_in(env, "cred")
    a = P.Access(env)
    t, ps, held_not = a.target(), a.permission_set(duration=900), a.permission_set()
    asg = a.assign("USER", user["id"], t, ps)
    before = time.time()
    got = _creds(env, token, t, ps)["Credentials"]
    assert set(got) == {"Token", "Expiration"}, got
    exp = time.mktime(time.strptime(got["Expiration"], "%Y-%m-%dT%H:%M:%SZ")) - time.timezone
    assert before + 900 - 5 <= exp <= time.time() + 900 + 1, (got["Expiration"], before)
    claims = _verified_claims(env, got["Token"])
    assert claims["sub"] == user["id"] and claims["aud"] == "tessera", claims
    assert claims["iss"].rstrip("/") == env.base, claims
    assert claims["exp"] - claims["iat"] <= 900 and abs(claims["exp"] - exp) <= 1, claims
    blob = json.dumps(claims)
    for v in (env.acct, t["TargetId"], ps["PermissionSetId"], "s3:GetObject"):
        assert v in blob, (v, claims)
    # a pair not held, unknown ids, another account's ids: 403, never the token
    _creds(env, token, t, held_not, expect=403)
    _creds(env, token, str(uuid.uuid4()), ps, expect=403)
    other = P.Access(env, env.account())
    ot, ops = other.target(), other.permission_set()
    r = _creds(env, token, ot, ops, expect=403)
    assert r["Code"] == "ForbiddenException", r
    # bad bodies
    for body in ("", "[]", '{"TargetId": 1}', '{"TargetId": "a"}', "{" * 50):
        r = requests.post(env.base + CRED, headers=dict(_bearer(token), **{"Content-Type": "application/json"}),
                          data=body, timeout=P.HTTP_TIMEOUT)
        assert r.status_code in (400, 413), (body, r.status_code, r.text[:200])
    # the audit trail: one event per issue and per refusal, never the token
    evs = T.wait_for(lambda: [e for e in env.admin("GET", "/audit-events", params={
        "eventName": "GetCredentials", "max-results": "1000"})["Events"]
        if e.get("userIdentity", {}).get("principalId") == user["id"]], 5, what="GetCredentials events")
    time.sleep(0.2)
    evs = [e for e in env.admin("GET", "/audit-events", params={"eventName": "GetCredentials",
                                                                  "max-results": "1000"})["Events"]
           if e.get("userIdentity", {}).get("principalId") == user["id"]]
    assert sorted(e.get("errorCode") or "" for e in evs) == ["", "ForbiddenException", "ForbiddenException",
                                                             "ForbiddenException"], evs
    assert got["Token"] not in json.dumps(evs) and got["Token"].split(".")[2] not in json.dumps(evs)
    # the assignment removed: refused at once
    a.unassign(asg)
    _creds(env, token, t, ps, expect=403)
    a.assign("USER", user["id"], t, ps)
    _creds(env, token, t, ps)
    # signed out everywhere: the session is dead
    env.admin("POST", "/accounts/%s/users/%s" % (env.acct, user["id"]), params={"operation": "logout"}, expect=204)
    r = _creds(env, token, t, ps, expect=401)
    assert r["Code"] == "UnauthorizedClientException", r


def test_credentials_with_the_cookie_need_the_csrf_check(env):
    user, b, token = _signed_in(env, "csrf")
    a = P.Access(env)
    t, ps = a.target(), a.permission_set()
    a.assign("USER", user["id"], t, ps)
    body = {"TargetId": t["TargetId"], "PermissionSetId": ps["PermissionSetId"]}
    page = b.get(env.base + "/portal", timeout=P.HTTP_TIMEOUT).text
    m = re.search(r'<meta name="csrf-token" content="([A-Za-z0-9_-]{43})">', page)
    assert m, page[:500]
    csrf = m.group(1)

    def post(headers):
        return b.post(env.base + CRED, json=body, headers=headers, timeout=P.HTTP_TIMEOUT)

    assert post({}).status_code == 403
    assert post({"Origin": env.base}).status_code == 403
    assert post({"X-CSRF-Token": "A" * 43, "Origin": env.base}).status_code == 403
    assert post({"X-CSRF-Token": csrf, "Origin": "https://evil.example"}).status_code == 403
    assert post({"X-CSRF-Token": csrf, "Origin": "null"}).status_code == 403
    # another session's token does not fit this one
    _, b2, _ = _signed_in(env, "csrf2")
    other = re.search(r'content="([A-Za-z0-9_-]{43})"', b2.get(env.base + "/portal", timeout=P.HTTP_TIMEOUT).text)
    assert other and other.group(1) != csrf
    assert post({"X-CSRF-Token": other.group(1), "Origin": env.base}).status_code == 403
    r = post({"X-CSRF-Token": csrf, "Origin": env.base})
    assert r.status_code == 200 and r.json()["Credentials"]["Token"], r.text[:300]
    # a bearer token is not sent by a browser on its own: no CSRF token needed
    assert _creds(env, token, t, ps)["Credentials"]["Token"]


def test_oidc_account_lists_too(oidc_env, browser):
    env = oidc_env
    user = env.new_person("oidc-list")
    r, rid = P.oidc_sign_in(env, browser, user)
    assert r.status_code == 303, r.text[:300]
    a = P.Access(env)
    t, ps = a.target("Gamma"), a.permission_set("Dev")
    a.assign("USER", user["id"], t, ps)
    me = browser.get(env.base + "/api/v1/me", timeout=P.HTTP_TIMEOUT).json()
    assert [(x["Name"], [p["Name"] for p in x["PermissionSets"]]) for x in me["Targets"]] == [
        ("Gamma-" + a.tag, ["Dev-" + a.tag])]


def test_credentials_die_with_suspension(env):
    user, b, token = _signed_in(env, "susp")
    a = P.Access(env)
    t, ps = a.target(), a.permission_set()
    a.assign("USER", user["id"], t, ps)
    _creds(env, token, t, ps)
    env.admin("POST", "/accounts/%s/users" % env.acct, {"UserIdList": [user["id"]]}, params={"operation": "suspend"},
              expect=None)
    assert _creds(env, token, t, ps, expect=401)["Code"] == "UnauthorizedClientException"
    assert b.get(env.base + "/portal", timeout=P.HTTP_TIMEOUT).status_code == 401
