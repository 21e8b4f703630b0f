"""
Tokens after a device sign-in (docs/oauth.md): the access token is a CLI
session (it works on /api/v1/me and dies with LogoutUser, suspension and
SCIM deactivation), the refresh token rotates at every use, and a spent
refresh token that comes back revokes its whole family, access tokens
included. The JWK Set is read with an independent JOSE library
(python3-jwcrypto): its keys, their RFC 7638 thumbprints as kids, and a
credentials token (POST /api/v1/me/credentials) verified against it.
"""
import json
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from jwcrypto import jwk, jwt

import oauthenv as O
import tessera_itest as T

PATCHOP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"


def test_refresh_rotation(env, cli, person):
    t1 = O.tokens(env, cli, person)
    r = cli.refresh(t1["refresh_token"])
    assert r.status_code == 200, r.text
    t2 = r.json()
    assert t2["refresh_token"] != t1["refresh_token"] and t2["access_token"] != t1["access_token"]
    assert cli.me(t2["access_token"]).status_code == 200
    r = cli.refresh(t2["refresh_token"])
    assert r.status_code == 200, r.text
    t3 = r.json()
    assert cli.me(t3["access_token"]).status_code == 200
    # refresh is for tessera-cli only
    assert O.oauth_error(cli.refresh(t3["refresh_token"], client_id="other"), 401) == "invalid_client"
    assert O.oauth_error(cli.refresh("tsr_" + "A" * 43)) == "invalid_grant"


def test_refresh_reuse_revokes_the_family(env, cli, person):
    t1 = O.tokens(env, cli, person)
    t2 = cli.refresh(t1["refresh_token"]).json()
    t3 = cli.refresh(t2["refresh_token"]).json()
    # a spent token whose successor was used: refused, and everything of its family with it
    assert O.oauth_error(cli.refresh(t1["refresh_token"])) == "invalid_grant"
    assert O.oauth_error(cli.refresh(t3["refresh_token"])) == "invalid_grant"
    for t in (t1, t2, t3):
        assert cli.me(t["access_token"]).status_code == 401
    # another device sign-in of the same person is another family: untouched
    other = O.tokens(env, O.Cli(env.base, env.start_url), person)
    assert cli.me(other["access_token"]).status_code == 200
    assert cli.refresh(other["refresh_token"]).status_code == 200


def test_refresh_reuse_within_grace_keeps_the_family(env, cli, person):
    """The spent token again at once, its successor unused: refused, nothing revoked."""
    t1 = O.tokens(env, cli, person)
    t2 = cli.refresh(t1["refresh_token"]).json()
    assert O.oauth_error(cli.refresh(t1["refresh_token"])) == "invalid_grant"
    assert cli.me(t2["access_token"]).status_code == 200
    r = cli.refresh(t2["refresh_token"])
    assert r.status_code == 200, r.text
    assert cli.me(r.json()["access_token"]).status_code == 200


def test_two_refreshes_at_once_keep_the_winner(env, cli, person):
    """Two refreshes of one token at once: one wins, and its tokens keep working."""
    t = O.tokens(env, cli, person)
    clients = [O.Cli(env.base, env.start_url) for _ in range(4)]
    with ThreadPoolExecutor(len(clients)) as pool:
        answers = list(pool.map(lambda c: c.refresh(t["refresh_token"]), clients))
    won = [r.json() for r in answers if r.status_code == 200]
    assert len(won) == 1, [(r.status_code, r.text) for r in answers]
    for r in answers:
        if r.status_code != 200:
            assert O.oauth_error(r) == "invalid_grant"
    assert cli.me(won[0]["access_token"]).status_code == 200
    r = cli.refresh(won[0]["refresh_token"])
    assert r.status_code == 200, r.text


def test_logout_user_kills_access_and_refresh(env, cli, person):
    t = O.tokens(env, cli, person)
    assert cli.me(t["access_token"]).status_code == 200
    env.admin("POST", "/accounts/%s/users/%s" % (env.acct, person.user["id"]), params={"operation": "logout"},
              expect=204)
    assert cli.me(t["access_token"]).status_code == 401
    assert O.oauth_error(cli.refresh(t["refresh_token"])) == "invalid_grant"


def test_logout_user_kills_an_approved_unredeemed_code(env, cli):
    """Approved on /device, then LogoutUser before the poll: the poll is refused."""
    person = O.signed_in(env, env.new_user("approved-then-out"))
    flow = cli.authorize()
    O.decide(person, env.base, flow["user_code"])
    env.admin("POST", "/accounts/%s/users/%s" % (env.acct, person.user["id"]), params={"operation": "logout"},
              expect=204)
    assert O.oauth_error(cli.poll(flow["device_code"])) == "access_denied"
    assert O.oauth_error(cli.poll(flow["device_code"])) == "access_denied"


