"""Domains: AddDomain's TXT challenge, verification over real DNS (dnsmasq), conflicts
between accounts, DeleteDomain's consequences (docs/product.md §2, 4), and a verifier that survives
a DNS server that does not answer."""
import time

import dirtest as D


def test_add_domain_answers_the_txt_record_and_dns_verifies_it(srv, dns):
    acct = srv.account("team", "Team")
    d = srv.j("POST", "/api/v1/accounts/%s/domains" % acct, {"DomainName": "Example.COM."},
              expect=201)["Domain"]
    assert d["DomainName"] == "example.com"
    assert d["DomainStatus"] == "PendingVerification"
    rec = d["VerificationRecord"]
    assert rec["Type"] == "TXT" and rec["Name"] == "_tessera-challenge.example.com"
    assert rec["Value"].startswith("tessera-verification=") and len(rec["Value"]) > 30
    # nothing published yet: the check fails and the domain stays pending
    srv.j("POST", "/api/v1/accounts/%s/domains/example.com" % acct,
          params={"operation": "verify"}, expect=202)
    D.wait_for(lambda: "LastCheckError" in srv.domain(acct, "example.com"), what="a failed check")
    assert srv.domain(acct, "example.com")["DomainStatus"] == "PendingVerification"
    # a wrong value proves nothing
    dns.publish(rec["Name"], "tessera-verification=not-the-token", rec["Value"] + "x")
    srv.j("POST", "/api/v1/accounts/%s/domains/example.com" % acct,
          params={"operation": "verify"}, expect=202)
    time.sleep(1.5)
    assert srv.domain(acct, "example.com")["DomainStatus"] == "PendingVerification"
    # the right one among others verifies it
    dns.publish(rec["Name"], "v=spf1 -all", rec["Value"])
    srv.j("POST", "/api/v1/accounts/%s/domains/example.com" % acct,
          params={"operation": "verify"}, expect=202)
    D.wait_for(lambda: srv.domain(acct, "example.com")["DomainStatus"] == "Verified",
               what="Verified")
    # docs/product.md §4: a Team account becomes Enterprise with its first verified domain
    assert srv.j("GET", "/api/v1/accounts/%s" % acct)["Account"]["AccountType"] == "Enterprise"
    listed = srv.j("GET", "/api/v1/accounts/%s/domains" % acct)["Domains"]
    assert [x["DomainName"] for x in listed] == ["example.com"]
    assert listed[0]["DomainStatus"] == "Verified"
    ev = [e for e in srv.events("UpdateDomainStatus")
          if e["requestParameters"]["DomainName"] == "example.com"]
    assert ev and ev[0]["responseElements"]["Domain"]["DomainStatus"] == "Verified"
    assert srv.events("VerifyDomain") and srv.events("AddDomain")


def test_domain_verified_by_another_account_is_a_conflict(srv, dns):
    first = srv.account("first", "Team")
    second = srv.account("second", "Team")
    srv.verify_domain(dns, first, "example.com")
    r = srv.call("POST", "/api/v1/accounts/%s/domains" % second, {"DomainName": "example.com"})
    assert r.status_code == 409
    assert r.json()["Code"] == "ConflictException"
    assert "conflict" in r.json()["Message"]
    # the audit event looks like the Chime guide's AddDomain / ConflictException example
    ev = [e for e in srv.events("AddDomain") if e.get("errorCode") == "ConflictException"]
    assert len(ev) == 1
    ev = ev[0]
    assert ev["eventName"] == "AddDomain" and ev["eventSource"] == "admin.tessera"
    assert ev["errorMessage"].startswith("Request could not be completed due to a conflict")
    assert ev["requestParameters"]["DomainName"] == "example.com"
    assert ev["requestParameters"]["AccountId"] == second
    assert ev["responseElements"] is None
    assert ev["userIdentity"]["type"] == "AdminKey"
    # the same account adding it twice is a conflict too; other domains are fine
    assert srv.call("POST", "/api/v1/accounts/%s/domains" % first,
                    {"DomainName": "example.com"}).status_code == 409
    srv.j("POST", "/api/v1/accounts/%s/domains" % second, {"DomainName": "other.example"},
          expect=201)


