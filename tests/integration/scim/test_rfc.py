"""Checklist group 4: RFC 7643 / 7644 server MUSTs (items 68-94)."""
import json
import os
import secrets
import sqlite3
import time
import uuid

import pytest

from scimtest import ENT, GROUP, LIST, PATCHOP, USER, Scim, Server, assert_error

SEARCH = "urn:ietf:params:scim:api:messages:2.0:SearchRequest"


def ids(r):
    assert r.status_code == 200, r.text
    return [x["id"] for x in r.json()["Resources"]]


def test_item_68_operators_and_precedence(scim):
    a = scim.user(title="boss", nickName="a")
    b = scim.user(nickName="b")
    c = scim.user(title="x")
    assert ids(scim.filter("Users", 'title pr or nickName eq "b" and not (title pr)')) == [a["id"], b["id"], c["id"]]
    assert ids(scim.filter("Users", '(title pr or nickName eq "b") and nickName pr')) == [a["id"], b["id"]]
    assert ids(scim.filter("Users", 'title sw "bo"')) == [a["id"]]
    assert ids(scim.filter("Users", 'title ew "ss"')) == [a["id"]]
    assert ids(scim.filter("Users", 'title co "os"')) == [a["id"]]
    assert ids(scim.filter("Users", 'title ne "boss"')) == [c["id"]]
    assert ids(scim.filter("Users", 'title gt "c"')) == [c["id"]]


def test_item_69_names_and_ops_case_insensitive(scim):
    u = scim.user()
    assert ids(scim.filter("Users", 'Username EQ "%s"' % u["userName"])) == [u["id"]]


def test_item_70_case_exact_rules(scim):
    u = scim.user(externalId="AbC")
    assert ids(scim.filter("Users", 'externalId eq "abc"')) == []
    assert ids(scim.filter("Users", 'id eq "%s"' % u["id"].upper())) == []
    assert ids(scim.filter("Users", 'userName eq "%s"' % u["userName"].upper())) == [u["id"]]
    g = scim.group("CaseGroup")
    assert ids(scim.filter("Groups", 'displayName eq "casegroup"')) == [g["id"]]


def test_item_71_value_paths(scim):
    a = scim.user(emails=[{"type": "work", "value": "a@example.com"}, {"type": "home", "value": "a@other.org"}])
    b = scim.user(emails=[{"type": "home", "value": "b@example.com"}, {"type": "work", "value": "b@other.org"}])
    assert ids(scim.filter("Users", 'emails[type eq "work" and value co "@example.com"]')) == [a["id"]]
    assert ids(scim.filter("Users", 'emails.value eq "b@other.org"')) == [b["id"]]


def test_item_72_extension_presence_dates(scim):
    a = scim.user(title="t", **{ENT: {"employeeNumber": "7"}, "schemas": [USER, ENT]})
    b = scim.user()
    assert ids(scim.filter("Users", ENT + ':employeeNumber eq "7"')) == [a["id"]]
    assert ids(scim.filter("Users", "title pr")) == [a["id"]]
    assert ids(scim.filter("Users", "not (title pr)")) == [b["id"]]
    assert ids(scim.filter("Users", 'meta.lastModified gt "2011-05-13T04:42:34Z"')) == [a["id"], b["id"]]
    assert ids(scim.filter("Users", 'meta.lastModified gt "2011-05-13T04:42:34+00:00" and meta.lastModified lt "2999-01-01T00:00:00Z"')) == [a["id"], b["id"]]
    assert ids(scim.filter("Users", 'meta.lastModified lt "2011-05-13T04:42:34Z"')) == []
    b2 = scim.get("/Users/" + b["id"]).json()
    assert b["id"] in ids(scim.filter("Users", 'meta.lastModified ge "%s"' % b2["meta"]["lastModified"]))


def test_item_73_invalid_filters(scim):
    scim.user()
    for bad in ('userName eq', 'foo eq "x"', "active gt true", 'userName eq "x" and', "(userName pr", 'password eq "x"'):
        assert_error(scim.filter("Users", bad), 400, "invalidFilter")


