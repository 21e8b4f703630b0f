"""API keys (CreateApiKey / ListApiKeys / DeleteApiKey, `tessera apikey`) and tenancy."""
import json
import subprocess
import uuid

from scimtest import BIN, USER, Scim, assert_error, run


def test_apikey_admin_lifecycle(server):
    acct, key = server.new_account()
    assert key["Token"].startswith(key["ApiKeyId"] + ".")
    listed = server.admin("GET", "/accounts/%s/api-keys" % acct).json()["ApiKeys"]
    assert [k["ApiKeyId"] for k in listed] == [key["ApiKeyId"]] and "Token" not in listed[0]
    c = Scim(server, acct, key)
    assert c.get("/Users").status_code == 200
    assert server.admin("DELETE", "/accounts/%s/api-keys/%s" % (acct, key["ApiKeyId"])).status_code == 204
    assert_error(c.get("/Users"), 401)  # a deleted key fails at once
    assert server.admin("GET", "/accounts/%s/api-keys" % acct).json()["ApiKeys"] == []


def _in_parallel(fn, n=8):
    """fn(i) on n threads at once (so that every worker of the server sees the key)."""
    from concurrent.futures import ThreadPoolExecutor
    with ThreadPoolExecutor(n) as pool:
        return list(pool.map(fn, range(n)))


def _statuses(server, acct, key, writes=4):
    """Status codes of GETs and POSTs with key, from 8 clients at once."""
    def one(i):
        c = Scim(server, acct, key)
        out = []
        for j in range(writes):
            out.append(c.get("/Users", params={"count": "1"}).status_code)
            body = {"schemas": [USER], "userName": "k%d-%d-%s@example.com" % (i, j, uuid.uuid4().hex[:8])}
            out.append(c.post("/Users", body).status_code)
        return out
    return [code for codes in _in_parallel(one) for code in codes]


def test_apikey_checked_keys_are_not_trusted_after_a_change(server):
    """Workers remember keys they checked; deleting a key (admin API or CLI, another process),
    or changing its account, must still take effect on the very next request of every worker."""
    acct, k1 = server.new_account()
    r = server.admin("POST", "/accounts/%s/api-keys" % acct, {"Description": "second"})
    k2 = r.json()["ApiKey"]
    r = server.admin("POST", "/accounts/%s/api-keys" % acct, {"Description": "third"})
    k3 = r.json()["ApiKey"]
    c3 = Scim(server, acct, k3)
    for key in (k1, k2):
        assert set(_statuses(server, acct, key)) == {200, 201}
    users = c3.get("/Users", params={"count": "0"}).json()["totalResults"]

    # deleted through the admin API: refused at once, reads and writes, and nothing written
    assert server.admin("DELETE", "/accounts/%s/api-keys/%s" % (acct, k1["ApiKeyId"])).status_code == 204
    assert set(_statuses(server, acct, k1)) == {401}
    # deleted by another process writing the store (the CLI)
    run("apikey", "delete", "--db", server.db, "--master-key-file", server.key, "--account", acct, "--id", k2["ApiKeyId"])
    assert set(_statuses(server, acct, k2)) == {401}
    assert c3.get("/Users", params={"count": "0"}).json()["totalResults"] == users

    # the account's settings changed: the next write already runs under the new profile
    assert c3.post("/Users", {"schemas": [USER], "userName": "etag-%s" % uuid.uuid4().hex[:8]}).headers.get("ETag")
    def minimal(i):  # accepted as permissive, refused by aws-strict (no name, no displayName)
        c = Scim(server, acct, k3)
        return [c.post("/Users", {"schemas": [USER], "userName": "min-%d-%d-%s" % (i, j, uuid.uuid4().hex[:6])})
                .status_code for j in range(3)]
    assert set(code for codes in _in_parallel(minimal) for code in codes) == {201}
    r = server.admin("PUT", "/accounts/%s/settings" % acct, {"AccountSettings": {"ScimCompatibility": "aws-strict"}})
    assert r.status_code in (200, 204), r.text
    # every worker that knew the key under the old profile now refuses the same body
    assert set(code for codes in _in_parallel(minimal) for code in codes) == {400}
    for i in range(8):  # aws-strict answers without ETags
        name = "strict-%d-%s@example.com" % (i, uuid.uuid4().hex[:8])
        r = c3.post("/Users", {"schemas": [USER], "userName": name, "displayName": name,
                               "name": {"givenName": "G", "familyName": "F"}, "active": True})
        assert r.status_code == 201 and "ETag" not in r.headers, (r.status_code, r.headers)
    # the account deleted: its keys with it
    assert server.admin("DELETE", "/accounts/%s" % acct).status_code in (200, 204)
    assert set(_statuses(server, acct, k3, writes=1)) == {401}