def test_two_accounts_pending_only_the_first_verified_wins(srv, dns):
    a = srv.account("a", "Team")
    b = srv.account("b", "Team")
    ra = srv.j("POST", "/api/v1/accounts/%s/domains" % a, {"DomainName": "shared.example"},
               expect=201)["Domain"]["VerificationRecord"]
    rb = srv.j("POST", "/api/v1/accounts/%s/domains" % b, {"DomainName": "shared.example"},
               expect=201)["Domain"]["VerificationRecord"]
    dns.publish(ra["Name"], ra["Value"])
    srv.j("POST", "/api/v1/accounts/%s/domains/shared.example" % a,
          params={"operation": "verify"}, expect=202)
    D.wait_for(lambda: srv.domain(a, "shared.example")["DomainStatus"] == "Verified")
    # b publishes its record too, later: the domain already belongs to a
    dns.publish(ra["Name"], ra["Value"], rb["Value"])
    srv.j("POST", "/api/v1/accounts/%s/domains/shared.example" % b,
          params={"operation": "verify"}, expect=202)
    D.wait_for(lambda: srv.domain(b, "shared.example")["DomainStatus"] == "Failed")


def _enterprise_with_people(srv, dns, store, managed):
    acct = srv.account("corp", "Enterprise")
    srv.verify_domain(dns, acct, "example.com")
    if managed:
        store.add_api_key(acct)
    alice = store.add_user(acct, "alice", ["alice@example.com"])
    bob = store.add_user(acct, "bob", ["bob@example.com"], suspended=True, status="Suspended")
    carol = store.add_user(acct, "carol", ["carol@other.example", "carol@example.com"])
    s_alice = [store.add_session(acct, alice), store.add_session(acct, alice)]
    s_carol = store.add_session(acct, carol)
    return acct, alice, bob, carol, s_alice, s_carol


def test_delete_domain_releases_people_and_signs_them_out(srv, dns, dir_store):
    acct, alice, bob, carol, s_alice, s_carol = _enterprise_with_people(srv, dns, dir_store,
                                                                        managed=False)
    srv.call("DELETE", "/api/v1/accounts/%s/domains/example.com" % acct, expect=204)
    assert all(dir_store.session_revoked(s) for s in s_alice)
    get = lambda u: srv.j("GET", "/api/v1/accounts/%s/users/%s" % (acct, u))["User"]
    assert get(alice)["UserRegistrationStatus"] == "Released"
    assert get(alice)["ActiveSessions"] == 0
    assert get(bob)["UserRegistrationStatus"] == "Suspended"
    # a proxy address on the domain: profile and sessions stay
    assert get(carol)["UserRegistrationStatus"] == "Registered"
    assert not dir_store.session_revoked(s_carol)
    assert srv.call("GET", "/api/v1/accounts/%s/domains/example.com" % acct).status_code == 404
    ev = srv.events("DeleteDomain")[0]
    assert ev["responseElements"]["UsersReleased"] == 1
    assert ev["responseElements"]["UsersSignedOut"] == 2
    assert ev["responseElements"]["UsersKeptSuspended"] == 1
    # the released user can no longer sign in
    chk = srv.j("GET", "/api/v1/accounts/%s/users/%s/sign-in-check" % (acct, alice))
    assert chk["SignInCheck"]["Allowed"] is False


def test_delete_domain_of_idp_managed_account_deletes_profiles(srv, dns, dir_store):
    acct, alice, bob, carol, s_alice, s_carol = _enterprise_with_people(srv, dns, dir_store,
                                                                        managed=True)
    srv.call("DELETE", "/api/v1/accounts/%s/domains/example.com" % acct, expect=204)
    assert srv.call("GET", "/api/v1/accounts/%s/users/%s" % (acct, alice)).status_code == 404
    assert srv.call("GET", "/api/v1/accounts/%s/users/%s" % (acct, bob)).status_code == 404
    # sessions of deleted users are gone with them
    assert dir_store.sql("SELECT count(*) FROM sessions WHERE user_id = %s",
                         (alice,))[0][0] in (0, "0")
    assert srv.call("GET", "/api/v1/accounts/%s/users/%s" % (acct, carol)).status_code == 200
    assert not dir_store.session_revoked(s_carol)


