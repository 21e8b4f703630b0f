"""Users in the admin API (docs/product.md §2; the Amazon Chime guide, "Manage Users", "View User Details"):
invitations and removal on Team accounts, suspension on Enterprise accounts,
licences, personal PINs, sign-out, and what ReadOnly and UserManagement keys may do."""
import re

import dirtest as D


def U(acct, rest=""):
    return "/api/v1/accounts/%s/users%s" % (acct, rest)


def test_team_invite_list_get_and_page(srv, dir_store):
    acct = srv.account("team", "Team")
    inv = srv.j("POST", U(acct), {"UserEmailList": ["Mary.Major@example.com", "bob@example.org"]},
                params={"operation": "add"}, expect=201)["Invites"]
    assert [i["EmailAddress"] for i in inv] == ["Mary.Major@example.com", "bob@example.org"]
    assert all(i["Status"] == "Pending" for i in inv)
    mary = inv[0]["UserId"]
    u = srv.j("GET", U(acct, "/" + mary))["User"]
    # the Chime guide's "View User Details" fields
    assert u["PrimaryEmail"] == "Mary.Major@example.com"
    assert u["UserRegistrationStatus"] == "Unregistered"
    assert u["UserInvitationStatus"] == "Pending"
    assert u["LicenseType"] == "Pro" and u["LicenseSource"] == "Account"
    assert re.fullmatch(r"[0-9]{10}", u["PersonalPIN"])
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", u["InvitedOn"])
    assert u["RegisteredOn"] is None and u["DisplayName"] is None
    # ListUsers by address, any case; paging
    found = srv.j("GET", U(acct), params={"user-email": "mary.major@EXAMPLE.com"})["Users"]
    assert [x["UserId"] for x in found] == [mary]
    assert srv.j("GET", U(acct), params={"user-email": "nobody@example.com"})["Users"] == []
    page1 = srv.j("GET", U(acct), params={"max-results": "1"})
    page2 = srv.j("GET", U(acct), params={"max-results": "1", "next-token": page1["NextToken"]})
    ids = {page1["Users"][0]["UserId"], page2["Users"][0]["UserId"]}
    assert ids == {i["UserId"] for i in inv}
    # an address already in the account, twice in a list, or malformed
    assert srv.call("POST", U(acct), {"UserEmailList": ["bob@EXAMPLE.org"]},
                    params={"operation": "add"}).status_code == 409
    assert srv.call("POST", U(acct), {"UserEmailList": ["x@a.com", "X@a.com"]},
                    params={"operation": "add"}).status_code == 400
    for bad in ["nobody", "@example.com", "a b@example.com", "a@localhost", "a@exa_mple.com"]:
        assert srv.call("POST", U(acct), {"UserEmailList": [bad]},
                        params={"operation": "add"}).status_code == 400, bad
    assert srv.call("POST", U(acct), {"UserEmailList": []},
                    params={"operation": "add"}).status_code == 400
    assert srv.call("POST", U(acct), {"UserIdList": [mary]}).status_code == 400  # no operation


def test_invite_refuses_addresses_of_another_accounts_verified_domain(srv, dns):
    owner = srv.account("owner", "Team")
    srv.verify_domain(dns, owner, "example.com")
    team = srv.account("team", "Team")
    r = srv.call("POST", U(team), {"UserEmailList": ["ok@example.net", "x@example.com"]},
                 params={"operation": "add"})
    assert r.status_code == 409 and "another account" in r.json()["Message"]
    # all or nothing
    assert srv.j("GET", U(team))["Users"] == []
    # an Enterprise account does not invite at all
    r = srv.call("POST", U(owner), {"UserEmailList": ["y@example.com"]},
                 params={"operation": "add"})
    assert r.status_code == 400 and r.json()["Code"] == "BadRequestException"


def test_team_account_cannot_suspend(srv):
    acct = srv.account("team", "Team")
    uid = srv.j("POST", U(acct), {"UserEmailList": ["a@example.com"]},
                params={"operation": "add"}, expect=201)["Invites"][0]["UserId"]
    for op in ("suspend", "unsuspend"):
        r = srv.call("POST", U(acct), {"UserIdList": [uid]}, params={"operation": op})
        assert r.status_code == 400
        assert r.json()["Code"] == "BadRequestException"
        assert "Enterprise" in r.json()["Message"]
    ev = srv.events("SuspendUsers")[0]
    assert ev["errorCode"] == "BadRequestException"


