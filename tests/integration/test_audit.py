"""The audit trail: one event per admin call, LookupEvents, and the tamper-evident chain."""
import hashlib
import json
import os
import re
import struct
import threading
import time
import uuid

import pytest

from tessera_itest import UUID_RE, assert_error, check_cases, run_cli

ACCOUNTS = "/api/v1/accounts"
EVENTS = "/api/v1/audit-events"
ISO_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")


def rid():
    return "itest-" + uuid.uuid4().hex


def test_every_call_writes_exactly_one_event(server):
    ro = server.create_key(["ReadOnly"])
    acct = server.create_account("audited")
    calls = []  # (request id, expected eventName, expected status, token kind)

    def call(method, path, event, status, token="root", body=None, data=None):
        r_id = rid()
        r = server.request(method, path, token=token, json_body=body, data=data, headers={"X-Request-Id": r_id})
        assert r.status_code == status, (method, path, r.status_code, r.text)
        assert r.headers["X-Request-Id"] == r_id
        calls.append((r_id, event, status, r))

    call("POST", ACCOUNTS, "CreateAccount", 201, body={"Name": "one"})
    call("POST", ACCOUNTS, "CreateAccount", 400, body={"Name": ""})
    call("POST", ACCOUNTS, "CreateAccount", 400, data=b"{")
    call("GET", ACCOUNTS, "ListAccounts", 200)
    call("GET", ACCOUNTS + "/" + acct["AccountId"], "GetAccount", 200)
    call("POST", ACCOUNTS + "/" + acct["AccountId"], "UpdateAccount", 200, body={"Name": "renamed"})
    call("GET", ACCOUNTS + "/" + acct["AccountId"] + "/settings", "GetAccountSettings", 200)
    call("PUT", ACCOUNTS + "/" + acct["AccountId"] + "/settings", "UpdateAccountSettings", 204, body={"AccountSettings": {"EnableDialOut": True}})
    call("GET", ACCOUNTS + "/" + str(uuid.uuid4()), "GetAccount", 404)
    call("GET", ACCOUNTS, "ListAccounts", 401, token=None)
    call("GET", ACCOUNTS, "ListAccounts", 401, token="malformed")
    call("GET", ACCOUNTS, "ListAccounts", 401, token="TSAKAAAAAAAAAAAAAAAA." + "b" * 40)
    call("POST", ACCOUNTS, "CreateAccount", 403, token=ro["Token"], body={"Name": "nope"})
    call("DELETE", ACCOUNTS + "/" + acct["AccountId"], "DeleteAccount", 403, token=ro["Token"])
    call("GET", "/api/v1/admin-keys", "ListAdminKeys", 200)
    call("DELETE", ACCOUNTS + "/" + acct["AccountId"], "DeleteAccount", 204)

    events = server.events()
    by_rid = {}
    for ev in events:
        by_rid.setdefault(ev.get("clientRequestID"), []).append(ev)
    for r_id, event, status, resp in calls:
        got = by_rid.get(r_id, [])
        assert len(got) == 1, "call %s %s (%d) has %d events" % (event, r_id, status, len(got))
        ev = got[0]
        assert ev["eventName"] == event, ev
        assert ev["eventSource"] == "admin.tessera"
        assert ev["eventType"] == "ApiCall"
        assert ev["eventVersion"]
        assert ISO_RE.match(ev["eventTime"]), ev["eventTime"]
        assert UUID_RE.match(ev["eventID"]), ev["eventID"]
        assert ev["sourceIPAddress"] == "127.0.0.1"
        assert ev["userAgent"] == "tessera-itest/1"
        assert "requestParameters" in ev and "responseElements" in ev
        if status >= 400:
            assert ev["errorCode"] == resp.json()["Code"], ev
            assert isinstance(ev["errorMessage"], str) and ev["errorMessage"], ev
        else:
            assert "errorCode" not in ev, ev
        who = ev["userIdentity"]
        if status == 401:
            assert who["type"] == "Anonymous", ev
        else:
            assert who["type"] == "AdminKey", ev
            assert who["accessKeyId"] == who["principalId"]
    assert len({ev["eventID"] for ev in events}) == len(events), "eventIDs are unique"