def test_item_74_too_many(scim):
    # under the scan cap (TS__SCIM_SCAN_MAX = 20000) an unindexed filter is evaluated;
    # past it the answer is tooMany: test_item_74_too_many_past_the_scan_cap
    scim.user(title="x")
    assert len(ids(scim.filter("Users", "title pr"))) == 1


SCAN_MAX = 20000  # TS__SCIM_SCAN_MAX in src/scim/internal.h


@pytest.fixture(scope="module")
def sqlite_server(tmp_path_factory):
    work = str(tmp_path_factory.mktemp("scim-toomany"))
    srv = Server(os.path.join(work, "store.db"), work)
    srv.backend = "sqlite"
    yield srv
    srv.stop()


def uuid7(ms):
    """A time-ordered id as POST /Users assigns (ts_uuid_v7): 48-bit ms, version 7, variant 10."""
    r = secrets.randbits(74)
    return str(uuid.UUID(int=(ms & (1 << 48) - 1) << 80 | 7 << 76 | (r >> 62) << 64 | 2 << 62 | (r & (1 << 62) - 1)))


def user_body(name, i):
    return {"schemas": [USER], "userName": name, "name": {"givenName": "User", "familyName": "%07d" % i},
            "emails": [{"value": name, "type": "work", "primary": True}]}


def user_rows(account, name, i, ms):
    """The users and user_emails rows POST /Users writes for user_body(name, i) (src/store/users.c)."""
    uid = uuid7(ms)
    resource = json.dumps(user_body(name, i), separators=(",", ":"))
    user = (uid, account, name, name.lower(), None, None, 1, resource, 1, ms, ms)
    email = (uid, account, name, name.lower(), "work", 1)
    return user, email


USER_COLS = ("user_id, account_id, user_name, user_name_key, external_id, display_name, active, resource, "
             "version, created_ms, modified_ms")
EMAIL_COLS = "user_id, account_id, value, value_key, type, is_primary"
OTHER_COLS = "suspended, registration_status, license, personal_pin, invited_ms, joined_ms"


def test_item_74_too_many_past_the_scan_cap(sqlite_server):
    """
    Item 74 (RFC 7644 §3.4.2): a filter that would evaluate more than TS__SCIM_SCAN_MAX
    rows answers 400 tooMany (src/scim/search.c: an unindexed filter when the account
    holds more users than the cap; an indexed one when its candidates exceed it), and
    exactly the cap is still evaluated.

    The users are written straight into the SQLite file, in one transaction, with the
    rows POST /Users writes (the first user is POSTed and its rows compared with ours).
    SQLite only: on PostgreSQL the same rows would need another insertion path (COPY
    through psql), and the rule under test is in src/scim, not in the store.
    """
    srv = sqlite_server
    acct, key = srv.new_account()
    scim = Scim(srv, acct, key)
    name = "tm-%07d@example.com"
    r = scim.post("/Users", user_body(name % 0, 0))
    assert r.status_code == 201, r.text
    first = r.json()["id"]
    con = sqlite3.connect(srv.db, timeout=30)
    try:
        got_user = con.execute("SELECT %s FROM users WHERE user_id = ?" % USER_COLS, (first,)).fetchone()
        got_email = con.execute("SELECT %s FROM user_emails WHERE user_id = ?" % EMAIL_COLS, (first,)).fetchall()
        got_other = con.execute("SELECT %s FROM users WHERE user_id = ?" % OTHER_COLS, (first,)).fetchone()
        ms = got_user[9]
        want_user, want_email = user_rows(acct, name % 0, 0, ms)
        same_id = (first,)
        assert got_user == same_id + want_user[1:], (got_user, want_user)
        assert got_email == [same_id + want_email[1:]], (got_email, want_email)
        # provisioned, never signed in: Unregistered, no PIN, no RegisteredOn (SPEC §4)
        assert got_other == (0, "Unregistered", None, None, None, None), got_other

        def insert(lo, hi):
            rows = [user_rows(acct, name % i, i, ms + i) for i in range(lo, hi)]
            with con:  # one transaction
                con.executemany("INSERT INTO users (%s) VALUES (%s)" % (USER_COLS, ",".join("?" * 11)),
                                [u for u, _ in rows])
                con.executemany("INSERT INTO user_emails (%s) VALUES (%s)" % (EMAIL_COLS, ",".join("?" * 6)),
                                [e for _, e in rows])

        insert(1, SCAN_MAX)
    finally:
        con.close()

    unindexed = "title pr"
    indexed_range = 'meta.lastModified gt "2000-01-01T00:00:00Z"'
    # exactly the cap: both are evaluated
    r = scim.filter("Users", unindexed)
    assert r.status_code == 200 and r.json()["totalResults"] == 0, r.text
    r = scim.filter("Users", indexed_range, count=2)
    assert r.status_code == 200 and r.json()["totalResults"] == SCAN_MAX, r.text
    assert [x["userName"] for x in r.json()["Resources"]] == [name % 0, name % 1]

    con = sqlite3.connect(srv.db, timeout=30)
    try:
        insert(SCAN_MAX, SCAN_MAX + 1)
    finally:
        con.close()
    # one past the cap: tooMany, for GET and POST /.search alike, whatever would match
    for f in (unindexed, indexed_range, 'title pr or userName eq "%s"' % (name % 3), 'not (userName eq "x")'):
        body = assert_error(scim.filter("Users", f), 400, "tooMany")
        assert str(SCAN_MAX) in body["detail"], body
        assert_error(scim.post("/Users/.search", {"schemas": [SEARCH], "filter": f}), 400, "tooMany")
    # narrow filters through the indexes, and plain listing, still answer
    assert ids(scim.filter("Users", 'userName eq "%s"' % (name % 5))) != []
    assert len(ids(scim.filter("Users", 'emails.value eq "%s" or userName eq "%s"' % (name % 6, name % 7)))) == 2
    r = scim.get("/Users", params={"count": 1, "startIndex": SCAN_MAX + 1})
    assert r.status_code == 200 and r.json()["totalResults"] == SCAN_MAX + 1, r.text
    assert [x["userName"] for x in r.json()["Resources"]] == [name % SCAN_MAX]
    # other accounts are not affected by this one's size
    other = Scim(srv, *srv.new_account())
    other.user(title="t")
    assert len(ids(other.filter("Users", unindexed))) == 1