def test_suspension_kills_refresh(env, cli):
    user = env.new_user("suspended")
    person = O.signed_in(env, user)
    t = O.tokens(env, cli, person)
    env.admin("POST", "/accounts/%s/users" % env.acct, {"UserIdList": [user["id"]]},
              params={"operation": "suspend"})
    assert cli.me(t["access_token"]).status_code == 401
    assert O.oauth_error(cli.refresh(t["refresh_token"])) == "invalid_grant"


def test_licence_loss_refuses_refresh(env, cli):
    """Out of the licensed group: the next refresh is refused (the session is not revoked)."""
    user = env.new_user("unlicensed")
    person = O.signed_in(env, user)
    t = O.tokens(env, cli, person)
    env.scim("PATCH", "/Groups/" + env.groups["Pro"],
             {"schemas": [PATCHOP], "Operations": [{"op": "remove", "path": 'members[value eq "%s"]' % user["id"]}]})
    assert O.oauth_error(cli.refresh(t["refresh_token"])) == "invalid_grant"


def test_jwks_read_by_jwcrypto(env):
    r = requests.get(env.base + "/oauth/jwks", timeout=30)
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("application/jwk-set+json")
    keys = jwk.JWKSet.from_json(r.text)
    assert len(keys["keys"]) >= 1
    for k in keys["keys"]:
        assert k["kty"] == "EC" and k.get("crv") == "P-256" and k["alg"] == "ES256"
        assert not k.has_private
        assert k["kid"] == k.thumbprint()  # RFC 7638