def test_generated_request_id_is_the_events_request_id(server):
    r1 = server.post(ACCOUNTS, {"Name": "no header"})
    r2 = server.get(ACCOUNTS, token=None)
    r3 = server.get(ACCOUNTS, headers={"X-Request-Id": "bad id with spaces"})
    events = server.events()
    for r in (r1, r2, r3):
        generated = r.headers["X-Request-Id"]
        assert UUID_RE.match(generated)
        assert [e["eventName"] for e in events if e.get("requestID") == generated] in (["CreateAccount"], ["ListAccounts"])


def test_event_identities(server):
    ro = server.create_key(["ReadOnly"])
    root_id = server.root_token.split(".")[0]
    server.request("GET", ACCOUNTS, token=ro["Token"], headers={"X-Request-Id": "ro-call"})
    server.request("GET", ACCOUNTS, token=None, headers={"X-Request-Id": "anon-call"})
    server.request("GET", ACCOUNTS, token="TSAKBBBBBBBBBBBBBBBB." + "c" * 40, headers={"X-Request-Id": "unknown-call"})
    events = server.events()
    by = {e.get("clientRequestID"): e for e in events}
    assert by["ro-call"]["userIdentity"] == {"type": "AdminKey", "principalId": ro["AccessKeyId"], "accessKeyId": ro["AccessKeyId"]}
    assert by["anon-call"]["userIdentity"]["type"] == "Anonymous"
    assert by["anon-call"]["errorCode"] == "UnauthorizedClientException"
    assert by["unknown-call"]["userIdentity"]["type"] == "Anonymous"
    assert by["unknown-call"]["userIdentity"].get("accessKeyId") == "TSAKBBBBBBBBBBBBBBBB"
    # the first event is `tessera init` creating the first key, as the local operator
    oldest = events[-1]
    assert oldest["eventName"] == "CreateAdminKey"
    assert oldest["userIdentity"]["type"] == "LocalOperator"
    assert oldest["responseElements"]["AccessKeyId"] == root_id
    creator = [e for e in events if e["eventName"] == "CreateAdminKey" and e["userIdentity"]["type"] == "AdminKey"]
    assert len(creator) == 1 and creator[0]["userIdentity"]["accessKeyId"] == root_id


def test_request_and_response_elements(server):
    r = server.post(ACCOUNTS, {"Name": "params", "AccountType": "Enterprise"}, headers={"X-Request-Id": "create-1"})
    acct = r.json()["Account"]
    server.post(ACCOUNTS + "/" + acct["AccountId"], {"Name": "params2"}, headers={"X-Request-Id": "rename-1"})
    by = {e.get("clientRequestID"): e for e in server.events()}
    c = by["create-1"]
    assert c["requestParameters"]["Body"] == {"Name": "params", "AccountType": "Enterprise"}
    assert c["responseElements"]["Account"]["AccountId"] == acct["AccountId"]
    u = by["rename-1"]
    assert u["eventName"] == "UpdateAccount"
    assert u["requestParameters"]["AccountId"] == acct["AccountId"]
    assert u["requestParameters"]["Body"] == {"Name": "params2"}
    assert u["responseElements"]["Account"]["Name"] == "params2"


def test_no_secret_in_any_event(server):
    r = server.post("/api/v1/admin-keys", {"Policies": ["ReadOnly"], "Description": "audited key"}, headers={"X-Request-Id": "key-1"})
    assert r.status_code == 201
    key = r.json()["AdminKey"]
    server.get(ACCOUNTS, token=key["Token"])
    server.get(ACCOUNTS, token=key["Token"][:-1] + ("x" if key["Token"][-1] != "x" else "y"))
    events = server.events()
    ev = next(e for e in events if e.get("clientRequestID") == "key-1")
    assert ev["eventName"] == "CreateAdminKey"
    assert ev["responseElements"]["AdminKey"]["AccessKeyId"] == key["AccessKeyId"]
    assert "Token" not in ev["responseElements"]["AdminKey"], (
        "the CreateAdminKey event's responseElements carry the new key's Token: %r" % ev["responseElements"]
    )
    # a SCIM API key's token must not reach the trail either
    acct = server.create_account("api-key-audit")
    r = server.post(ACCOUNTS + "/" + acct["AccountId"] + "/api-keys", {"Description": "scim"},
                    headers={"X-Request-Id": "apikey-1"})
    assert r.status_code == 201, r.text
    api_token = r.json()["ApiKey"]["Token"]
    events = server.events()
    ev = next(e for e in events if e.get("clientRequestID") == "apikey-1")
    assert "Token" not in json.dumps(ev["responseElements"])
    text = json.dumps(events)
    assert api_token.split(".", 1)[-1] not in text, "an API key token appears in the audit trail"
    for token in (key["Token"], server.root_token):
        secret = token.split(".", 1)[1]
        assert secret not in text, "a token secret appears in the audit trail"
        assert secret not in server.stderr(), "a token secret appears in the server log"
    rows, _ = server.store.sql("SELECT body FROM audit_events")
    assert key["Token"].split(".", 1)[1] not in json.dumps(rows)