def test_enterprise_suspend_revokes_sessions_and_activate(srv, dir_store):
    acct = srv.account("corp", "Enterprise")
    alice = dir_store.add_user(acct, "alice@example.com", ["alice@example.com"])
    other = dir_store.add_user(acct, "other@example.com", ["other@example.com"])
    sessions = [dir_store.add_session(acct, alice) for _ in range(3)]
    kept = dir_store.add_session(acct, other)
    assert srv.j("GET", U(acct, "/" + alice))["User"]["ActiveSessions"] == 3
    out = srv.j("POST", U(acct), {"UserIdList": [alice, "no-such-user"]},
                params={"operation": "suspend"})
    assert [e["UserId"] for e in out["UserErrors"]] == ["no-such-user"]
    assert out["UserErrors"][0]["ErrorCode"] == "NotFoundException"
    assert all(dir_store.session_revoked(s) for s in sessions)
    assert not dir_store.session_revoked(kept)
    u = srv.j("GET", U(acct, "/" + alice))["User"]
    assert u["UserRegistrationStatus"] == "Suspended" and u["ActiveSessions"] == 0
    chk = srv.j("GET", U(acct, "/%s/sign-in-check" % alice))["SignInCheck"]
    assert chk["Rules"][1]["Rule"] == "Active" and chk["Rules"][1]["Passed"] is False
    srv.j("POST", U(acct), {"UserIdList": [alice]}, params={"operation": "unsuspend"})
    assert srv.j("GET", U(acct, "/" + alice))["User"]["UserRegistrationStatus"] == "Registered"
    assert srv.events("ActivateUsers") and srv.events("SuspendUsers")


def test_licences_by_hand_and_from_groups(srv, dir_store):
    team = srv.account("team", "Team")
    uid = srv.j("POST", U(team), {"UserEmailList": ["a@example.com"]},
                params={"operation": "add"}, expect=201)["Invites"][0]["UserId"]
    u = srv.j("POST", U(team, "/" + uid), {"LicenseType": "Basic"})["User"]
    assert u["LicenseType"] == "Basic"
    assert srv.call("POST", U(team, "/" + uid), {"LicenseType": "Gold"}).status_code == 400
    # an account whose directory an IdP manages (a SCIM API key) takes licences from groups
    corp = srv.account("corp", "Enterprise")
    dir_store.add_api_key(corp)
    e = dir_store.add_user(corp, "e@example.com", ["e@example.com"])
    r = srv.call("POST", U(corp, "/" + e), {"LicenseType": "Pro"})
    assert r.status_code == 400 and "directory groups" in r.json()["Message"]
    u = srv.j("GET", U(corp, "/" + e))["User"]
    assert u["LicenseType"] is None and u["LicenseSource"] == "DirectoryGroups"


def test_reset_personal_pin_and_logout(srv, dir_store):
    acct = srv.account("team", "Team")
    uid = srv.j("POST", U(acct), {"UserEmailList": ["a@example.com"]},
                params={"operation": "add"}, expect=201)["Invites"][0]["UserId"]
    old = srv.j("GET", U(acct, "/" + uid))["User"]["PersonalPIN"]
    new = srv.j("POST", U(acct, "/" + uid), params={"operation": "reset-personal-pin"})["User"]
    assert re.fullmatch(r"[0-9]{10}", new["PersonalPIN"]) and new["PersonalPIN"] != old
    # the old PIN is dead: nobody holds it
    assert dir_store.sql("SELECT count(*) FROM users WHERE personal_pin = %s",
                         (old,))[0][0] in (0, "0")
    s1, s2 = dir_store.add_session(acct, uid), dir_store.add_session(acct, uid)
    srv.call("POST", U(acct, "/" + uid), params={"operation": "logout"}, expect=204)
    assert dir_store.session_revoked(s1) and dir_store.session_revoked(s2)
    assert srv.events("LogoutUser")[0]["responseElements"]["SessionsRevoked"] == 2
    assert srv.call("POST", U(acct, "/nobody"), params={"operation": "logout"}).status_code == 404


def test_remove_user_from_team_only(srv, dir_store):
    team = srv.account("team", "Team")
    uid = srv.j("POST", U(team), {"UserEmailList": ["a@example.com"]},
                params={"operation": "add"}, expect=201)["Invites"][0]["UserId"]
    sid = dir_store.add_session(team, uid)
    srv.call("DELETE", U(team, "/" + uid), expect=204)
    assert srv.call("GET", U(team, "/" + uid)).status_code == 404
    assert dir_store.sql("SELECT count(*) FROM sessions WHERE session_id = %s",
                         (sid,))[0][0] in (0, "0")
    corp = srv.account("corp", "Enterprise")
    e = dir_store.add_user(corp, "e@example.com", ["e@example.com"])
    assert srv.call("DELETE", U(corp, "/" + e)).status_code == 400
    # a user of another account is not found through this one
    assert srv.call("GET", U(team, "/" + e)).status_code == 404