def test_item_75_paging_edges(scim):
    us = [scim.user()["id"] for _ in range(3)]
    r = scim.get("/Users", params={"startIndex": 0, "count": 2}).json()
    assert r["startIndex"] == 1 and [x["id"] for x in r["Resources"]] == us[:2]
    r = scim.get("/Users", params={"count": -5}).json()
    assert r["itemsPerPage"] == 0 and r["totalResults"] == 3
    r = scim.get("/Users", params={"count": 0}).json()
    assert r["Resources"] == [] and r["totalResults"] == 3
    r = scim.get("/Users", params={"count": 5000}).json()
    assert r["itemsPerPage"] == 3


def test_item_76_attributes(scim):
    u = scim.user(title="T")
    r = scim.get("/Users/" + u["id"], params={"attributes": "userName"}).json()
    assert set(r) == {"id", "userName", "schemas"}
    r = scim.get("/Users/" + u["id"], params={"excludedAttributes": "id,title,name.givenName"}).json()
    assert r["id"] == u["id"] and "title" not in r and "givenName" not in r["name"] and "familyName" in r["name"]
    r = scim.get("/Users", params={"attributes": "emails.value"}).json()["Resources"][0]
    assert r["emails"] == [{"value": u["userName"]}]
    # several sub-attributes of one attribute fill the same values, in any order
    for attrs in ("emails.value,emails.type", "emails.type,emails.value", "emails,emails.value"):
        r = scim.get("/Users/" + u["id"], params={"attributes": attrs}).json()
        assert [{k: e[k] for k in ("value", "type")} for e in r["emails"]] == [{"value": u["userName"], "type": "work"}], (attrs, r)
    r = scim.post("/Users", {"schemas": [USER], "userName": "a76@x.com", "title": "x"}, params={"attributes": "title"})
    assert r.status_code == 201 and set(r.json()) == {"id", "schemas", "title"}
    r = scim.patch("/Users/" + u["id"], [{"op": "replace", "path": "title", "value": "Z"}], params={"excludedAttributes": "emails"})
    assert "emails" not in r.json() and r.json()["title"] == "Z"