def test_secret_members_of_admin_bodies_are_redacted(server):
    """One redaction for every audit writer, whatever the body names a secret."""
    marks = {k: "sec-" + uuid.uuid4().hex for k in ("cs", "pw", "pk", "urn", "bearer", "tok", "pin", "q")}
    body = {"Name": "secrets", "ClientSecret": marks["cs"], "PASSWORD": marks["pw"],
            "Nested": [{"private_key": marks["pk"]}], "urn:example:2.0:Thing:apiToken": marks["urn"],
            "Note": "Bearer " + marks["bearer"]}
    server.post(ACCOUNTS, body, headers={"X-Request-Id": "secrets-1"})
    # a refused call is audited with its body too
    server.post(ACCOUNTS, {"Name": "", "client_secret": marks["tok"]}, headers={"X-Request-Id": "secrets-2"})
    # a token-shaped value under an innocent name
    r = server.post("/api/v1/admin-keys", {"Policies": ["ReadOnly"], "Description": server.root_token},
                    headers={"X-Request-Id": "secrets-3"})
    assert r.status_code == 201, r.text
    acct = server.create_account("pin-audit")
    server.post(ACCOUNTS + "/" + acct["AccountId"], {"Name": "x", "PersonalPIN": marks["pin"]},
                headers={"X-Request-Id": "secrets-4"})
    # a token in the query (RFC 6750 §2.3 form) is audited as the call's Query
    server.get(ACCOUNTS, params={"max-results": "5", "access_token": marks["q"]}, headers={"X-Request-Id": "secrets-5"})
    events = server.events()
    by = {e.get("clientRequestID"): e for e in events}
    b1 = by["secrets-1"]["requestParameters"]["Body"]
    assert b1["Name"] == "secrets", b1
    assert b1["ClientSecret"] == b1["PASSWORD"] == b1["urn:example:2.0:Thing:apiToken"] == "[redacted]", b1
    assert b1["Nested"] == [{"private_key": "[redacted]"}] and b1["Note"] == "[redacted]", b1
    assert by["secrets-2"]["requestParameters"]["Body"]["client_secret"] == "[redacted]"
    assert by["secrets-3"]["requestParameters"]["Body"]["Description"] == "[redacted]"
    assert by["secrets-4"]["requestParameters"]["Body"]["PersonalPIN"] == "[redacted]"
    assert by["secrets-5"]["requestParameters"]["Query"] == "max-results=5&access_token=[redacted]"
    text = json.dumps(events)
    rows, _ = server.store.sql("SELECT body FROM audit_events")
    stored = json.dumps(rows)
    secret = server.root_token.split(".", 1)[1]
    for name, m in list(marks.items()) + [("root token", secret)]:
        assert m not in text, "%s is in the audit trail" % name
        assert m not in stored, "%s is in the stored audit events" % name
        assert m not in server.stderr(), "%s is in the server log" % name


def test_events_newest_first(server):
    for i in range(5):
        server.post(ACCOUNTS, {"Name": "order-%d" % i}, headers={"X-Request-Id": "order-%d" % i})
    events = server.events(eventName="CreateAccount")
    assert [e["clientRequestID"] for e in events] == ["order-%d" % i for i in reversed(range(5))]
    times = [e["eventTime"] for e in events]
    assert times == sorted(times, reverse=True)


def test_lookup_filter_by_event_name(server):
    a = server.create_account("f1")
    server.create_account("f2")
    server.get(ACCOUNTS + "/" + a["AccountId"])
    creates = server.events(eventName="CreateAccount")
    assert len(creates) == 2 and all(e["eventName"] == "CreateAccount" for e in creates)
    gets = server.events(eventName="GetAccount")
    assert len(gets) == 1 and gets[0]["eventName"] == "GetAccount"
    assert server.events(eventName="NoSuchEvent") == []


