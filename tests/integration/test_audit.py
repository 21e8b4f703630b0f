"""The audit trail: one event per admin call, LookupEvents, and the tamper-evident chain."""
import json
import re
import time
import uuid

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
    """Issue 9 item 3: one redaction for every audit writer, whatever the body names a secret."""
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


# ---------------------------------------------------------------- the chain


def verify(store, *extra):
    return run_cli("audit", "verify", "--db", store.db, *extra)


def verify_json(store):
    p = verify(store, "--json")
    return p.returncode, json.loads(p.stdout)


def _some_events(server, n=6):
    for i in range(n):
        server.create_account("chain-%d" % i)
    rows, _ = server.store.sql("SELECT seq, event_id, event_name FROM audit_events ORDER BY seq")
    return [(int(s), e, name) for s, e, name in rows]


def test_verify_intact(server):
    _some_events(server)
    p = verify(server.store)
    assert p.returncode == 0, p.stderr
    rc, out = verify_json(server.store)
    assert rc == 0 and out["Intact"] is True, out
    assert out.get("FirstBadSequence") in (None, 0)


def test_verify_detects_changed_body(server):
    rows = _some_events(server)
    seq3 = next(r for r in rows if r[0] == 3)
    assert seq3[2] == "CreateAccount"
    _, changed = server.store.sql(
        "UPDATE audit_events SET body = replace(body, '\"CreateAccount\"', '\"DeleteAccount\"') WHERE seq = 3"
    )
    assert changed == 1
    p = verify(server.store)
    assert p.returncode != 0
    assert re.search(r"\b3\b", p.stderr), p.stderr
    assert seq3[1] in p.stderr, "the bad event's eventID is named: " + p.stderr
    rc, out = verify_json(server.store)
    assert rc != 0
    assert out["Intact"] is False and out["FirstBadSequence"] == 3, out


def test_verify_detects_changed_hash_column(server):
    _some_events(server)
    server.store.sql("UPDATE audit_events SET hash = prev_hash WHERE seq = 4")
    rc, out = verify_json(server.store)
    assert rc != 0 and out["Intact"] is False and out["FirstBadSequence"] in (4, 5), out


def test_verify_detects_deleted_middle_event(server):
    rows = _some_events(server)
    assert len(rows) >= 6
    _, n = server.store.sql("DELETE FROM audit_events WHERE seq = 3")
    assert n == 1
    p = verify(server.store)
    assert p.returncode != 0
    assert re.search(r"\b3\b", p.stderr), p.stderr
    rc, out = verify_json(server.store)
    assert rc != 0 and out["Intact"] is False and out["FirstBadSequence"] == 3, out


def test_verify_detects_deleted_last_event(server):
    rows = _some_events(server)
    last = rows[-1][0]
    _, n = server.store.sql("DELETE FROM audit_events WHERE seq = %d" % last)
    assert n == 1
    p = verify(server.store)
    assert p.returncode != 0, "removing the newest event must be detected"
    assert str(last) in p.stderr, p.stderr
    rc, out = verify_json(server.store)
    assert rc != 0 and out["Intact"] is False and out["FirstBadSequence"] == last, out


def test_verify_while_serving_and_after_more_calls(server):
    _some_events(server, 3)
    assert verify(server.store).returncode == 0
    server.create_account("later")
    server.get(ACCOUNTS, token=None)
    rc, out = verify_json(server.store)
    assert rc == 0 and out["Intact"] is True, out


def test_refused_scim_authentications_are_audited(server):
    """Issue 9: a SCIM 401 leaves an event like an admin 401: the key id it names, never the token."""
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
    assert run_cli("audit", "verify", "--db", server.store.db).returncode == 0
