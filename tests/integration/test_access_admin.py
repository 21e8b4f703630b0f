"""Targets, permission sets and assignments over the admin API and the CLI (SPEC §8, docs/access.md),
on both store backends: the shapes outside tools rely on, update and delete, paging, the checks on
every member (caps, UTF-8 without controls, http(s) URLs, policy documents through the policy parser,
SessionDuration bounds, principals of the account), the three managed policies (FullAccess all,
UserManagement and ReadOnly the reads), one audit event per call, allowed or refused, tenant isolation
(another account's ids are not found), the cascades (a target or permission set takes its assignments,
a SCIM user or group deleted takes theirs), and `tessera target|permission-set|assignment`."""
import json
import uuid

import requests

import tessera_itest as T
from tessera_itest import assert_error, check_cases, cli_json, run_cli

ACCOUNTS = "/api/v1/accounts"
SCIM_JSON = "application/scim+json"
USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:Group"
DOC = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["s3:GetObject", "ec2:Describe*"],
                                               "Resource": "*"}]}


class Tenant:
    """An account with a SCIM key, its users and groups made over SCIM as an IdP would."""

    def __init__(self, server, name):
        self.server = server
        self.id = server.create_account(name, account_type="Enterprise")["AccountId"]
        r = server.post(self.path("/api-keys"), {"Description": "idp"})
        assert r.status_code == 201, r.text
        self.scim_token = r.json()["ApiKey"]["Token"]

    def path(self, rest=""):
        return "%s/%s%s" % (ACCOUNTS, self.id, rest)

    def scim(self, method, path, body=None):
        return requests.request(method, self.server.url + "/scim/v2" + path, timeout=60,
                                data=json.dumps(body) if body is not None else None,
                                headers={"Authorization": "Bearer " + self.scim_token,
                                         "Content-Type": SCIM_JSON, "Accept": SCIM_JSON})

    def user(self):
        name = "u-%s@example.com" % uuid.uuid4().hex[:10]
        r = self.scim("POST", "/Users", {"schemas": [USER_SCHEMA], "userName": name, "active": True,
                                         "emails": [{"primary": True, "value": name, "type": "work"}]})
        assert r.status_code == 201, r.text
        return r.json()["id"]

    def group(self, members=()):
        r = self.scim("POST", "/Groups", {"schemas": [GROUP_SCHEMA], "displayName": "g-" + uuid.uuid4().hex[:8],
                                          "members": [{"value": m} for m in members]})
        assert r.status_code == 201, r.text
        return r.json()["id"]

    def target(self, name=None, token="root", **extra):
        body = {"Name": name or "t-" + uuid.uuid4().hex[:8], "Kind": "AwsAccount", "Url": "https://console.example.com/"}
        body.update(extra)
        r = self.server.post(self.path("/targets"), body, token=token)
        assert r.status_code == 201, r.text
        return r.json()["Target"]

    def pset(self, name=None, **extra):
        body = {"Name": name or "p-" + uuid.uuid4().hex[:8], "Policies": [DOC]}
        body.update(extra)
        r = self.server.post(self.path("/permission-sets"), body)
        assert r.status_code == 201, r.text
        return r.json()["PermissionSet"]

    def assign(self, ptype, pid, target, pset):
        r = self.server.post(self.path("/assignments"), {"PrincipalType": ptype, "PrincipalId": pid,
                                                         "TargetId": target, "PermissionSetId": pset})
        assert r.status_code == 201, r.text
        return r.json()["Assignment"]

    def assignments(self, **params):
        r = self.server.get(self.path("/assignments"), params=params)
        assert r.status_code == 200, r.text
        return r.json()["Assignments"]


def count(server, query):
    """A count(*) read behind the server's back, on either backend."""
    rows, _ = server.store.sql(query)
    return int(rows[0][0])