def test_lookup_filter_by_time(server):
    t0 = int(time.time()) - 1
    server.create_account("t1")
    server.create_account("t2")
    t1 = int(time.time()) + 1
    creates = server.events(eventName="CreateAccount", start=str(t0), end=str(t1))
    assert len(creates) == 2
    assert server.events(eventName="CreateAccount", start=str(t1 + 3600)) == []
    assert server.events(eventName="CreateAccount", end=str(t0 - 3600)) == []
    # RFC 3339 works too
    iso = lambda t: time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))
    assert len(server.events(eventName="CreateAccount", start=iso(t0), end=iso(t1))) == 2
    assert server.events(eventName="CreateAccount", start=iso(t1 + 3600)) == []
    for bad in ({"start": "yesterday"}, {"end": "2020-13-45T99:00:00Z"}):
        assert_error(server.get(EVENTS, params=bad), 400, "BadRequestException")


def test_lookup_paging(server):
    for i in range(7):
        server.create_account("p%d" % i)
    seen, token, pages = [], None, 0
    while True:
        params = {"eventName": "CreateAccount", "max-results": "3"}
        if token:
            params["next-token"] = token
        r = server.get(EVENTS, params=params)
        assert r.status_code == 200, r.text
        body = r.json()
        assert len(body["Events"]) <= 3
        seen.extend(e["eventID"] for e in body["Events"])
        pages += 1
        token = body.get("NextToken")
        if not token:
            break
        assert pages < 10
    assert len(seen) == 7 and len(set(seen)) == 7
    assert pages == 3
    all_at_once = [e["eventID"] for e in server.events(eventName="CreateAccount")]
    assert all_at_once == seen


def test_lookup_bad_paging(server):
    cases = [{"max-results": "0"}, {"max-results": "1001"}, {"max-results": "many"}, {"next-token": "@@@"}, {"next-token": "YWJj"}]
    check_cases(cases, lambda p: assert_error(server.get(EVENTS, params=p), 400, "BadRequestException"))


def test_refused_calls_change_nothing_but_are_recorded(server):
    ro = server.create_key(["ReadOnly"])
    server.post(ACCOUNTS, {"Name": "no"}, token=ro["Token"])
    assert server.get(ACCOUNTS).json()["Accounts"] == []
    ev = server.events(eventName="CreateAccount")
    assert len(ev) == 1 and ev[0]["errorCode"] == "ForbiddenException"
    assert ev[0]["responseElements"] is None


# ---------------------------------------------------------------- the sealed trail
#
# Events are sealed after commit (docs/audit.md): verify needs the master key,
# and each test below changes the store behind the server's back in one way
# and expects `tessera audit verify` to exit 1 with a reason that names it.


def verify(store, *extra):
    return run_cli("audit", "verify", "--db", store.db, "--master-key-file", store.key, *extra)


def verify_json(store, *extra):
    p = verify(store, "--json", *extra)
    assert p.returncode in (0, 1), (p.returncode, p.stderr)
    return p.returncode, json.loads(p.stdout)


def wait_sealed(store, timeout=5.0):
    """Verify until nothing is left to seal; returns its JSON report."""
    deadline = time.time() + timeout
    while True:
        rc, out = verify_json(store)
        assert rc == 0 and out["Intact"] is True, out
        if out["NotSealedYet"] == 0:
            return out
        assert time.time() < deadline, "events still not sealed after %.1f s: %r" % (timeout, out)
        time.sleep(0.1)


def checkpoints_logged(server):
    """The server's "audit checkpoint" log lines, oldest first."""
    lines = []
    for line in server.stderr().splitlines():
        try:
            rec = json.loads(line)
        except ValueError:
            continue
        if rec.get("msg") == "audit checkpoint":
            lines.append(rec)
    return lines


def _some_events(server, n=6):
    for i in range(n):
        server.create_account("chain-%d" % i)
    wait_sealed(server.store)
    rows, _ = server.store.sql("SELECT seq, event_id, event_name FROM audit_events ORDER BY seq")
    return [(int(s), e, name) for s, e, name in rows]


def broken(store, *extra):
    """Verify must find the trail broken: exit 1 in both output forms; returns the JSON."""
    p = verify(store, *extra)
    assert p.returncode == 1, (p.returncode, p.stdout, p.stderr)
    assert "audit trail broken" in p.stderr, p.stderr
    rc, out = verify_json(store, *extra)
    assert rc == 1 and out["Intact"] is False and out["Reason"], out
    return out