def test_item_77_search(scim):
    u = scim.user()
    r = scim.post("/Users/.search", {"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
                                     "filter": 'userName eq "%s"' % u["userName"], "attributes": ["userName"],
                                     "startIndex": 1, "count": 10})
    assert r.status_code == 200 and r.json()["schemas"] == [LIST]
    assert r.json()["Resources"] == [{"id": u["id"], "userName": u["userName"], "schemas": [USER]}]
    g = scim.group()
    assert ids(scim.post("/Groups/.search", {"filter": 'displayName eq "%s"' % g["displayName"]})) == [g["id"]]


def test_item_78_post_location_meta(scim):
    r = scim.post("/Users", {"schemas": [USER], "userName": "m78@x.com", "id": "mine"})
    assert r.status_code == 201
    u = r.json()
    assert r.headers["Location"] == u["meta"]["location"] and u["meta"]["location"].endswith("/Users/" + u["id"])
    for k in ("created", "lastModified", "resourceType", "version"):
        assert u["meta"][k]
    assert u["id"] != "mine"


def test_item_79_invalid_value_syntax(scim):
    assert_error(scim.post("/Users", {"schemas": [USER]}), 400, "invalidValue")
    assert_error(scim.post("/Users", {"schemas": [USER], "userName": 5}), 400, "invalidValue")
    assert_error(scim.post("/Users", {"schemas": [USER], "userName": "x@y", "active": "maybe"}), 400, "invalidValue")
    assert_error(scim.post("/Users", raw='{"userName": '), 400, "invalidSyntax")
    # a userName or group displayName of nothing but blanks is no name
    assert_error(scim.post("/Users", {"schemas": [USER], "userName": " \t "}), 400, "invalidValue")
    assert_error(scim.post("/Groups", {"schemas": [GROUP], "displayName": "   "}), 400, "invalidValue")
    # attribute names are case-insensitive: one named twice is refused, not half checked
    body = {"schemas": [USER], "userName": "twice79@example.com", "displayName": "A", "DISPLAYNAME": 5}
    assert "given twice" in assert_error(scim.post("/Users", body), 400, "invalidValue")["detail"]
    body = {"schemas": [USER], "userName": "twice79@example.com", "name": {"givenName": "A", "GivenName": "B"}}
    assert_error(scim.post("/Users", body), 400, "invalidValue")
    assert_error(scim.post("/Groups", {"schemas": [GROUP], "displayName": "g79", "DisplayName": "h79"}), 400,
                 "invalidValue")
    assert scim.filter("Users", 'userName eq "twice79@example.com"').json()["totalResults"] == 0
    u = scim.user()
    r = scim.put("/Users/" + u["id"], {"schemas": [USER], "userName": u["userName"], "active": True, "ACTIVE": False})
    assert_error(r, 400, "invalidValue")


def test_item_80_case_insensitive_uniqueness(scim):
    scim.user("alice80@example.com")
    assert_error(scim.post("/Users", {"schemas": [USER], "userName": "ALICE80@example.com"}), 409, "uniqueness")


def test_item_81_put_rules(scim):
    assert_error(scim.put("/Users/" + str(uuid.uuid4()), {"schemas": [USER], "userName": "p81@x.com"}), 404)
    assert scim.filter("Users", 'userName eq "p81@x.com"').json()["totalResults"] == 0
    u = scim.user()
    assert_error(scim.put("/Users/" + u["id"], dict(u, id=str(uuid.uuid4()))), 400, "mutability")
    r = scim.put("/Users/" + u["id"], dict(u, meta={"created": "1999-01-01T00:00:00Z"}, title="t"))
    assert r.status_code == 200 and r.json()["meta"]["created"] == u["meta"]["created"]


def test_item_82_patch_atomic(scim):
    u = scim.user()
    r = scim.patch("/Users/" + u["id"], [{"op": "replace", "path": "displayName", "value": "Changed"},
                                         {"op": "remove", "path": "userName"}])
    assert_error(r, 400, "mutability")
    assert scim.get("/Users/" + u["id"]).json()["displayName"] == u["displayName"]
    v = scim.user()
    g = scim.group(members=[v["id"]])
    r = scim.patch("/Groups/" + g["id"], [{"op": "remove", "path": "members"},
                                          {"op": "add", "path": "members", "value": [{"value": str(uuid.uuid4())}]}])
    assert_error(r, 400, "invalidValue")
    assert scim.members(g["id"]) == [v["id"]]


