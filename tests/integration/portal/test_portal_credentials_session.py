"""
Credentials die with the session that asked for them (SPEC §8, docs/portal.md, review of
issue 14 findings 3 and 6):

- the token's exp, and the answer's Expiration, are the permission set's SessionDuration
  from now or the session's own expiry, whichever is first: a browser session (8 hours)
  asking for a 12-hour permission set, a CLI access token (1 hour) asking for a 2-hour
  one, and a session near its end, all get exactly the session's expiry, the same instant
  /api/v1/me shows as SessionExpires; a short permission set keeps its own duration;
- the token names the session in "sid": its id as the store keeps it (sessions.session_id,
  found by the SHA-256 of the token), never the token;
- the credentials call asks the directory again, in its own transaction, whether the
  person may still sign in and with which licence: a user taken out of the licensed group
  over SCIM is refused at once with 401 (not 403: by the directory's rules the session
  itself is dead, as every other route says once its minute's re-check comes; 403 is for
  a live session that holds no such pair), while a user with a direct assignment who
  still holds a licence (through another mapped group) keeps getting credentials.

Tokens are verified with python3-jwcrypto against /oauth/jwks, on both backends.
"""
import calendar
import hashlib
import json
import re
import time

import requests

import portalenv as P
import samlenv as S
import tessera_itest as T
from test_portal_access import CRED, _bearer, _creds, _me, _signed_in, _verified_claims

DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"


def _iso_s(text):
    """An ISO 8601 UTC time of the answers (seconds, Z) as seconds since the epoch."""
    return calendar.timegm(time.strptime(text, "%Y-%m-%dT%H:%M:%SZ"))


def _stored_session(env, token):
    """(session_id, expires_ms) of the session whose token this is, read from the store."""
    digest = hashlib.sha256(token.encode()).hexdigest()
    rows, _ = env.srv.store.sql("SELECT session_id, expires_ms FROM sessions WHERE token_hash = '%s'" % digest)
    assert len(rows) == 1, rows
    return rows[0][0], int(rows[0][1])


def _check_capped(env, got, token, want_exp_ms=None):
    """The credentials expire with the session: exp and Expiration are its expiry; sid is its id."""
    sid, expires_ms = _stored_session(env, token)
    claims = _verified_claims(env, got["Token"])
    assert claims["sid"] == sid, (claims, sid)
    assert token not in got["Token"], "the session's token leaked into the credentials"
    assert claims["exp"] == expires_ms // 1000, (claims["exp"], expires_ms)
    assert _iso_s(got["Expiration"]) == claims["exp"], (got["Expiration"], claims["exp"])
    assert _me(env, token)["Me"]["SessionExpires"] == got["Expiration"]
    if want_exp_ms is not None:
        assert expires_ms == want_exp_ms, (expires_ms, want_exp_ms)
    return claims


def _device_token(env, browser, user):
    """A CLI access token of user: a device authorization approved on /device by a signed-in browser."""
    r, rid = P.saml_sign_in(env, browser, user)
    S.assert_signed_in(env, r, rid, browser, user, user["license"])
    da = requests.post(env.base + "/oauth/device_authorization", timeout=P.HTTP_TIMEOUT,
                       data={"client_id": "tessera-cli", "start_url": env.base + "/start/" + env.acct})
    assert da.status_code == 200, da.text[:300]
    da = da.json()
    page = browser.get(da["verification_uri_complete"], timeout=P.HTTP_TIMEOUT)
    assert page.status_code == 200, page.text[:300]
    form = {n: re.search(r'name="%s" value="([^"]*)"' % n, page.text).group(1) for n in ("user_code", "csrf")}
    r = browser.post(env.base + "/device", allow_redirects=False, timeout=P.HTTP_TIMEOUT,
                     headers={"Origin": env.base}, data=dict(form, decision="approve"))
    assert r.status_code in (200, 303), (r.status_code, r.text[:300])
    tr = requests.post(env.base + "/oauth/token", timeout=P.HTTP_TIMEOUT,
                       data={"grant_type": DEVICE_GRANT, "device_code": da["device_code"], "client_id": "tessera-cli"})
    assert tr.status_code == 200, tr.text[:300]
    return tr.json()["access_token"]


def test_browser_session_caps_the_expiry(env):
    user, b, token = _signed_in(env, "capb")
    a = P.Access(env)
    t, long_ps, short_ps = a.target(), a.permission_set(duration=43200), a.permission_set(duration=900)
    a.assign("USER", user["id"], t, long_ps)
    a.assign("USER", user["id"], t, short_ps)
    sid, expires_ms = _stored_session(env, token)
    assert expires_ms < T.now_ms() + 43200 * 1000 - 3600 * 1000, "the browser session outlives 11 hours?"
    # the browser itself, with the cookie and the anti-CSRF token of /portal
    page = b.get(env.base + "/portal", timeout=P.HTTP_TIMEOUT).text
    csrf = re.search(r'<meta name="csrf-token" content="([A-Za-z0-9_-]{43})">', page).group(1)
    r = b.post(env.base + CRED, timeout=P.HTTP_TIMEOUT, headers={"X-CSRF-Token": csrf, "Origin": env.base},
               json={"TargetId": t["TargetId"], "PermissionSetId": long_ps["PermissionSetId"]})
    assert r.status_code == 200, (r.status_code, r.text[:300])
    claims = _check_capped(env, r.json()["Credentials"], token)
    assert claims["sub"] == user["id"] and claims["permission_set_id"] == long_ps["PermissionSetId"], claims
    # a permission set shorter than the session keeps its own duration, and names the session too
    before = int(time.time())
    got = _creds(env, token, t, short_ps)["Credentials"]
    claims = _verified_claims(env, got["Token"])
    assert claims["sid"] == sid, claims
    assert before + 900 - 2 <= claims["exp"] <= int(time.time()) + 900, (claims, before)
    assert claims["exp"] < expires_ms // 1000 and _iso_s(got["Expiration"]) == claims["exp"], (claims, got)