def test_verify_intact_after_load_and_sealed_within_seconds(server):
    ro = server.create_key(["ReadOnly"])
    for i in range(10):
        server.create_account("load-%d" % i)
        server.get(ACCOUNTS)
        server.post(ACCOUNTS, {"Name": "refused"}, token=ro["Token"])
    t0 = time.time()
    out = wait_sealed(server.store, timeout=3.0)
    assert time.time() - t0 < 3.0
    rows, _ = server.store.sql("SELECT count(*) FROM audit_events")
    assert out["EventsChecked"] == int(rows[0][0]) >= 32, out
    assert out["OldestNotSealedAgeMs"] is None
    # the newest checkpoint is the one the server logged last
    logged = checkpoints_logged(server)
    assert logged, "the server logs each checkpoint"
    last = logged[-1]
    assert set(last) >= {"seq", "hash", "time_ms", "event_seq", "events"}, last
    assert out["LastCheckpoint"]["Seq"] == last["seq"] and out["LastCheckpoint"]["Hash"] == last["hash"], (out, last)
    assert [c["seq"] for c in logged] == sorted(c["seq"] for c in logged)
    p = verify(server.store)
    assert p.returncode == 0, p.stderr
    assert "intact" in p.stdout and "0 events not sealed yet" in p.stdout, p.stdout
    # the external checkpoint holds; a wrong hash or a place beyond the end does not
    assert verify(server.store, "--expect", "%d:%s" % (last["seq"], last["hash"])).returncode == 0
    assert verify(server.store, "--expect", "%d:%s" % (logged[0]["seq"], logged[0]["hash"])).returncode == 0
    assert verify(server.store, "--expect", "%d:%s" % (last["seq"], "0" * 64)).returncode == 1
    assert verify(server.store, "--expect", "%d:%s" % (last["seq"] + 1, last["hash"])).returncode == 1
    for bad in ("12", "x:" + "0" * 64, "3:abc", "3:" + "g" * 64):
        p = verify(server.store, "--expect", bad)
        assert p.returncode == 2 and "SEQ:HASH" in p.stderr, (bad, p.stderr)


def test_lookup_events_carry_their_chain_hash(server):
    server.create_account("hashed")
    wait_sealed(server.store)
    ev = server.events(eventName="CreateAccount")[0]
    rows, _ = server.store.sql("SELECT c.hash FROM audit_chain c JOIN audit_events e ON e.seq = c.seq "
                               "WHERE e.event_id = '%s'" % ev["eventID"])
    assert ev["eventHash"] == rows[0][0]


@pytest.mark.parametrize("column, change", [
    ("event_name", "event_name = 'GetAccount'"),  # hides the event from eventName searches
    ("event_time_ms", "event_time_ms = event_time_ms - 86400000"),  # moves it out of a time window
    ("account_id", "account_id = 'someone-else'"),
    ("event_id", "event_id = '00000000-0000-4000-8000-000000000000'"),
    ("body", "body = replace(body, '\"CreateAccount\"', '\"DeleteAccount\"')"),
])
def test_verify_detects_an_edited_column(server, column, change):
    rows = _some_events(server)
    seq3 = next(r for r in rows if r[0] == 3)
    _, n = server.store.sql("UPDATE audit_events SET %s WHERE seq = 3" % change)
    assert n == 1
    out = broken(server.store)
    assert out["FirstBadSequence"] == 3, out
    assert "MAC" in out["Reason"], out
    if column != "event_id":
        assert out["FirstBadEventId"] == seq3[1], out
    p = verify(server.store)
    assert re.search(r"\b3\b", p.stderr), p.stderr


def test_verify_detects_an_edited_seq(server):
    _some_events(server)
    server.store.sql("UPDATE audit_events SET seq = 100000 WHERE seq = 3")
    out = broken(server.store)
    assert out["FirstBadSequence"] == 3 and out["FirstBadChainSeq"] == 3, out
    assert "missing" in out["Reason"], out


def test_verify_detects_an_edited_chain_hash(server):
    _some_events(server)
    server.store.sql("UPDATE audit_chain SET hash = '%s' WHERE chain_seq = 4" % ("ab" * 32))
    out = broken(server.store)
    assert out["FirstBadChainSeq"] == 4, out
    assert "link" in out["Reason"], out