def test_shapes_update_delete_and_paging(server):
    t = Tenant(server, "shapes")
    uid = t.user()
    gid = t.group([uid])
    r = server.post(t.path("/targets"), {"Name": "Production", "Kind": "AwsAccount", "Url": "https://console.example.com/prod"})
    assert r.status_code == 201, r.text
    target = r.json()["Target"]
    assert set(target) == {"TargetId", "AccountId", "Name", "Kind", "Url", "CreatedTimestamp", "UpdatedTimestamp"}
    assert (target["AccountId"], target["Name"], target["Kind"], target["Url"]) == (
        t.id, "Production", "AwsAccount", "https://console.example.com/prod")
    # Kind is optional
    assert server.post(t.path("/targets"), {"Name": "App", "Url": "http://app.example:8443/x?y=1#z"}).json()["Target"]["Kind"] == "Application"

    r = server.post(t.path("/permission-sets"), {"Name": "Admin", "Policies": [DOC], "SessionDuration": 7200})
    assert r.status_code == 201, r.text
    pset = r.json()["PermissionSet"]
    assert set(pset) == {"PermissionSetId", "AccountId", "Name", "Policies", "SessionDuration", "CreatedTimestamp",
                         "UpdatedTimestamp"}
    assert pset["Policies"] == [DOC] and pset["SessionDuration"] == 7200
    assert t.pset("Default")["SessionDuration"] == 3600  # the default

    r = server.post(t.path("/assignments"), {"PrincipalType": "USER", "PrincipalId": uid, "TargetId": target["TargetId"],
                                              "PermissionSetId": pset["PermissionSetId"]})
    assert r.status_code == 201, r.text
    a1 = r.json()["Assignment"]
    assert set(a1) == {"AssignmentId", "AccountId", "PrincipalType", "PrincipalId", "TargetId", "PermissionSetId",
                       "CreatedTimestamp"}
    assert (a1["PrincipalType"], a1["PrincipalId"]) == ("USER", uid)
    a2 = t.assign("GROUP", gid, target["TargetId"], pset["PermissionSetId"])
    # the same assignment twice
    r = server.post(t.path("/assignments"), {"PrincipalType": "GROUP", "PrincipalId": gid, "TargetId": target["TargetId"],
                                              "PermissionSetId": pset["PermissionSetId"]})
    assert_error(r, 409, "ConflictException")
    # names are unique in the account
    assert_error(server.post(t.path("/targets"), {"Name": "Production", "Url": "https://x.example/"}), 409, "ConflictException")
    assert_error(server.post(t.path("/permission-sets"), {"Name": "Admin", "Policies": [DOC]}), 409, "ConflictException")

    # reads
    for path, key, obj, idk in (("/targets/", "Target", target, "TargetId"),
                                ("/permission-sets/", "PermissionSet", pset, "PermissionSetId"),
                                ("/assignments/", "Assignment", a1, "AssignmentId")):
        r = server.get(t.path(path + obj[idk]))
        assert r.status_code == 200, r.text
        assert r.json() == {key: obj}
        assert_error(server.get(t.path(path + str(uuid.uuid4()))), 404, "NotFoundException")
    assert {a["AssignmentId"] for a in t.assignments()} == {a1["AssignmentId"], a2["AssignmentId"]}
    assert [a["AssignmentId"] for a in t.assignments(**{"principal-id": gid})] == [a2["AssignmentId"]]
    assert len(t.assignments(**{"target-id": target["TargetId"]})) == 2
    assert t.assignments(**{"target-id": str(uuid.uuid4())}) == []

    # updates keep what they are not given
    r = server.post(t.path("/targets/" + target["TargetId"]), {"Url": "https://console.example.com/new"})
    assert r.status_code == 200, r.text
    up = r.json()["Target"]
    assert (up["Name"], up["Kind"], up["Url"]) == ("Production", "AwsAccount", "https://console.example.com/new")
    assert up["CreatedTimestamp"] == target["CreatedTimestamp"]
    assert server.get(t.path("/targets/" + target["TargetId"])).json()["Target"] == up
    doc2 = {"Version": "2012-10-17", "Statement": {"Effect": "Deny", "NotAction": "iam:*", "Resource": "arn:aws:iam::1:role/x"}}
    r = server.post(t.path("/permission-sets/" + pset["PermissionSetId"]), {"Policies": [doc2, DOC], "SessionDuration": 900})
    assert r.status_code == 200, r.text
    ps = r.json()["PermissionSet"]
    assert (ps["Name"], ps["Policies"], ps["SessionDuration"]) == ("Admin", [doc2, DOC], 900)
    r = server.post(t.path("/permission-sets/" + pset["PermissionSetId"]), {"Name": "Administrators"})
    assert r.json()["PermissionSet"]["Name"] == "Administrators" and r.json()["PermissionSet"]["SessionDuration"] == 900
    assert_error(server.post(t.path("/targets/" + target["TargetId"]), {"Name": "App"}), 409, "ConflictException")
    assert_error(server.post(t.path("/targets/" + target["TargetId"]), {}), 400, "BadRequestException")
    assert_error(server.post(t.path("/targets/" + str(uuid.uuid4())), {"Name": "n"}), 404, "NotFoundException")

    # an assignment moves to another pair or principal, keeping its id
    p2 = t.pset("Second")["PermissionSetId"]
    r = server.post(t.path("/assignments/" + a1["AssignmentId"]), {"PermissionSetId": p2})
    assert r.status_code == 200, r.text
    moved = r.json()["Assignment"]
    assert moved == dict(a1, PermissionSetId=p2)
    assert server.get(t.path("/assignments/" + a1["AssignmentId"])).json()["Assignment"] == moved
    r = server.post(t.path("/assignments/" + a1["AssignmentId"]), {"PrincipalType": "GROUP", "PrincipalId": gid,
                                                                    "PermissionSetId": pset["PermissionSetId"]})
    assert_error(r, 409, "ConflictException")  # a2 holds that
    assert_error(server.post(t.path("/assignments/" + a1["AssignmentId"]), {"PrincipalId": gid}), 400)
    assert_error(server.post(t.path("/assignments/" + a1["AssignmentId"]), {"TargetId": str(uuid.uuid4())}), 404)
    r = server.post(t.path("/assignments/" + a1["AssignmentId"]), {"PermissionSetId": pset["PermissionSetId"]})
    assert r.json()["Assignment"] == a1

    # paging, as ListUsers: max-results and an opaque next-token
    for i in range(3):
        t.target("page-%d" % i)
    seen, params = [], {"max-results": "2"}
    while True:
        r = server.get(t.path("/targets"), params=params)
        assert r.status_code == 200, r.text
        body = r.json()
        assert len(body["Targets"]) <= 2
        seen.extend(x["TargetId"] for x in body["Targets"])
        if "NextToken" not in body:
            break
        assert target["TargetId"] not in body["NextToken"]
        params["next-token"] = body["NextToken"]
    assert len(seen) == 5 and len(set(seen)) == 5
    assert_error(server.get(t.path("/targets"), params={"max-results": "0"}), 400)
    assert_error(server.get(t.path("/targets"), params={"next-token": "forged"}), 400)
    assert_error(server.get(ACCOUNTS + "/" + str(uuid.uuid4()) + "/targets"), 404, "NotFoundException")

    # deletes
    r = server.delete(t.path("/assignments/" + a1["AssignmentId"]))
    assert r.status_code == 204, r.text
    assert_error(server.delete(t.path("/assignments/" + a1["AssignmentId"])), 404)
    assert [a["AssignmentId"] for a in t.assignments()] == [a2["AssignmentId"]]