def test_failed_after_24_hours_and_verify_rechecks(srv, dns, dir_store):
    acct = srv.account("late", "Team")
    rec = srv.j("POST", "/api/v1/accounts/%s/domains" % acct, {"DomainName": "late.example"},
                expect=201)["Domain"]["VerificationRecord"]
    day_ago = D.now_ms() - 25 * 3600 * 1000
    dir_store.sql("UPDATE domains SET created_ms = %s WHERE domain_name = %s",
                  (day_ago, "late.example"))
    srv.j("POST", "/api/v1/accounts/%s/domains/late.example" % acct,
          params={"operation": "verify"}, expect=202)
    D.wait_for(lambda: srv.domain(acct, "late.example")["DomainStatus"] == "Failed",
               what="Failed after 24 h")
    assert srv.j("GET", "/api/v1/accounts/%s" % acct)["Account"]["AccountType"] == "Team"
    # the record shows up late: an explicit re-check still verifies it
    dns.publish(rec["Name"], rec["Value"])
    srv.j("POST", "/api/v1/accounts/%s/domains/late.example" % acct,
          params={"operation": "verify"}, expect=202)
    D.wait_for(lambda: srv.domain(acct, "late.example")["DomainStatus"] == "Verified")


def test_bad_domain_names_and_unknown_operation(srv):
    acct = srv.account()
    for bad in ["", "localhost", "exa mple.com", "-a.com", "a-.com", "a..com", "192.0.2.1",
                "x" * 64 + ".com", "a_b.com", "ex%ample.com", "ünï.com"]:
        r = srv.call("POST", "/api/v1/accounts/%s/domains" % acct, {"DomainName": bad})
        assert r.status_code == 400, bad
        assert r.json()["Code"] == "BadRequestException"
    assert srv.call("POST", "/api/v1/accounts/%s/domains/example.com" % acct,
                    params={"operation": "explode"}).status_code == 400
    assert srv.call("POST", "/api/v1/accounts/%s/domains/nope.example" % acct,
                    params={"operation": "verify"}).status_code == 404
    assert srv.call("GET", "/api/v1/accounts/%s/domains/nope.example" % acct).status_code == 404
    assert srv.call("DELETE", "/api/v1/accounts/%s/domains/nope.example" % acct).status_code == 404
    assert srv.call("GET", "/api/v1/accounts/no-such/domains").status_code == 404


def test_verifier_survives_a_dns_server_that_does_not_answer(make_server):
    silent = D.SilentDns()
    try:
        s = make_server([silent.address])
        acct = s.account("quiet", "Team")
        for i in range(3):
            s.j("POST", "/api/v1/accounts/%s/domains" % acct,
                {"DomainName": "d%d.example" % i}, expect=201)
        s.j("POST", "/api/v1/accounts/%s/domains/d0.example" % acct,
            params={"operation": "verify"}, expect=202)
        # request threads never wait for DNS: calls stay fast while lookups time out
        for _ in range(10):
            t = time.time()
            s.j("GET", "/api/v1/accounts/%s/domains" % acct)
            assert time.time() - t < 1.0
            time.sleep(0.2)
        D.wait_for(lambda: s.domain(acct, "d0.example").get("LastCheckError") ==
                   "no DNS server answered", 20, what="a timed-out check")
        assert s.domain(acct, "d0.example")["DomainStatus"] == "PendingVerification"
        # a lookup may be in flight: shutdown still ends within the lookup's timeout
        code, took = s.stop()
        assert code == 0 and took < 8, (code, took)
    finally:
        silent.close()