def test_verify_detects_deleted_middle_event(server):
    rows = _some_events(server)
    assert len(rows) >= 6
    _, n = server.store.sql("DELETE FROM audit_events WHERE seq = 3")
    assert n == 1
    out = broken(server.store)
    assert out["FirstBadSequence"] == 3, out
    assert "deleted" in out["Reason"], out


def test_verify_detects_deleted_middle_event_and_its_chain_row(server):
    _some_events(server)
    server.store.sql("DELETE FROM audit_events WHERE seq = 3")
    server.store.sql("DELETE FROM audit_chain WHERE seq = 3")
    out = broken(server.store)
    assert out["FirstBadChainSeq"] == 3, out
    assert "chain place 3 is missing" in out["Reason"], out


def test_verify_detects_a_deleted_tail_with_an_external_checkpoint(server):
    _some_events(server, 3)
    kept = checkpoints_logged(server)[-1]
    for i in range(3):
        server.create_account("tail-%d" % i)
    wait_sealed(server.store)
    shipped = checkpoints_logged(server)[-1]  # what an operator shipped elsewhere
    assert shipped["seq"] > kept["seq"]
    # the attacker removes everything after `kept`: events, chain rows and checkpoints
    rows, _ = server.store.sql("SELECT seq FROM audit_chain WHERE chain_seq > %d" % kept["seq"])
    gone = ",".join(str(r[0]) for r in rows)
    server.store.sql("DELETE FROM audit_events WHERE seq IN (%s)" % gone)
    server.store.sql("DELETE FROM audit_chain WHERE chain_seq > %d" % kept["seq"])
    server.store.sql("DELETE FROM audit_checkpoints WHERE chain_seq > %d" % kept["seq"])
    # consistent inside the store: without an outside checkpoint this cannot be seen
    rc, out = verify_json(server.store)
    assert rc == 0 and out["LastCheckpoint"]["Seq"] == kept["seq"], out
    out = broken(server.store, "--expect", "%d:%s" % (shipped["seq"], shipped["hash"]))
    assert "removed from its end" in out["Reason"], out
    assert out["FirstBadChainSeq"] == kept["seq"] + 1, out
    # the older shipped checkpoint still holds
    assert verify(server.store, "--expect", "%d:%s" % (kept["seq"], kept["hash"])).returncode == 0


def test_verify_detects_a_deleted_last_checkpoint(server):
    _some_events(server)
    last = checkpoints_logged(server)[-1]
    server.store.sql("DELETE FROM audit_checkpoints WHERE chain_seq = %d" % last["seq"])
    out = broken(server.store)
    assert "not covered by a checkpoint" in out["Reason"], out


def test_verify_detects_a_deleted_middle_checkpoint(server):
    _some_events(server, 2)
    middle = checkpoints_logged(server)[-1]
    _some_events(server, 2)
    server.store.sql("DELETE FROM audit_checkpoints WHERE chain_seq = %d" % middle["seq"])
    out = broken(server.store)
    assert "checkpoint" in out["Reason"] and "MAC" in out["Reason"], out


def test_verify_detects_reordered_events(server):
    _some_events(server)
    # swap events 3 and 4: each row keeps its columns but takes the other's place
    server.store.sql("UPDATE audit_events SET seq = -3 WHERE seq = 3")
    server.store.sql("UPDATE audit_events SET seq = 3 WHERE seq = 4")
    server.store.sql("UPDATE audit_events SET seq = 4 WHERE seq = -3")
    out = broken(server.store)
    assert out["FirstBadSequence"] == 3, out


def test_verify_detects_a_reordered_chain(server):
    _some_events(server)
    server.store.sql("UPDATE audit_chain SET seq = -3 WHERE seq = 3")
    server.store.sql("UPDATE audit_chain SET seq = 3 WHERE seq = 4")
    server.store.sql("UPDATE audit_chain SET seq = 4 WHERE seq = -3")
    out = broken(server.store)
    assert out["FirstBadChainSeq"] == 3, out
    assert "reordered" in out["Reason"], out


