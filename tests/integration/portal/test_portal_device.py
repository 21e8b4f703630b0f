"""
The portal with a CLI access token (SPEC §8, access contract): a device sign-in
(RFC 8628, lane OAUTH's /oauth/device_authorization, /device and /oauth/token) started
against the account's start URL; /device without a session sends the browser through
/start/{AccountId} with next=/device?user_code=..., which the SAML sign-in brings back;
the person approves there; the access token then reads /api/v1/me with its Targets and
gets credentials without any CSRF token; LogoutUser kills both at once.
"""
import re
import time

import requests

import portalenv as P
import samlenv as S

DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"


def _form(html_text, name):
    m = re.search(r'name="%s" value="([^"]*)"' % re.escape(name), html_text)
    assert m, (name, html_text[:800])
    return m.group(1)


def test_device_token_reads_the_portal_and_gets_credentials(env, browser):
    user = env.new_user("device")
    a = P.Access(env)
    t, ps = a.target("Cli"), a.permission_set("Cli", duration=900)
    a.assign("GROUP", a.group([user]), t, ps)
    da = requests.post(env.base + "/oauth/device_authorization", timeout=P.HTTP_TIMEOUT,
                       data={"client_id": "tessera-cli", "start_url": env.base + "/start/" + env.acct})
    assert da.status_code == 200, da.text[:300]
    da = da.json()
    # not signed in: /device sends the browser to the start URL, which keeps /device as next
    r = browser.get(da["verification_uri_complete"], allow_redirects=False, timeout=P.HTTP_TIMEOUT)
    assert r.status_code in (302, 303), (r.status_code, r.text[:300])
    start = r.headers["Location"]
    assert start.startswith(env.base + "/start/" + env.acct + "?next="), start
    r = browser.get(start, allow_redirects=False, timeout=P.HTTP_TIMEOUT)
    relay = P.query(r.headers["Location"])["RelayState"]
    assert relay == "/device?user_code=" + da["user_code"], relay
    r = browser.get(env.base + r.headers["Location"], allow_redirects=False, timeout=P.HTTP_TIMEOUT)
    req = env.idp.read_request(r.headers["Location"])
    r, rid = env.acs(browser, env.idp.response(user["name"], req.id), relay_state=req.relay_state)
    S.assert_signed_in(env, r, rid, browser, user, "Pro", location=relay)
    page = browser.get(env.base + relay, timeout=P.HTTP_TIMEOUT)
    assert page.status_code == 200, page.text[:300]
    r = browser.post(env.base + "/device", allow_redirects=False, timeout=P.HTTP_TIMEOUT,
                     headers={"Origin": env.base},
                     data={"user_code": _form(page.text, "user_code"), "csrf": _form(page.text, "csrf"),
                           "decision": "approve"})
    assert r.status_code in (200, 303), (r.status_code, r.text[:300])
    tok = None
    for _ in range(20):
        tr = requests.post(env.base + "/oauth/token", timeout=P.HTTP_TIMEOUT,
                           data={"grant_type": DEVICE_GRANT, "device_code": da["device_code"],
                                 "client_id": "tessera-cli"})
        if tr.status_code == 200:
            tok = tr.json()["access_token"]
            break
        assert tr.json().get("error") in ("authorization_pending", "slow_down"), tr.text
        time.sleep(da.get("interval", 1))
    assert tok and tok.startswith("tss_"), tok
    bearer = {"Authorization": "Bearer " + tok}
    me = requests.get(env.base + "/api/v1/me", headers=bearer, timeout=P.HTTP_TIMEOUT)
    assert me.status_code == 200, me.text[:300]
    assert me.json()["Me"]["UserId"] == user["id"]
    assert [(x["TargetId"], [p["PermissionSetId"] for p in x["PermissionSets"]]) for x in me.json()["Targets"]] == [
        (t["TargetId"], [ps["PermissionSetId"]])]
    body = {"TargetId": t["TargetId"], "PermissionSetId": ps["PermissionSetId"]}
    cr = requests.post(env.base + "/api/v1/me/credentials", json=body, headers=bearer, timeout=P.HTTP_TIMEOUT)
    assert cr.status_code == 200 and cr.json()["Credentials"]["Token"].count(".") == 2, cr.text[:300]
    env.admin("POST", "/accounts/%s/users/%s" % (env.acct, user["id"]), params={"operation": "logout"}, expect=204)
    assert requests.get(env.base + "/api/v1/me", headers=bearer, timeout=P.HTTP_TIMEOUT).status_code == 401
    cr = requests.post(env.base + "/api/v1/me/credentials", json=body, headers=bearer, timeout=P.HTTP_TIMEOUT)
    assert cr.status_code == 401, cr.text[:300]