def test_apikey_other_account_is_404(server):
    a1, k1 = server.new_account()
    a2, k2 = server.new_account()
    c1, c2 = Scim(server, a1, k1), Scim(server, a2, k2)
    u = c1.user()
    g = c1.group(members=[u["id"]])
    for path in ("/Users/" + u["id"], "/Groups/" + g["id"]):
        assert_error(c2.get(path), 404)
        assert_error(c2.patch(path, [{"op": "replace", "path": "displayName", "value": "x"}]), 404)
        assert_error(c2.delete(path), 404)
    assert c2.get("/Users").json()["totalResults"] == 0
    # another account's user cannot be added as a member
    g2 = c2.group()
    assert_error(c2.patch("/Groups/" + g2["id"], [{"op": "add", "path": "members", "value": [{"value": u["id"]}]}]), 400)
    # a key cannot be deleted through another account
    assert server.admin("DELETE", "/accounts/%s/api-keys/%s" % (a2, k1["ApiKeyId"])).status_code == 404


def test_apikey_token_stored_as_hash(server):
    acct, key = server.new_account()
    if server.backend == "sqlite":
        import sqlite3
        con = sqlite3.connect(server.db)
        rows = con.execute("SELECT secret_hash FROM api_keys WHERE api_key_id = ?", (key["ApiKeyId"],)).fetchall()
        con.close()
        secret = key["Token"].split(".", 1)[1]
        assert rows and secret not in rows[0][0] and len(rows[0][0]) == 64


def test_apikey_cli(server):
    acct, _ = server.new_account()
    out = json.loads(run("apikey", "create", "--db", server.db, "--master-key-file", server.key, "--account", acct, "--json"))
    assert set(out) == {"ApiKeyId", "Token"}
    c = Scim(server, acct, out)
    assert c.get("/Users").status_code == 200
    listed = json.loads(run("apikey", "list", "--db", server.db, "--master-key-file", server.key, "--account", acct, "--json"))["ApiKeys"]
    assert out["ApiKeyId"] in [k["ApiKeyId"] for k in listed]
    run("apikey", "delete", "--db", server.db, "--master-key-file", server.key, "--account", acct, "--id", out["ApiKeyId"])
    assert_error(c.get("/Users"), 401)
    p = subprocess.run([BIN, "apikey", "create", "--db", server.db, "--master-key-file", server.key, "--account", str(uuid.uuid4())], capture_output=True)
    assert p.returncode != 0


def test_scim_writes_are_audited(scim, server):
    u = scim.user()
    scim.patch("/Users/" + u["id"], [{"op": "replace", "path": "title", "value": "t"}])
    ev = server.admin("GET", "/audit-events?eventName=PatchUser").json()
    events = ev.get("Events") or ev.get("AuditEvents") or ev.get("events") or []
    text = json.dumps(ev)
    assert "scim.tessera" in text and scim.key_id in text and "ApiKey" in text, text[:500]


def test_deactivated_user_row_inactive(scim, server):
    u = scim.user()
    scim.patch("/Users/" + u["id"], [{"op": "replace", "value": {"active": False}}])
    if server.backend == "sqlite":
        import sqlite3
        con = sqlite3.connect(server.db)
        (active,) = con.execute("SELECT active FROM users WHERE user_id = ?", (u["id"],)).fetchone()
        con.close()
        assert active == 0  # the same row sign-in reads (docs/product.md §4 rule 3)