def test_cli_access_token_caps_the_expiry(env, browser):
    user = env.new_user("capc")
    a = P.Access(env)
    t, ps = a.target("Cli"), a.permission_set("Cli", duration=7200)
    a.assign("USER", user["id"], t, ps)
    tok = _device_token(env, browser, user)
    sid, expires_ms = _stored_session(env, tok)
    assert expires_ms <= T.now_ms() + 3600 * 1000, expires_ms  # the access token's hour
    browser_sid, _ = _stored_session(env, next(c.value for c in browser.cookies if c.name in ("sid", "__Host-sid")))
    claims = _check_capped(env, _creds(env, tok, t, ps)["Credentials"], tok)
    assert claims["sid"] != browser_sid, "the access token's own session, not the browser's that approved it"
    # a session close to its end (two minutes left): the credentials end with it
    end = T.now_ms() + 120 * 1000
    _, n = env.srv.store.sql("UPDATE sessions SET expires_ms = %d WHERE session_id = '%s'" % (end, sid))
    assert n == 1
    _check_capped(env, _creds(env, tok, t, ps)["Credentials"], tok, want_exp_ms=end)


def _pro_group_remove(env, user):
    env.scim("PATCH", "/Groups/" + env.groups["Pro"], {"schemas": [S.PATCHOP], "Operations": [
        {"op": "remove", "path": 'members[value eq "%s"]' % user["id"]}]})


def test_leaving_the_licensed_group_refuses_credentials_at_once(env):
    gone, _, gone_token = _signed_in(env, "unlic")
    kept, _, kept_token = _signed_in(env, "kept")
    # kept holds Basic too: out of the Pro group it still may sign in
    env.scim("PATCH", "/Groups/" + env.groups["Basic"], {"schemas": [S.PATCHOP], "Operations": [
        {"op": "add", "path": "members", "value": [{"value": kept["id"]}]}]})
    a = P.Access(env)
    t, ps = a.target(), a.permission_set()
    a.assign("USER", gone["id"], t, ps)
    a.assign("USER", kept["id"], t, ps)
    _creds(env, gone_token, t, ps)
    _creds(env, kept_token, t, ps)
    _pro_group_remove(env, gone)
    _pro_group_remove(env, kept)
    # at once, well inside the minute after which validate itself looks again
    r = requests.post(env.base + CRED, headers=_bearer(gone_token), timeout=P.HTTP_TIMEOUT,
                      json={"TargetId": t["TargetId"], "PermissionSetId": ps["PermissionSetId"]})
    assert r.status_code == 401, (r.status_code, r.text[:300])
    assert r.json()["Code"] == "UnauthorizedClientException", r.text
    assert r.headers["WWW-Authenticate"].startswith("Bearer"), r.headers
    assert "Token" not in r.text
    # the session's licence is stored as gone: every route refuses it now, not in a minute
    assert requests.get(env.base + "/api/v1/me", headers=_bearer(gone_token),
                        timeout=P.HTTP_TIMEOUT).status_code == 401
    # still licensed (Basic), still assigned: credentials as before, and the licence shown at once
    got = _creds(env, kept_token, t, ps)["Credentials"]
    assert _verified_claims(env, got["Token"])["sub"] == kept["id"]
    assert _me(env, kept_token)["Me"]["LicenseType"] == "Basic"
    # the refusal is audited as one (no token, no licence recorded as held)
    evs = T.wait_for(lambda: [e for e in env.admin("GET", "/audit-events", params={
        "eventName": "GetCredentials", "max-results": "1000"})["Events"]
        if e.get("userIdentity", {}).get("principalId") == gone["id"] and e.get("errorCode")], 5,
        what="the refused GetCredentials event")
    assert [e["errorCode"] for e in evs] == ["UnauthorizedClientException"], evs
    assert "licence" in (evs[0].get("errorMessage") or ""), evs
    assert evs[0]["requestParameters"]["SessionId"] == _stored_session(env, gone_token)[0], evs
    assert gone_token not in json.dumps(evs), evs
    # back in the group: a new sign-in gets credentials again
    env.scim("PATCH", "/Groups/" + env.groups["Pro"], {"schemas": [S.PATCHOP], "Operations": [
        {"op": "add", "path": "members", "value": [{"value": gone["id"]}]}]})
    b = P.Browser()
    r, rid = P.saml_sign_in(env, b, gone)
    S.assert_signed_in(env, r, rid, b, gone, "Pro")
    fresh = next(c.value for c in b.cookies if c.name in ("sid", "__Host-sid"))
    assert _verified_claims(env, _creds(env, fresh, t, ps)["Credentials"]["Token"])["sub"] == gone["id"]