def test_readonly_and_usermanagement_keys_get_what_the_seed_grants(srv, dir_store):
    team = srv.account("team", "Team")
    corp = srv.account("corp", "Enterprise")
    e = dir_store.add_user(corp, "e@example.com", ["e@example.com"])
    dir_store.add_group(corp, "staff")
    ro = srv.admin_key("ReadOnly")
    um = srv.admin_key("UserManagement")

    def status(tok, method, path, body=None, params=None):
        return srv.call(method, path, body, token=tok, params=params).status_code

    # ReadOnly: ListUsers, GetUser, ListDomains, GetDomain, ListGroups only
    assert status(ro, "GET", U(corp)) == 200
    assert status(ro, "GET", U(corp, "/" + e)) == 200
    assert status(ro, "GET", U(corp, "/%s/sign-in-check" % e)) == 200
    assert status(ro, "GET", "/api/v1/accounts/%s/domains" % corp) == 200
    assert status(ro, "GET", "/api/v1/accounts/%s/groups" % corp) == 200
    assert status(ro, "POST", U(team), {"UserEmailList": ["a@x.com"]}, {"operation": "add"}) == 403
    assert status(ro, "POST", U(corp), {"UserIdList": [e]}, {"operation": "suspend"}) == 403
    assert status(ro, "POST", U(corp, "/" + e), params={"operation": "logout"}) == 403
    assert status(ro, "POST", "/api/v1/accounts/%s/domains" % corp, {"DomainName": "a.com"}) == 403
    assert status(ro, "PUT", "/api/v1/accounts/%s/groups" % corp,
                  {"Groups": [{"GroupName": "staff", "LicenseType": "Pro"}]}) == 403
    # UserManagement: the user actions, domain reads; not AddDomain/DeleteDomain/groups writes
    assert status(um, "POST", U(team), {"UserEmailList": ["a@x.com"]}, {"operation": "add"}) == 201
    assert status(um, "POST", U(corp), {"UserIdList": [e]}, {"operation": "suspend"}) == 200
    assert status(um, "POST", U(corp), {"UserIdList": [e]}, {"operation": "unsuspend"}) == 200
    assert status(um, "POST", U(corp, "/" + e), params={"operation": "reset-personal-pin"}) == 200
    assert status(um, "POST", U(corp, "/" + e), params={"operation": "logout"}) == 204
    assert status(um, "GET", "/api/v1/accounts/%s/domains" % corp) == 200
    assert status(um, "POST", "/api/v1/accounts/%s/domains" % corp, {"DomainName": "a.com"}) == 403
    assert status(um, "DELETE", "/api/v1/accounts/%s/domains/a.com" % corp) == 403
    assert status(um, "PUT", "/api/v1/accounts/%s/groups" % corp,
                  {"Groups": [{"GroupName": "staff", "LicenseType": "Pro"}]}) == 403
    assert status(um, "DELETE", "/api/v1/accounts/%s/groups" % corp,
                  {"Groups": [{"GroupName": "staff"}]}) == 403
    # removing a Team user is Tessera's own action: no managed policy grants it
    uid = srv.j("GET", U(team))["Users"][0]["UserId"]
    assert status(um, "DELETE", U(team, "/" + uid)) == 403
    refused = [x for x in srv.events("AddDomain") if x.get("errorCode") == "ForbiddenException"]
    assert len(refused) == 2


