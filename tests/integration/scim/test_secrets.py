"""
A SCIM password is accepted and dropped, in every spelling.

Each case sends a password made of a fresh marker, checks the write
succeeded (Okta sends a password with every user: it is not refused), and
then looks for the marker everywhere it could have gone: the answer, GET,
the filtered list, POST /.search, the store's own bytes (the SQLite file and
its WAL, or a pg_dump of the PostgreSQL database), the audit trail
(LookupEvents) and the server's log. The audit event of the call must carry
the redaction marker instead. URN-qualified core names
("urn:...:core:2.0:User:userName") are the plain attribute (RFC 7644 §3.10).
"""
import glob
import json
import os
import subprocess
import uuid

from scimtest import ENT, GROUP, USER, assert_error

REDACTED = "[redacted]"


def marker():
    return "pw-" + uuid.uuid4().hex


def store_text(server):
    """Everything the store holds, as text."""
    if server.backend == "sqlite":
        out = b""
        for suffix in ("", "-wal", "-journal"):
            if os.path.exists(server.db + suffix):
                with open(server.db + suffix, "rb") as f:
                    out += f.read()
        return out.decode("latin-1")
    pg_dump = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_dump"))[-1]
    p = subprocess.run([pg_dump, "--data-only", server.db], capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    return p.stdout


def audit_text(server, event):
    r = server.admin("GET", "/audit-events?eventName=%s&max-results=1000" % event)
    assert r.status_code == 200, r.text
    return json.dumps(r.json())


def log_text(server):
    return server.log_text()


def assert_nowhere(scim, server, marks, event, user_id=None):
    """No mark in GET, list, .search, store, audit (event) or log; the audit has the redaction."""
    seen = {}
    if user_id:
        r = scim.get("/Users/" + user_id)
        assert r.status_code == 200, r.text
        seen["GET"] = r.text
        name = r.json()["userName"]
        seen["list"] = scim.filter("Users", 'userName eq "%s"' % name).text
        seen["list all"] = scim.get("/Users", params={"count": "1000"}).text
        seen[".search"] = scim.post("/.search", {"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
                                                 "filter": 'userName eq "%s"' % name}).text
        seen["attributes=password"] = scim.get("/Users/" + user_id, params={"attributes": "password"}).text
    seen["store"] = store_text(server)
    seen["audit"] = audit_text(server, event)
    seen["log"] = log_text(server)
    for where, text in seen.items():
        for m in marks:
            assert m not in text, "the password %s is in the %s (%s)" % (m, where, server.backend)
    assert REDACTED in seen["audit"], "the %s events carry no redaction marker" % event


def user_body(**extra):
    name = "s-%s@example.com" % uuid.uuid4().hex[:10]
    body = {"schemas": [USER], "userName": name, "name": {"givenName": "G", "familyName": "F"},
            "displayName": "D", "emails": [{"primary": True, "value": name, "type": "work"}], "active": True}
    body.update(extra)
    return body


def spellings(m):
    """The members of a body that each carry password m."""
    return [
        {"password": m},
        {"PASSWORD": m},
        {"PassWord": m},
        {USER + ":password": m},
        {USER.upper() + ":PASSWORD": m},
        {USER: {"password": m}},
        {USER.lower(): {"Password": m, "title": "t"}},
        {ENT: {"password": m, "employeeNumber": "1"}},
    ]


def test_password_post_and_put_are_accepted_and_never_kept(scim, server):
    marks = []
    ids = []
    for extra in spellings("MARK"):
        m = marker()
        marks.append(m)
        body = user_body(**json.loads(json.dumps(extra).replace("MARK", m)))
        r = scim.post("/Users", body)
        assert r.status_code == 201, (extra, r.text)
        assert m not in r.text, (extra, r.text)
        uid = r.json()["id"]
        ids.append(uid)
        m2 = marker()
        marks.append(m2)
        put = user_body(**json.loads(json.dumps(extra).replace("MARK", m2)))
        put["userName"] = r.json()["userName"]
        r = scim.put("/Users/" + uid, put)
        assert r.status_code == 200, (extra, r.text)
        assert m2 not in r.text, (extra, r.text)
    for uid in ids:
        r = scim.get("/Users/" + uid)
        for m in marks:
            assert m not in r.text
    assert_nowhere(scim, server, marks, "CreateUser", ids[0])
    assert_nowhere(scim, server, marks, "PutUser", ids[-1])


def test_password_patch_in_every_spelling_is_accepted_and_never_kept(scim, server):
    u = scim.user()
    uid = u["id"]
    ops = [
        {"op": "replace", "path": "password", "value": "MARK"},
        {"op": "add", "path": "PASSWORD", "value": "MARK"},
        {"op": "Replace", "Path": "password", "Value": "MARK"},
        {"op": "replace", "path": USER + ":password", "value": "MARK"},
        {"op": "replace", "path": USER.upper() + ":Password", "value": "MARK"},
        {"op": "replace", "value": {"password": "MARK"}},
        {"op": "replace", "value": {"Password": "MARK", "title": "t"}},
        {"op": "replace", "value": {USER + ":password": "MARK"}},
        {"op": "add", "value": {USER: {"password": "MARK"}}},
        {"op": "replace", "value": {ENT: {"password": "MARK"}}},
    ]
    marks = []
    for op in ops:
        m = marker()
        marks.append(m)
        r = scim.patch("/Users/" + uid, [json.loads(json.dumps(op).replace("MARK", m))])
        assert r.status_code in (200, 204), (op, r.text)
        assert m not in r.text, (op, r.text)
    # several in one request, beside a real change
    m = marker()
    marks.append(m)
    r = scim.patch("/Users/" + uid, [{"op": "replace", "path": "title", "value": "boss"},
                                     {"op": "replace", "path": "password", "value": m}])
    assert r.status_code == 200 and r.json()["title"] == "boss", r.text
    # a refused PATCH is audited too: its password must not be
    m = marker()
    marks.append(m)
    r = scim.patch("/Users/" + uid, [{"op": "replace", "path": "password", "value": m},
                                     {"op": "bogus", "path": "title", "value": "x"}])
    assert r.status_code == 400, r.text
    assert_nowhere(scim, server, marks, "PatchUser", uid)


def test_password_in_a_refused_post_is_not_audited(scim, server):
    m, q = marker(), marker()
    r = scim.post("/Users", {"schemas": [USER], "password": m, USER + ":password": m},  # no userName
                  params={"access_token": q})
    assert_error(r, 400)
    assert m not in r.text
    assert_nowhere(scim, server, [m, q], "CreateUser")


def test_urn_qualified_core_names_are_the_plain_attribute(scim):
    name = "urn-%s@example.com" % uuid.uuid4().hex[:10]
    r = scim.post("/Users", {"schemas": [USER], USER + ":userName": name,
                             USER.upper() + ":displayName": "Qualified",
                             USER + ":name.givenName": "Given", USER + ":active": "False"})
    assert r.status_code == 201, r.text
    u = r.json()
    assert u["userName"] == name and u["displayName"] == "Qualified", u
    assert u["name"]["givenName"] == "Given" and u["active"] is False, u
    assert not any(k.lower().startswith("urn:ietf:params:scim:schemas:core") for k in u), u
    # the URN-keyed core object
    name2 = "urn2-%s@example.com" % uuid.uuid4().hex[:10]
    r = scim.post("/Users", {"schemas": [USER], USER: {"userName": name2, "title": "T"}})
    assert r.status_code == 201, r.text
    assert r.json()["userName"] == name2 and r.json()["title"] == "T", r.text
    assert scim.filter("Users", 'userName eq "%s"' % name2).json()["totalResults"] == 1
    # one attribute in two spellings is refused, not half kept
    r = scim.post("/Users", {"schemas": [USER], "userName": "a-" + name, USER + ":userName": "b-" + name})
    assert_error(r, 400, "invalidValue")
    # PATCH value keys and the URN-keyed core object
    r = scim.patch("/Users/" + u["id"], [{"op": "replace", "value": {USER: {"displayName": "Patched"}}}])
    assert r.status_code == 200 and r.json()["displayName"] == "Patched", r.text
    r = scim.patch("/Users/" + u["id"], [{"op": "replace", "path": USER + ":displayName", "value": "P2"}])
    assert r.status_code == 200 and r.json()["displayName"] == "P2", r.text
    # groups too
    r = scim.post("/Groups", {"schemas": [GROUP], GROUP + ":displayName": "qualified-" + uuid.uuid4().hex[:8]})
    assert r.status_code == 201, r.text
    assert r.json()["displayName"].startswith("qualified-"), r.text
