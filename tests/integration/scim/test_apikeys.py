"""API keys (CreateApiKey / ListApiKeys / DeleteApiKey, `tessera apikey`) and tenancy."""
import json
import subprocess
import uuid

from conftest import BIN, USER, Scim, assert_error, run


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
    out = json.loads(run("apikey", "create", "--db", server.db, "--account", acct, "--json"))
    assert set(out) == {"ApiKeyId", "Token"}
    c = Scim(server, acct, out)
    assert c.get("/Users").status_code == 200
    listed = json.loads(run("apikey", "list", "--db", server.db, "--account", acct, "--json"))["ApiKeys"]
    assert out["ApiKeyId"] in [k["ApiKeyId"] for k in listed]
    run("apikey", "delete", "--db", server.db, "--account", acct, "--id", out["ApiKeyId"])
    assert_error(c.get("/Users"), 401)
    p = subprocess.run([BIN, "apikey", "create", "--db", server.db, "--account", str(uuid.uuid4())], capture_output=True)
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
        assert active == 0  # the same row sign-in reads (SPEC §4 rule 3)