def test_cli_user_list(srv, dir_store):
    import json
    import subprocess
    acct = srv.account("team", "Team")
    srv.j("POST", U(acct), {"UserEmailList": ["a@example.com", "b@example.com"]},
          params={"operation": "add"}, expect=201)
    out = subprocess.run([D.BIN, "user", "list", "--db", dir_store.url, "--master-key-file", srv.key_file, "--account", acct,
                          "--json"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    users = json.loads(out.stdout)["Users"]
    assert sorted(u["PrimaryEmail"] for u in users) == ["a@example.com", "b@example.com"]
    out = subprocess.run([D.BIN, "user", "list", "--db", dir_store.url, "--master-key-file", srv.key_file, "--account", acct,
                          "--email", "B@example.com", "--json"], capture_output=True, text=True,
                         timeout=60)
    assert [u["PrimaryEmail"] for u in json.loads(out.stdout)["Users"]] == ["b@example.com"]
    bad = subprocess.run([D.BIN, "user", "list", "--db", dir_store.url, "--master-key-file", srv.key_file, "--account", "nope"],
                         capture_output=True, text=True, timeout=60)
    assert bad.returncode != 0 and "not found" in bad.stderr


def test_scim_deactivation_and_delete_end_sessions(srv, dir_store):
    """docs/product.md §4: SCIM deactivation suspends sign-in at once; a hard delete takes the
    sessions with the user. The user is provisioned over SCIM, as an IdP would."""
    acct = srv.account("corp", "Enterprise")
    key = srv.j("POST", "/api/v1/accounts/%s/api-keys" % acct, {"Description": "idp"},
                expect=201)["ApiKey"]["Token"]
    scim = {"Authorization": "Bearer " + key, "Content-Type": "application/scim+json"}
    import requests
    r = requests.post(srv.base + "/scim/v2/Users", headers=scim, timeout=30, json={
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": "dana@example.com", "active": True,
        "name": {"givenName": "Dana", "familyName": "Doe"},
        "emails": [{"value": "dana@example.com", "primary": True, "type": "work"}]})
    assert r.status_code == 201, r.text
    dana = r.json()["id"]
    live = [dir_store.add_session(acct, dana) for _ in range(2)]
    assert srv.j("GET", U(acct, "/" + dana))["User"]["ActiveSessions"] == 2
    r = requests.patch(srv.base + "/scim/v2/Users/" + dana, headers=scim, timeout=30, json={
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "replace", "value": {"active": False}}]})
    assert r.status_code == 200 and r.json()["active"] is False, r.text
    assert all(dir_store.session_revoked(s) for s in live)
    assert srv.j("GET", U(acct, "/" + dana))["User"]["ActiveSessions"] == 0
    # reactivation does not bring old sessions back; a hard delete removes new ones
    r = requests.patch(srv.base + "/scim/v2/Users/" + dana, headers=scim, timeout=30, json={
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "replace", "path": "active", "value": "True"}]})
    assert r.status_code == 200 and r.json()["active"] is True, r.text
    assert all(dir_store.session_revoked(s) for s in live)
    again = dir_store.add_session(acct, dana)
    assert requests.delete(srv.base + "/scim/v2/Users/" + dana, headers=scim,
                           timeout=30).status_code == 204
    assert int(dir_store.sql("SELECT count(*) FROM sessions WHERE session_id = %s",
                             (again,))[0][0]) == 0


def test_cli_user_get_suspend_activate_logout(srv, dir_store):
    import json
    import subprocess

    def cli(*args):
        return subprocess.run([D.BIN, "user"] + list(args) + ["--db", dir_store.url, "--master-key-file", srv.key_file],
                              capture_output=True, text=True, timeout=60)
    corp = srv.account("corp", "Enterprise")
    erin = dir_store.add_user(corp, "erin@example.com", ["erin@example.com"])
    s1 = dir_store.add_session(corp, erin)
    out = cli("get", "--account", corp, "--id", erin, "--json")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["User"]["PrimaryEmail"] == "erin@example.com"
    assert cli("suspend", "--account", corp, "--id", erin).returncode == 0
    assert dir_store.session_revoked(s1)
    assert srv.j("GET", U(corp, "/" + erin))["User"]["UserRegistrationStatus"] == "Suspended"
    assert cli("activate", "--account", corp, "--id", erin).returncode == 0
    assert srv.j("GET", U(corp, "/" + erin))["User"]["UserRegistrationStatus"] == "Registered"
    s2 = dir_store.add_session(corp, erin)
    assert cli("logout", "--account", corp, "--id", erin).returncode == 0
    assert dir_store.session_revoked(s2)
    # each change is in the audit trail as the local operator
    for n in ("SuspendUsers", "ActivateUsers", "LogoutUser"):
        assert any(e["userIdentity"]["type"] == "LocalOperator" for e in srv.events(n)), n
    # a Team account cannot suspend, and unknown users are refused
    team = srv.account("team", "Team")
    tid = srv.j("POST", U(team), {"UserEmailList": ["t@example.com"]},
                params={"operation": "add"}, expect=201)["Invites"][0]["UserId"]
    bad = cli("suspend", "--account", team, "--id", tid)
    assert bad.returncode != 0 and "Enterprise" in bad.stderr
    assert cli("get", "--account", corp, "--id", "no-such-user").returncode != 0