@pytest.mark.parametrize("with_pending_row", [False, True])
def test_verify_detects_a_forged_event(server, with_pending_row):
    _some_events(server)
    # a copy of event 2 (MAC and all) under a new seq and eventID, claiming a deletion
    server.store.sql(
        "INSERT INTO audit_events (seq, event_id, event_time_ms, event_name, account_id, body, mac) "
        "SELECT 100000, '11111111-1111-4111-8111-111111111111', event_time_ms, 'DeleteAccount', "
        "account_id, replace(body, 'CreateAccount', 'DeleteAccount'), mac FROM audit_events WHERE seq = 2")
    if with_pending_row:
        server.store.sql("INSERT INTO audit_pending (seq) VALUES (100000)")
        # the running sealer refuses it and says so; later events are still sealed
        deadline = time.time() + 5
        while "refused by the sealer" not in server.stderr():
            assert time.time() < deadline, server.stderr()[-2000:]
            time.sleep(0.1)
        server.create_account("after-forgery")
        time.sleep(1.0)
        rows, _ = server.store.sql("SELECT count(*) FROM audit_chain WHERE seq = 100000")
        assert int(rows[0][0]) == 0, "a forged event was chained"
        rows, _ = server.store.sql("SELECT count(*) FROM audit_pending WHERE refused = 0")
        assert int(rows[0][0]) == 0, "the events after the forged one are sealed"
    out = broken(server.store)
    assert out["FirstBadSequence"] == 100000, out
    assert out["FirstBadEventId"] == "11111111-1111-4111-8111-111111111111", out
    if with_pending_row:
        assert "MAC" in out["Reason"], out
    else:
        assert "neither sealed nor pending" in out["Reason"], out


def _u64(v):
    return struct.pack(">Q", v)


def _text(t):
    if t is None:
        return _u64(2**64 - 1)
    b = t.encode()
    return _u64(len(b)) + b


def _link(prev, seq, mac):
    """docs/audit.md "Encoding": what someone with the documentation and the tables but not the key computes."""
    return hashlib.sha256(_text("tessera-audit-link-v1") + _text(prev) + _u64(seq) + _text(mac)).hexdigest()


def test_verify_detects_a_rechain_without_the_key(server):
    _some_events(server, 4)
    _some_events(server, 4)
    store = server.store
    # remove event 3 and re-chain everything after it with correct SHA-256 links,
    # renumbering chain places and checkpoints: only the keyed MACs can tell
    store.sql("DELETE FROM audit_events WHERE seq = 3")
    store.sql("DELETE FROM audit_chain WHERE chain_seq = 3")
    for table in ("audit_chain", "audit_checkpoints"):
        store.sql("UPDATE %s SET chain_seq = -(chain_seq - 1) WHERE chain_seq > 3" % table)
        store.sql("UPDATE %s SET chain_seq = -chain_seq WHERE chain_seq < 0" % table)
    rows, _ = store.sql(
        "SELECT c.chain_seq, e.seq, e.mac FROM audit_chain c JOIN audit_events e ON e.seq = c.seq "
        "ORDER BY c.chain_seq")
    links = {0: "0" * 64}
    for place, seq, mac in rows:
        links[int(place)] = _link(links[int(place) - 1], int(seq), mac)
        store.sql("UPDATE audit_chain SET hash = '%s' WHERE chain_seq = %d" % (links[int(place)], int(place)))
    cps, _ = store.sql("SELECT chain_seq FROM audit_checkpoints WHERE chain_seq > 0")
    for (place,) in cps:
        store.sql("UPDATE audit_checkpoints SET hash = '%s' WHERE chain_seq = %d" % (links[int(place)], int(place)))
    out = broken(store)
    # the links are right (so the documented encoding is the real one): the checkpoint MAC is not
    assert "checkpoint" in out["Reason"] and "MAC" in out["Reason"], out
    assert out["EventsChecked"] >= 2, out


def test_verify_detects_everything_deleted(server):
    _some_events(server)
    for table in ("audit_events", "audit_pending", "audit_chain", "audit_checkpoints"):
        server.store.sql("DELETE FROM %s" % table)
    out = broken(server.store)
    assert "deleted" in out["Reason"] and "genesis" in out["Reason"], out
    # and the server does not start a fresh trail over it
    server.create_account("after-wipe")
    time.sleep(0.6)
    rows, _ = server.store.sql("SELECT count(*) FROM audit_checkpoints")
    assert int(rows[0][0]) == 0
    assert "audit sealing failed" in server.stderr()