def test_credentials_verified_by_jwcrypto(env, cli, person):
    """The portal's credentials, signed by ts_oauth_credentials_sign, checked against /oauth/jwks."""
    t = O.tokens(env, cli, person)
    target = env.admin("POST", "/accounts/%s/targets" % env.acct,
                       {"Name": "prod", "Kind": "aws-account", "Url": "https://console.example.com"},
                       expect=None)
    if target.get("Code") == "NotFoundException":
        pytest.skip("targets (lane ACCESS) and /api/v1/me/credentials (lane PORTAL) arrive with the merge")
    ps = env.admin("POST", "/accounts/%s/permission-sets" % env.acct,
                   {"Name": "ReadOnly", "SessionDuration": 3600,
                    "Policies": [{"Version": "2012-10-17",
                                  "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}]},
                   expect=201)["PermissionSet"]
    tid = target["Target"]["TargetId"]
    env.admin("POST", "/accounts/%s/assignments" % env.acct,
              {"PrincipalType": "USER", "PrincipalId": person.user["id"], "TargetId": tid,
               "PermissionSetId": ps["PermissionSetId"]}, expect=201)
    r = requests.post(env.base + "/api/v1/me/credentials",
                      headers={"Authorization": "Bearer " + t["access_token"]},
                      json={"TargetId": tid, "PermissionSetId": ps["PermissionSetId"]}, timeout=30)
    assert r.status_code == 200, r.text
    token = r.json()["Credentials"]["Token"]
    keys = jwk.JWKSet.from_json(requests.get(env.base + "/oauth/jwks", timeout=30).text)
    verified = jwt.JWT(jwt=token, key=keys, algs=["ES256"],
                       check_claims={"iss": env.base, "aud": "tessera", "exp": None})
    claims = json.loads(verified.claims)
    assert claims["sub"] == person.user["id"] and claims["account_id"] == env.acct
    assert claims["target_id"] == tid and claims["permission_set_id"] == ps["PermissionSetId"]
    assert claims["exp"] <= time.time() + 3600 + 5
    # a changed claim does not verify
    head, body, sig = token.split(".")
    with pytest.raises(Exception):
        jwt.JWT(jwt=".".join([head, body[:-2] + ("AA" if body[-2:] != "AA" else "BB"), sig]), key=keys,
                algs=["ES256"])


def test_refresh_cannot_outlive_the_sign_in(env):
    """A server with --refresh-token-ttl 4 on the same store: rotation keeps the family's end."""
    port = T.free_port()
    base = "http://127.0.0.1:%d" % port
    short = T.Server(env.store, root_token=env.srv.root_token, port=port,
                     extra_args=["--base-url", base, "--dns-server", env.dns.address, "--access-log", "off",
                                 "--refresh-token-ttl", "4", "--device-poll-interval", "1",
                                 "--trusted-proxy", "127.0.0.1/32"]).start()
    try:
        cli = O.Cli(base, "%s/start/%s" % (base, env.acct))
        person = O.signed_in(env, env.new_user("bounded"))
        flow = cli.authorize()
        O.decide(person, env.base, flow["user_code"])
        r = cli.poll(flow["device_code"])
        assert r.status_code == 200, r.text
        t1 = r.json()
        assert t1["expires_in"] <= 4  # the access token ends with the sign-in too
        time.sleep(2)
        r = cli.refresh(t1["refresh_token"])
        assert r.status_code == 200, r.text
        t2 = r.json()
        assert t2["expires_in"] <= 2
        time.sleep(2.3)
        # a fresh lifetime per rotation would still take this token; the family has ended
        assert O.oauth_error(cli.refresh(t2["refresh_token"])) == "invalid_grant"
        assert cli.me(t2["access_token"]).status_code == 401
    finally:
        problems = short.shutdown_problems()
        assert not problems, problems


def _grant_events(env, user_id):
    evs = env.admin("GET", "/audit-events", params={"eventName": "CreateToken", "max-results": "1000"})["Events"]
    return [e for e in evs if e["userIdentity"].get("principalId") == user_id]


def test_grants_are_audited(env, cli):
    """One CreateToken event per grant, allowed or refused, with family and session ids, no secrets."""
    person = O.signed_in(env, env.new_user("audited"))
    flow = cli.authorize()
    O.decide(person, env.base, flow["user_code"])
    t1 = cli.poll(flow["device_code"]).json()
    assert O.oauth_error(cli.poll(flow["device_code"])) == "invalid_grant"  # used already
    t2 = cli.refresh(t1["refresh_token"]).json()
    t3 = cli.refresh(t2["refresh_token"]).json()
    assert O.oauth_error(cli.refresh(t1["refresh_token"])) == "invalid_grant"  # reuse: revoked
    evs = sorted(_grant_events(env, person.user["id"]), key=lambda e: e["eventTime"])
    assert len(evs) == 5, evs
    device = [e for e in evs if e["requestParameters"]["GrantType"].endswith("device_code")]
    refresh = [e for e in evs if e["requestParameters"]["GrantType"] == "refresh_token"]
    assert len(device) == 2 and len(refresh) == 3
    allowed = [e for e in evs if e.get("errorCode") is None]
    assert len(allowed) == 3
    family = allowed[0]["requestParameters"]["FamilyId"]
    assert all(e["requestParameters"]["FamilyId"] == family for e in allowed)
    assert len({e["requestParameters"]["SessionId"] for e in allowed}) == 3
    assert all(e["eventSource"] == "signin.tessera" and e["recipientAccountId"] == env.acct for e in evs)
    revoked = [e for e in evs if e["requestParameters"].get("FamilyRevoked")]
    assert len(revoked) == 1 and revoked[0]["errorCode"] == "invalid_grant"
    assert revoked[0]["requestParameters"]["FamilyId"] == family
    assert [e["errorCode"] for e in device if e.get("errorCode")] == ["invalid_grant"]
    text = str(env.admin("GET", "/audit-events", params={"eventName": "CreateToken", "max-results": "1000"}))
    for secret in [flow["device_code"]] + [t[k] for t in (t1, t2, t3) for k in ("access_token", "refresh_token")]:
        assert secret not in text


def test_first_key_made_once(env, request, tmp_path):
    """16 parallel GET /oauth/jwks on a fresh store: one key, whoever made it."""
    store = T.SqliteStore(tmp_path) if env.backend == "sqlite" else T.PgStore(
        request.getfixturevalue("pg_cluster"), tmp_path)
    srv = O.start_server(store, env.dns)
    try:
        with ThreadPoolExecutor(16) as pool:
            sets = list(pool.map(lambda _: requests.get(srv.url + "/oauth/jwks", timeout=30), range(16)))
        assert all(r.status_code == 200 for r in sets), [r.text for r in sets]
        kids = {k["kid"] for r in sets for k in r.json()["keys"]}
        final = requests.get(srv.url + "/oauth/jwks", timeout=30)
        assert final.headers["Cache-Control"] == "max-age=300"
        assert len(kids) == 1 and {k["kid"] for k in final.json()["keys"]} == kids, kids
    finally:
        problems = srv.shutdown_problems()
        store.destroy()
        assert not problems, problems
