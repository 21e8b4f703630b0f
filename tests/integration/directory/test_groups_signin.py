"""Directory groups mapped to licences and the sign-in check (docs/product.md §2, 4 rules 2-5),
with the Amazon Chime guide's shirley.rodriguez configuration examples, both ways."""
import dirtest as D


def G(acct):
    return "/api/v1/accounts/%s/groups" % acct


def check(srv, acct, uid, email=None):
    params = {"email": email} if email is not None else None
    return srv.j("GET", "/api/v1/accounts/%s/users/%s/sign-in-check" % (acct, uid),
                 params=params)["SignInCheck"]


def rules(chk):
    return {r["Rule"]: r for r in chk["Rules"]}


def test_mapping_a_group_not_pushed_yet_is_not_found(srv, dir_store):
    acct = srv.account("corp", "Enterprise")
    dir_store.add_group(acct, "Chime-Pro")
    r = srv.call("PUT", G(acct), {"Groups": [{"GroupName": "Chime-Pro", "LicenseType": "Pro"},
                                             {"GroupName": "chime-basic", "LicenseType": "Basic"}]})
    assert r.status_code == 404
    assert r.json()["Code"] == "NotFoundException"
    assert ("group not found: the two systems may not have completed the sync"
            in r.json()["Message"])
    # exact match: a different case is another group; nothing was written
    r = srv.call("PUT", G(acct), {"Groups": [{"GroupName": "chime-pro", "LicenseType": "Pro"}]})
    assert r.status_code == 404
    assert srv.j("GET", G(acct))["Groups"] == []
    # once pushed it maps
    dir_store.add_group(acct, "chime-basic")
    got = srv.j("PUT", G(acct), {"Groups": [{"GroupName": "Chime-Pro", "LicenseType": "Pro"},
                                            {"GroupName": "chime-basic", "LicenseType": "Basic"}]})
    assert sorted((g["GroupName"], g["LicenseType"]) for g in got["Groups"]) == [
        ("Chime-Pro", "Pro"), ("chime-basic", "Basic")]
    # update, delete, bad bodies
    srv.j("PUT", G(acct), {"Groups": [{"GroupName": "chime-basic", "LicenseType": "Pro"}]})
    assert {g["GroupName"]: g["LicenseType"] for g in srv.j("GET", G(acct))["Groups"]} == {
        "Chime-Pro": "Pro", "chime-basic": "Pro"}
    left = srv.j("DELETE", G(acct), {"Groups": [{"GroupName": "Chime-Pro"}]})["Groups"]
    assert [g["GroupName"] for g in left] == ["chime-basic"]
    assert srv.call("DELETE", G(acct), {"Groups": [{"GroupName": "Chime-Pro"}]}).status_code == 404
    for bad in [{}, {"Groups": []}, {"Groups": [{"GroupName": "chime-basic"}]},
                {"Groups": [{"GroupName": "chime-basic", "LicenseType": "Gold"}]},
                {"Groups": [{"LicenseType": "Pro"}]}]:
        assert srv.call("PUT", G(acct), bad).status_code == 400, bad
    assert srv.events("AddOrUpdateGroups") and srv.events("DeleteGroups")


def _corp(srv, dns, dir_store, domains=("example.com",)):
    acct = srv.account("corp", "Enterprise")
    dir_store.add_api_key(acct)  # the directory is managed by the IdP
    for d in domains:
        srv.verify_domain(dns, acct, d)
    return acct