def test_item_83_add_semantics(scim):
    u = scim.user()
    r = scim.patch("/Users/" + u["id"], [{"op": "add", "value": {"title": "T", "name": {"middleName": "M"}}}]).json()
    assert r["title"] == "T" and r["name"]["middleName"] == "M" and r["name"]["givenName"] == "Given"
    r = scim.patch("/Users/" + u["id"], [{"op": "add", "path": "phoneNumbers", "value": [{"value": "1", "type": "work"}]}])
    r = scim.patch("/Users/" + u["id"], [{"op": "add", "path": "phoneNumbers", "value": [{"value": "2", "type": "home"}]}]).json()
    assert [p["value"] for p in r["phoneNumbers"]] == ["1", "2"]
    r = scim.patch("/Users/" + u["id"], [{"op": "add", "path": "phoneNumbers", "value": [{"value": "2", "type": "home"}]}])
    assert r.status_code == 200 and len(r.json()["phoneNumbers"]) == 2
    g = scim.group(members=[u["id"]])
    assert scim.patch("/Groups/" + g["id"], [{"op": "add", "path": "members", "value": [{"value": u["id"]}]}]).status_code == 204
    assert scim.members(g["id"]) == [u["id"]]


def test_item_84_remove_semantics(scim):
    u = scim.user(emails=[{"type": "work", "value": "w@x.com"}, {"type": "home", "value": "h@x.com"}])
    assert_error(scim.patch("/Users/" + u["id"], [{"op": "remove"}]), 400, "noTarget")
    r = scim.patch("/Users/" + u["id"], [{"op": "remove", "path": 'emails[type eq "work"]'}]).json()
    assert [e["value"] for e in r["emails"]] == ["h@x.com"]
    assert_error(scim.patch("/Users/" + u["id"], [{"op": "remove", "path": "userName"}]), 400, "mutability")
    v, w = scim.user(), scim.user()
    g = scim.group(members=[v["id"], w["id"]])
    assert scim.patch("/Groups/" + g["id"], [{"op": "remove", "path": "members"}]).status_code == 204
    assert scim.members(g["id"]) == []


def test_item_85_replace_semantics(strict, scim):
    # RFC: no match on replace -> noTarget (aws-strict; permissive creates it for Entra, item 31)
    b = {"schemas": [USER], "userName": "r85@x.com", "displayName": "D", "name": {"givenName": "G", "familyName": "F"},
         "emails": [{"value": "r85@x.com", "type": "work", "primary": True}]}
    u = strict.post("/Users", b).json()
    assert_error(strict.patch("/Users/" + u["id"], [{"op": "replace", "path": 'emails[type eq "home"].value', "value": "n"}]), 400, "noTarget")
    v = scim.user()
    r = scim.patch("/Users/" + v["id"], [{"op": "replace", "path": "nickName", "value": "N"}])
    assert r.json()["nickName"] == "N"


def test_item_86_invalid_path_and_primary(scim):
    u = scim.user(emails=[{"type": "work", "value": "w@x.com", "primary": True}, {"type": "home", "value": "h@x.com"}])
    assert_error(scim.patch("/Users/" + u["id"], [{"op": "replace", "path": "emails[type eq", "value": "x"}]), 400)
    assert_error(scim.patch("/Users/" + u["id"], [{"op": "replace", "path": "a..b", "value": "x"}]), 400, "invalidPath")
    r = scim.patch("/Users/" + u["id"], [{"op": "replace", "path": 'emails[type eq "home"].primary', "value": True}]).json()
    prim = {e["type"]: e.get("primary") for e in r["emails"]}
    assert prim == {"work": False, "home": True}


def test_item_87_patch_success_shapes(scim):
    u = scim.user()
    r = scim.patch("/Users/" + u["id"], [{"op": "replace", "path": "title", "value": "A"}], params={"attributes": "title"})
    assert r.status_code == 200 and set(r.json()) == {"id", "schemas", "title"}