def test_validation(server):
    t = Tenant(server, "checks")
    uid = t.user()
    target = t.target("ok")
    pset = t.pset("ok")
    tid, pid = target["TargetId"], pset["PermissionSetId"]
    url = "https://console.example.com/"
    cases = [
        # targets
        ("/targets", {"Url": url}),
        ("/targets", {"Name": "", "Url": url}),
        ("/targets", {"Name": "x" * 129, "Url": url}),
        ("/targets", {"Name": "bell\u0007", "Url": url}),
        ("/targets", {"Name": "csi\u009b", "Url": url}),
        ("/targets", {"Name": "nul\u0000", "Url": url}),
        ("/targets", {"Name": 5, "Url": url}),
        ("/targets", {"Name": "n", "Kind": "has space", "Url": url}),
        ("/targets", {"Name": "n", "Kind": "k" * 65, "Url": url}),
        ("/targets", {"Name": "n"}),
        ("/targets", {"Name": "n", "Url": "ftp://files.example/"}),
        ("/targets", {"Name": "n", "Url": "javascript:alert(1)"}),
        ("/targets", {"Name": "n", "Url": "/relative/path"}),
        ("/targets", {"Name": "n", "Url": "https://user:pw@host.example/"}),
        ("/targets", {"Name": "n", "Url": "https://host.example/a b"}),
        ("/targets", {"Name": "n", "Url": "https://host.example/a\\b"}),
        ("/targets", {"Name": "n", "Url": "https://host.example/\"><script>"}),
        ("/targets", {"Name": "n", "Url": "https://good.example\\@evil.example/"}),
        ("/targets", {"Name": "n", "Url": "https://h\u00e9.example/"}),
        ("/targets", {"Name": "n", "Url": "https:///nohost"}),
        ("/targets", {"Name": "n", "Url": "https://host.example/" + "a" * 2048}),
        ("/targets", {"Name": "n", "Url": url, "Extra": 1}),
        ("/targets/" + tid, {"Url": "http://"}),
        ("/targets/" + tid, {"Name": "\u001b[2J"}),
        # permission sets
        ("/permission-sets", {"Name": "p"}),
        ("/permission-sets", {"Name": "p", "Policies": []}),
        ("/permission-sets", {"Name": "p", "Policies": DOC}),
        ("/permission-sets", {"Name": "p", "Policies": ["ReadOnly"]}),
        ("/permission-sets", {"Name": "p", "Policies": [DOC] * 11}),
        ("/permission-sets", {"Name": "p", "Policies": [{"Version": "2012-10-17"}]}),
        ("/permission-sets", {"Name": "p", "Policies": [{"Version": "2001-01-01", "Statement": DOC["Statement"]}]}),
        ("/permission-sets", {"Name": "p", "Policies": [{"Version": "2012-10-17", "Statement": [
            {"Effect": "Maybe", "Action": "s3:*", "Resource": "*"}]}]}),
        ("/permission-sets", {"Name": "p", "Policies": [{"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "s3:*", "Resource": "*", "Condition": {}}]}]}),
        ("/permission-sets", {"Name": "p", "Policies": [DOC], "SessionDuration": 899}),
        ("/permission-sets", {"Name": "p", "Policies": [DOC], "SessionDuration": 43201}),
        ("/permission-sets", {"Name": "p", "Policies": [DOC], "SessionDuration": 0}),
        ("/permission-sets", {"Name": "p", "Policies": [DOC], "SessionDuration": "3600"}),
        ("/permission-sets", {"Name": "p", "Policies": [DOC], "SessionDuration": 3600.5}),
        ("/permission-sets/" + pid, {"SessionDuration": 60}),
        ("/permission-sets/" + pid, {"Policies": [{}]}),
        # assignments
        ("/assignments", {"PrincipalType": "ROLE", "PrincipalId": uid, "TargetId": tid, "PermissionSetId": pid}),
        ("/assignments", {"PrincipalType": "user", "PrincipalId": uid, "TargetId": tid, "PermissionSetId": pid}),
        ("/assignments", {"PrincipalId": uid, "TargetId": tid, "PermissionSetId": pid}),
        ("/assignments", {"PrincipalType": "USER", "TargetId": tid, "PermissionSetId": pid}),
        ("/assignments", {"PrincipalType": "USER", "PrincipalId": "x" * 200, "TargetId": tid, "PermissionSetId": pid}),
        ("/assignments", {"PrincipalType": "USER", "PrincipalId": uid, "TargetId": tid, "PermissionSetId": pid, "X": 1}),
    ]

    def check(case):
        path, body = case
        r = server.post(t.path(path), body)
        assert_error(r, 400, "BadRequestException")

    check_cases(cases, check, name=lambda c: "%s %s" % (c[0], json.dumps(c[1])[:80]))
    assert_error(server.request("POST", t.path("/targets"), data=b"{"), 400)
    assert_error(server.request("POST", t.path("/targets"), data=b"[]"), 400)
    # nothing of it was stored, and what was there is unchanged
    assert [x["Name"] for x in server.get(t.path("/targets")).json()["Targets"]] == ["ok"]
    assert server.get(t.path("/targets/" + tid)).json()["Target"] == target
    assert server.get(t.path("/permission-sets/" + pid)).json()["PermissionSet"] == pset
    assert t.assignments() == []
    # principals that are not there, of the wrong type
    gid = t.group([uid])
    for ptype, principal in (("USER", gid), ("GROUP", uid), ("USER", str(uuid.uuid4()))):
        r = server.post(t.path("/assignments"), {"PrincipalType": ptype, "PrincipalId": principal, "TargetId": tid,
                                                  "PermissionSetId": pid})
        assert_error(r, 404, "NotFoundException")
    # at the caps: accepted
    t.target("n" * 128, Kind="k" * 64, Url="https://host.example/" + "a" * (2048 - len("https://host.example/")))
    t.pset("\u00e9" * 64, SessionDuration=43200)
    t.pset("min", SessionDuration=900, Policies=[DOC] * 10)


def test_managed_policies(server):
    t = Tenant(server, "policies")
    uid = t.user()
    target, pset = t.target("t"), t.pset("p")
    tid, pid = target["TargetId"], pset["PermissionSetId"]
    a = t.assign("USER", uid, tid, pid)
    keys = {name: server.create_key([name])["Token"] for name in ("FullAccess", "UserManagement", "ReadOnly")}
    reads = [("GET", "/targets"), ("GET", "/targets/" + tid), ("GET", "/permission-sets"),
             ("GET", "/permission-sets/" + pid), ("GET", "/assignments"), ("GET", "/assignments/" + a["AssignmentId"])]
    writes = [("POST", "/targets", {"Name": "new", "Url": "https://n.example/"}),
              ("POST", "/targets/" + tid, {"Name": "renamed"}),
              ("POST", "/permission-sets", {"Name": "new", "Policies": [DOC]}),
              ("POST", "/permission-sets/" + pid, {"SessionDuration": 1800}),
              ("POST", "/assignments", {"PrincipalType": "GROUP", "PrincipalId": t.group([uid]), "TargetId": tid,
                                        "PermissionSetId": pid}),
              ("POST", "/assignments/" + a["AssignmentId"], {"PermissionSetId": pid}),
              ("DELETE", "/assignments/" + a["AssignmentId"], None),
              ("DELETE", "/targets/" + tid, None),
              ("DELETE", "/permission-sets/" + pid, None)]
    for name in ("UserManagement", "ReadOnly"):
        for method, path in reads:
            r = server.request(method, t.path(path), token=keys[name])
            assert r.status_code == 200, (name, path, r.text)
        for method, path, body in writes:
            r = server.request(method, t.path(path), token=keys[name], json_body=body)
            assert_error(r, 403, "ForbiddenException")
    # nothing changed
    assert server.get(t.path("/targets/" + tid)).json()["Target"] == target
    assert len(t.assignments()) == 1
    for method, path in reads:
        assert server.request(method, t.path(path), token=keys["FullAccess"]).status_code == 200, path
    statuses = [server.request(m, t.path(p), token=keys["FullAccess"], json_body=b).status_code for m, p, b in writes]
    assert statuses == [201, 200, 201, 200, 201, 200, 204, 204, 204], statuses
    # a document naming one action allows that one only
    only = server.create_key([{"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "tessera:ListTargets", "Resource": "arn:tessera:::account/" + t.id}]}])["Token"]
    assert server.get(t.path("/targets"), token=only).status_code == 200
    assert_error(server.get(t.path("/permission-sets"), token=only), 403)
    assert_error(server.post(t.path("/targets"), {"Name": "x", "Url": "https://x.example/"}, token=only), 403)


def test_one_audit_event_per_call(server):
    t = Tenant(server, "audited")
    uid = t.user()
    ro = server.create_key(["ReadOnly"])["Token"]
    calls = []

    def call(method, path, event, status, token="root", body=None):
        rid = "itest-" + uuid.uuid4().hex
        r = server.request(method, t.path(path), token=token, json_body=body, headers={"X-Request-Id": rid})
        assert r.status_code == status, (method, path, r.status_code, r.text)
        calls.append((rid, event, status, r))
        return r

    tid = call("POST", "/targets", "CreateTarget", 201, body={"Name": "t", "Url": "https://t.example/"}).json()["Target"]["TargetId"]
    call("POST", "/targets", "CreateTarget", 400, body={"Name": "t"})
    call("POST", "/targets", "CreateTarget", 403, token=ro, body={"Name": "t2", "Url": "https://t.example/"})
    call("GET", "/targets", "ListTargets", 200)
    call("GET", "/targets/" + tid, "GetTarget", 200, token=ro)
    call("POST", "/targets/" + tid, "UpdateTarget", 200, body={"Kind": "App"})
    pid = call("POST", "/permission-sets", "CreatePermissionSet", 201,
               body={"Name": "p", "Policies": [DOC]}).json()["PermissionSet"]["PermissionSetId"]
    call("GET", "/permission-sets", "ListPermissionSets", 200)
    call("GET", "/permission-sets/" + pid, "GetPermissionSet", 200)
    call("POST", "/permission-sets/" + pid, "UpdatePermissionSet", 200, body={"SessionDuration": 1200})
    aid = call("POST", "/assignments", "CreateAssignment", 201, body={
        "PrincipalType": "USER", "PrincipalId": uid, "TargetId": tid, "PermissionSetId": pid}).json()["Assignment"]["AssignmentId"]
    call("POST", "/assignments", "CreateAssignment", 409, body={
        "PrincipalType": "USER", "PrincipalId": uid, "TargetId": tid, "PermissionSetId": pid})
    call("GET", "/assignments", "ListAssignments", 200)
    call("GET", "/assignments/" + aid, "GetAssignment", 200)
    call("POST", "/assignments/" + aid, "UpdateAssignment", 200, body={"PermissionSetId": pid})
    call("POST", "/assignments/" + aid, "UpdateAssignment", 403, token=ro, body={"PermissionSetId": pid})
    call("DELETE", "/assignments/" + aid, "DeleteAssignment", 403, token=ro)
    call("DELETE", "/assignments/" + aid, "DeleteAssignment", 204)
    t.assign("USER", uid, tid, pid)
    call("DELETE", "/targets/" + tid, "DeleteTarget", 204)
    call("DELETE", "/targets/" + tid, "DeleteTarget", 404)
    call("DELETE", "/permission-sets/" + pid, "DeletePermissionSet", 204)
    call("GET", "/targets", "ListTargets", 401, token=None)

    by_rid = {}
    for ev in server.events():
        by_rid.setdefault(ev.get("clientRequestID"), []).append(ev)
    for rid, event, status, resp in calls:
        got = by_rid.get(rid, [])
        assert len(got) == 1, "%s (%d) has %d events" % (event, status, len(got))
        ev = got[0]
        assert ev["eventName"] == event, ev
        assert ev["eventSource"] == "admin.tessera"
        assert ev["requestParameters"]["AccountId"] == t.id
        if status >= 400:
            assert ev["errorCode"] == resp.json()["Code"], ev
        else:
            assert "errorCode" not in ev, ev
        if status in (200, 201) and event.startswith(("Create", "Update")):
            assert ev["responseElements"] == resp.json(), ev
    deleted = [ev for rid, event, status, _ in calls if event == "DeleteTarget" and status == 204 for ev in by_rid[rid]]
    assert deleted[0]["responseElements"] == {"AssignmentsDeleted": 1}
    assert run_cli("audit", "verify", "--db", server.store.db, "--master-key-file", server.store.key).returncode == 0


def test_tenant_isolation(server):
    a, b = Tenant(server, "tenant-a"), Tenant(server, "tenant-b")
    ua, ub = a.user(), b.user()
    ga, gb = a.group([ua]), b.group([ub])
    ta, tb = a.target("same-name"), b.target("same-name")  # names are per account
    pa, pb = a.pset("same-name"), b.pset("same-name")
    asb = b.assign("USER", ub, tb["TargetId"], pb["PermissionSetId"])
    # B's ids through A's path: not found, and nothing of B changes
    for path in ("/targets/" + tb["TargetId"], "/permission-sets/" + pb["PermissionSetId"],
                 "/assignments/" + asb["AssignmentId"]):
        assert_error(server.get(a.path(path)), 404, "NotFoundException")
        assert_error(server.delete(a.path(path)), 404, "NotFoundException")
    assert_error(server.post(a.path("/targets/" + tb["TargetId"]), {"Name": "stolen"}), 404)
    assert_error(server.post(a.path("/permission-sets/" + pb["PermissionSetId"]), {"Name": "stolen"}), 404)
    mixes = [("USER", ub, ta["TargetId"], pa["PermissionSetId"]),
             ("GROUP", gb, ta["TargetId"], pa["PermissionSetId"]),
             ("USER", ua, tb["TargetId"], pa["PermissionSetId"]),
             ("USER", ua, ta["TargetId"], pb["PermissionSetId"]),
             ("GROUP", ga, tb["TargetId"], pb["PermissionSetId"])]
    for ptype, principal, target, pset in mixes:
        r = server.post(a.path("/assignments"), {"PrincipalType": ptype, "PrincipalId": principal, "TargetId": target,
                                                  "PermissionSetId": pset})
        assert_error(r, 404, "NotFoundException")
    assert a.assignments() == []
    assert b.assignments() == [asb]
    assert server.get(b.path("/targets/" + tb["TargetId"])).json()["Target"] == tb
    assert [x["TargetId"] for x in server.get(a.path("/targets")).json()["Targets"]] == [ta["TargetId"]]
    # a key allowed on account A only reads nothing of B
    only_a = server.create_key([{"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "tessera:*", "Resource": "arn:tessera:::account/" + a.id}]}])["Token"]
    assert server.get(a.path("/targets"), token=only_a).status_code == 200
    assert_error(server.get(b.path("/targets"), token=only_a), 403)
    assert_error(server.get(b.path("/targets/" + tb["TargetId"]), token=only_a), 403)


def test_cascades(server):
    t = Tenant(server, "cascade")
    u1, u2 = t.user(), t.user()
    g1, g2 = t.group([u1]), t.group([u2])
    t1, t2 = t.target("t1")["TargetId"], t.target("t2")["TargetId"]
    p1, p2 = t.pset("p1")["PermissionSetId"], t.pset("p2")["PermissionSetId"]
    t.assign("USER", u1, t1, p1)
    t.assign("GROUP", g1, t1, p2)
    t.assign("USER", u2, t2, p1)
    t.assign("GROUP", g2, t2, p2)
    t.assign("USER", u1, t2, p2)
    assert len(t.assignments()) == 5
    # a target takes its assignments with it, in its transaction
    assert server.delete(t.path("/targets/" + t1)).status_code == 204
    left = t.assignments()
    assert len(left) == 3 and all(a["TargetId"] == t2 for a in left)
    # a permission set
    assert server.delete(t.path("/permission-sets/" + p1)).status_code == 204
    left = t.assignments()
    assert len(left) == 2 and all(a["PermissionSetId"] == p2 for a in left)
    # a directory group deleted by the IdP (SCIM), then a user
    assert t.scim("DELETE", "/Groups/" + g2).status_code == 204
    assert [a["PrincipalId"] for a in t.assignments()] == [u1]
    assert t.scim("DELETE", "/Users/" + u1).status_code == 204
    assert t.assignments() == []
    assert count(server, "SELECT count(*) FROM assignments") == 0
    # the account, with all of it
    t.target("t3")
    assert server.delete(t.path()).status_code == 204
    for tbl in ("targets", "permission_sets", "assignments"):
        assert count(server, "SELECT count(*) FROM %s WHERE account_id = '%s'" % (tbl, t.id)) == 0, tbl


def test_cli(server):
    t = Tenant(server, "cli")
    uid = t.user()
    gid = t.group([uid])
    db, key = server.store.db, server.store.key
    base = ("--db", db, "--master-key-file", key, "--account", t.id)
    target = cli_json("target", "create", *base, "--name", "Prod", "--kind", "AwsAccount",
                      "--url", "https://console.example.com/", "--json")["Target"]
    assert server.get(t.path("/targets/" + target["TargetId"])).json() == {"Target": target}
    policies = T.CLI_CWD + "/policies-%s.json" % uuid.uuid4().hex
    with open(policies, "w") as f:
        json.dump(DOC, f)  # one document is taken as a list of one
    pset = cli_json("permission-set", "create", *base, "--name", "Admin", "--policies-file", policies,
                    "--session-duration", "1800", "--json")["PermissionSet"]
    assert pset["Policies"] == [DOC] and pset["SessionDuration"] == 1800
    assert server.get(t.path("/permission-sets/" + pset["PermissionSetId"])).json() == {"PermissionSet": pset}
    a = cli_json("assignment", "create", *base, "--principal-type", "GROUP", "--principal-id", gid,
                 "--target", target["TargetId"], "--permission-set", pset["PermissionSetId"], "--json")["Assignment"]
    assert t.assignments() == [a]
    assert cli_json("target", "list", *base, "--json") == {"Targets": [target]}
    assert cli_json("permission-set", "list", *base, "--json") == {"PermissionSets": [pset]}
    assert cli_json("assignment", "list", *base, "--json") == {"Assignments": [a]}
    # the API's checks, and another account's ids
    other = Tenant(server, "cli-other")
    bad = [
        ("target", "create", *base, "--name", "x", "--url", "ftp://x/"),
        ("target", "create", *base, "--name", "Prod", "--url", "https://x.example/"),
        ("target", "create", *base, "--name", "x", "--url", "https://x.example/", "--policies-file", policies),
        ("permission-set", "create", *base, "--name", "p", "--policies-file", policies, "--session-duration", "60"),
        ("permission-set", "create", *base, "--name", "p", "--policies-file", "/nonexistent/p.json"),
        ("assignment", "create", *base, "--principal-type", "USER", "--principal-id", uid, "--target",
         other.target("o")["TargetId"], "--permission-set", pset["PermissionSetId"]),
        ("assignment", "create", "--db", db, "--master-key-file", key, "--account", other.id, "--principal-type",
         "USER", "--principal-id", uid, "--target", target["TargetId"], "--permission-set", pset["PermissionSetId"]),
        ("target", "delete", "--db", db, "--master-key-file", key, "--account", other.id, "--id", target["TargetId"]),
        ("target", "list", "--db", db, "--master-key-file", key, "--account", str(uuid.uuid4())),
    ]
    for args in bad:
        p = run_cli(*args)
        assert p.returncode != 0, (args, p.stdout)
        assert p.stderr.startswith("tessera: "), p.stderr
    # delete takes the assignments; the events are the API's names, as the local operator
    p = run_cli("target", "delete", *base, "--id", target["TargetId"])
    assert p.returncode == 0, p.stderr
    assert t.assignments() == []
    assert run_cli("permission-set", "delete", *base, "--id", pset["PermissionSetId"]).returncode == 0
    assert cli_json("permission-set", "list", *base, "--json") == {"PermissionSets": []}
    events = [e for e in server.events() if e["eventSource"] != "admin.tessera" and e.get("eventName") in (
        "CreateTarget", "CreatePermissionSet", "CreateAssignment", "DeleteTarget", "DeletePermissionSet")]
    names = sorted(e["eventName"] for e in events)
    assert names == ["CreateAssignment", "CreatePermissionSet", "CreateTarget", "DeletePermissionSet",
                     "DeleteTarget"], names
    assert all(e["userIdentity"]["type"] == "LocalOperator" for e in events)
    deleted = [e for e in events if e["eventName"] == "DeleteTarget"][0]
    assert deleted["responseElements"] == {"AssignmentsDeleted": 1}
    assert run_cli("audit", "verify", "--db", db, "--master-key-file", key).returncode == 0