def test_pro_and_basic_together_give_pro(srv, dns, dir_store):
    acct = _corp(srv, dns, dir_store)
    uid = dir_store.add_user(acct, "pat@example.com", ["pat@example.com"])
    basic = dir_store.add_group(acct, "staff")
    pro = dir_store.add_group(acct, "hosts")
    dir_store.add_member(basic, uid)
    srv.j("PUT", G(acct), {"Groups": [{"GroupName": "staff", "LicenseType": "Basic"}]})
    assert srv.j("GET", "/api/v1/accounts/%s/users/%s" % (acct, uid))["User"]["LicenseType"] == "Basic"
    assert check(srv, acct, uid)["LicenseType"] == "Basic"
    dir_store.add_member(pro, uid)
    srv.j("PUT", G(acct), {"Groups": [{"GroupName": "hosts", "LicenseType": "Pro"}]})
    chk = check(srv, acct, uid)
    assert chk["Allowed"] is True and chk["LicenseType"] == "Pro"
    assert all(r["Passed"] for r in chk["Rules"])
    u = srv.j("GET", "/api/v1/accounts/%s/users/%s" % (acct, uid))["User"]
    assert u["LicenseType"] == "Pro"
    assert sorted(g["GroupName"] for g in u["DirectoryGroups"]) == ["hosts", "staff"]


def test_no_mapped_group_fails_rule_5(srv, dns, dir_store):
    acct = _corp(srv, dns, dir_store)
    uid = dir_store.add_user(acct, "nol@example.com", ["nol@example.com"])
    g = dir_store.add_group(acct, "everyone")
    dir_store.add_member(g, uid)
    chk = check(srv, acct, uid)
    assert chk["Allowed"] is False and chk["LicenseType"] is None
    assert [r["Rule"] for r in chk["Rules"]] == ["IdentityMatch", "Active", "VerifiedDomain",
                                                 "LicensedGroup"]
    r = rules(chk)
    assert r["IdentityMatch"]["Passed"] and r["Active"]["Passed"] and r["VerifiedDomain"]["Passed"]
    assert r["LicensedGroup"]["Passed"] is False
    assert "Pro or Basic" in r["LicensedGroup"]["Reason"]
    assert chk["FirstFailure"] == "LicensedGroup"
    ev = srv.events("GetSignInCheck")
    assert ev and ev[0]["eventName"] == "GetSignInCheck"


def test_shirley_rodriguez_incorrect_and_correct_configuration(srv, dns, dir_store):
    # Incorrect Configuration Example: the account claimed example.com and anotherdomain.com
    acct = _corp(srv, dns, dir_store, ("example.com", "anotherdomain.com"))
    shirley = dir_store.add_user(acct, "shirley.rodriguez",
                                 ["shirley.rodriguez@example.com",
                                  "shirley.rodriguez@example2.com",
                                  "srodriguez@anotherdomain.com"])
    g = dir_store.add_group(acct, "chime-users")
    dir_store.add_member(g, shirley)
    srv.j("PUT", G(acct), {"Groups": [{"GroupName": "chime-users", "LicenseType": "Pro"}]})
    for ok in ["shirley.rodriguez@example.com", "srodriguez@anotherdomain.com",
               "shirley.rodriguez", None]:
        chk = check(srv, acct, shirley, ok)
        assert chk["Allowed"] is True, (ok, chk)
    chk = check(srv, acct, shirley, "shirley.rodriguez@example2.com")
    assert chk["Allowed"] is False
    r = rules(chk)
    assert r["IdentityMatch"]["Passed"] and r["Active"]["Passed"]
    assert r["VerifiedDomain"]["Passed"] is False and "example2.com" in r["VerifiedDomain"]["Reason"]
    # an address that is none of hers
    assert check(srv, acct, shirley, "shirley@example.com")["Allowed"] is False
    # Correct Configuration Example: example2.com claimed too
    srv.verify_domain(dns, acct, "example2.com")
    for ok in ["shirley.rodriguez@example.com", "shirley.rodriguez@example2.com",
               "srodriguez@anotherdomain.com"]:
        assert check(srv, acct, shirley, ok)["Allowed"] is True, ok


def test_sign_in_check_for_an_address_of_someone_else(srv, dns, dir_store):
    acct = _corp(srv, dns, dir_store)
    a = dir_store.add_user(acct, "a@example.com", ["a@example.com"])
    dir_store.add_user(acct, "b@example.com", ["b@example.com"])
    chk = check(srv, acct, a, "b@example.com")
    assert chk["Allowed"] is False
    assert rules(chk)["IdentityMatch"]["Passed"] is False
    assert srv.call("GET", "/api/v1/accounts/%s/users/nobody/sign-in-check" % acct).status_code == 404