def test_item_88_delete_then_404(scim):
    u = scim.user()
    g = scim.group(members=[u["id"]])
    assert scim.delete("/Users/" + u["id"]).status_code == 204
    assert_error(scim.get("/Users/" + u["id"]), 404)
    assert_error(scim.put("/Users/" + u["id"], {"schemas": [USER], "userName": "x@y"}), 404)
    assert_error(scim.patch("/Users/" + u["id"], [{"op": "replace", "path": "title", "value": "x"}]), 404)
    assert_error(scim.delete("/Users/" + u["id"]), 404)
    assert scim.members(g["id"]) == []  # memberships went with the user


def test_item_89_error_types(scim):
    assert_error(scim.filter("Users", "bad filter"), 400, "invalidFilter")
    assert_error(scim.post("/Users", raw="nope"), 400, "invalidSyntax")
    u = scim.user()
    assert_error(scim.post("/Users", {"schemas": [USER], "userName": u["userName"]}), 409, "uniqueness")
    assert_error(scim.patch("/Users/" + u["id"], [{"op": "replace", "path": "id", "value": "x"}]), 400, "mutability")
    assert_error(scim.get("/Users", token="TSSKAAAAAAAAAAAAAAAA." + "a" * 40), 401)
    assert_error(scim.get("/Users/x"), 404)
    assert_error(scim.post("/Bulk", {}), 501)
    assert_error(scim.get("/Schemas", params={"filter": 'id eq "x"'}), 403)


def test_item_90_etags(scim):
    u = scim.user()
    r = scim.get("/Users/" + u["id"])
    etag = r.headers["ETag"]
    assert etag == r.json()["meta"]["version"] and etag.startswith('W/"')
    assert scim.get("/Users/" + u["id"], headers={"If-None-Match": etag}).status_code == 304
    p = [{"op": "replace", "path": "title", "value": "x"}]
    assert_error(scim.patch("/Users/" + u["id"], p, headers={"If-Match": 'W/"999"'}), 412)
    r = scim.patch("/Users/" + u["id"], p, headers={"If-Match": etag})
    assert r.status_code == 200 and r.headers["ETag"] != etag
    assert_error(scim.put("/Users/" + u["id"], u, headers={"If-Match": etag}), 412)
    assert_error(scim.delete("/Users/" + u["id"], headers={"If-Match": etag}), 412)
    assert scim.delete("/Users/" + u["id"], headers={"If-Match": r.headers["ETag"]}).status_code == 204


def test_item_91_service_provider_config(scim):
    c = scim.get("/ServiceProviderConfig").json()
    assert c["patch"]["supported"] is True and c["bulk"]["supported"] is False
    assert "maxOperations" in c["bulk"] and "maxPayloadSize" in c["bulk"] and c["filter"]["maxResults"] == 1000
    assert c["changePassword"]["supported"] is False and c["sort"]["supported"] is False and c["etag"]["supported"] is True
    assert c["authenticationSchemes"][0]["type"] == "oauthbearertoken"
    assert_error(scim.get("/ServiceProviderConfig", params={"filter": "x pr"}), 403)


def test_item_92_resource_types_schemas(scim):
    rt = scim.get("/ResourceTypes").json()["Resources"]
    user = [r for r in rt if r["id"] == "User"][0]
    assert user["endpoint"] == "/Users" and user["schemaExtensions"] == [{"schema": ENT, "required": False}]
    assert [r for r in rt if r["id"] == "Group"][0]["endpoint"] == "/Groups"
    for urn in (USER, GROUP, ENT):
        r = scim.get("/Schemas/" + urn)
        assert r.status_code == 200 and r.json()["id"] == urn
    assert_error(scim.get("/Schemas/urn:nope"), 404)


def test_item_93_bulk_disabled(scim):
    assert_error(scim.post("/Bulk", {"schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"], "Operations": []}), 501)


def test_item_94_media_types(scim):
    for ct in ("application/json", "application/scim+json", "application/scim+json; charset=utf-8"):
        r = scim.req("POST", "/Users", {"schemas": [USER], "userName": "mt-%s@x.com" % uuid.uuid4().hex[:6]},
                     headers={"Content-Type": ct})
        assert r.status_code == 201 and r.headers["Content-Type"] == "application/scim+json"
    assert scim.req("POST", "/Users", raw="userName=x", headers={"Content-Type": "text/plain"}).status_code == 415