def test_verify_needs_the_stores_master_key(server, tmp_path):
    _some_events(server, 2)
    other = tmp_path / "other.key"
    other.write_bytes(os.urandom(32))
    os.chmod(str(other), 0o600)
    p = run_cli("audit", "verify", "--db", server.store.db, "--master-key-file", str(other))
    assert p.returncode == 2 and "master key does not match" in p.stderr, p.stderr
    p = run_cli("audit", "verify", "--db", server.store.db, "--master-key-file", str(tmp_path / "none.key"))
    assert p.returncode == 2 and "master key" in p.stderr, p.stderr


def test_verify_while_serving_and_after_more_calls(server):
    _some_events(server, 3)
    assert verify(server.store).returncode == 0
    server.create_account("later")
    server.get(ACCOUNTS, token=None)
    rc, out = verify_json(server.store)
    assert rc == 0 and out["Intact"] is True, out
    wait_sealed(server.store)


def test_refused_scim_authentications_are_audited(server):
    """A SCIM 401 leaves an event like an admin 401: the key id it names, never the token."""
    acct = server.create_account("scim-401")["AccountId"]
    r = server.post(ACCOUNTS + "/" + acct + "/api-keys", {"Description": "idp"})
    assert r.status_code == 201, r.text
    token = r.json()["ApiKey"]["Token"]
    key_id, secret = token.split(".", 1)
    wrong = key_id + "." + ("A" if secret[0] != "A" else "B") + secret[1:]
    unknown = "TSSK" + "B" * 16 + "." + "c" * 40
    scim = "/scim/v2/Users"
    user = {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "eve", "password": "hunter2-pw"}
    calls = [
        ("GET", wrong, None, "ListUsers", key_id),
        ("POST", wrong, user, "CreateUser", key_id),
        ("GET", unknown, None, "ListUsers", "TSSK" + "B" * 16),
        ("GET", "garbage", None, "ListUsers", None),
        ("GET", None, None, "ListUsers", None),
    ]
    for method, tok, body, _, _ in calls:
        r = server.request(method, scim, token=tok, json_body=body)
        assert r.status_code == 401, r.text
        assert r.headers.get("WWW-Authenticate", "").startswith("Bearer")
    events = [e for e in server.events() if e["eventSource"] == "scim.tessera"]
    assert len(events) == len(calls), events
    for ev, (_, _, _, name, claimed) in zip(reversed(events), calls):
        assert ev["eventName"] == name, ev
        assert ev["errorCode"] == "UnauthorizedClientException", ev
        assert ev["userIdentity"]["type"] == "Anonymous", ev
        assert ev["userIdentity"].get("accessKeyId") == claimed, ev
        assert ev.get("sourceIPAddress"), ev
    text = json.dumps(events)
    for s in (secret, wrong.split(".", 1)[1], "c" * 40, "hunter2-pw", "garbage"):
        assert s not in text, s
    # the right key still works, and its read leaves no event
    r = server.request("GET", scim, token=token)
    assert r.status_code == 200, r.text
    assert len([e for e in server.events() if e["eventSource"] == "scim.tessera"]) == len(calls)
    assert run_cli("audit", "verify", "--db", server.store.db, "--master-key-file", server.store.key).returncode == 0


def test_two_nodes_one_trail(start_server, store):
    """Two servers on one store: both append without a shared lock, one seals at a time."""
    a = start_server(init=True)
    b = start_server(root_token=a.root_token)
    errors = []

    def load(srv, tag):
        for i in range(25):
            r = srv.post(ACCOUNTS, {"Name": "%s-%d" % (tag, i)})
            if r.status_code != 201:
                errors.append((tag, r.status_code, r.text))
            srv.get(ACCOUNTS)

    threads = [threading.Thread(target=load, args=(srv, tag)) for srv, tag in ((a, "a"), (b, "b"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors[:3]
    out = wait_sealed(store, timeout=5.0)
    rows, _ = store.sql("SELECT count(*) FROM audit_events")
    assert out["EventsChecked"] == int(rows[0][0]) >= 101, out
    # every chain place was sealed by exactly one node: the logged checkpoints tile the chain
    # (place 1 is `tessera init`'s own event, sealed by init, which does not log)
    spans = sorted((cp["seq"] - cp["events"], cp["seq"]) for srv in (a, b) for cp in checkpoints_logged(srv))
    assert spans and spans[0][0] == 1, spans
    for (lo1, hi1), (lo2, hi2) in zip(spans, spans[1:]):
        assert hi1 == lo2, "checkpoints overlap or leave a gap: %r" % spans
    assert spans[-1][1] == out["LastCheckpoint"]["Seq"], (spans[-1], out)
