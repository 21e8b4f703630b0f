"""The offline commands (docs/product.md §3), against the same stores the server uses."""
import json
import os

import pytest

from tessera_itest import UUID_RE, PgStore, assert_error, check_cases, cli_json, run_cli

ACCOUNTS = "/api/v1/accounts"


def test_account_create_is_visible_over_the_api(server):
    store = server.store
    out = cli_json("account", "create", "--db", store.db, "--master-key-file", store.key, "--name", "From CLI", "--json")
    assert UUID_RE.match(out["AccountId"]), out
    assert out["Name"] == "From CLI" and out["AccountType"] == "Team"
    r = server.get(ACCOUNTS + "/" + out["AccountId"])
    assert r.status_code == 200, r.text
    assert r.json()["Account"]["Name"] == "From CLI"

    ent = cli_json("account", "create", "--db", store.db, "--master-key-file", store.key, "--name", "Ent", "--type", "Enterprise", "--json")
    assert ent["AccountType"] == "Enterprise"
    assert server.get(ACCOUNTS + "/" + ent["AccountId"]).json()["Account"]["AccountType"] == "Enterprise"

    listed = cli_json("account", "list", "--db", store.db, "--json")
    assert sorted(a["AccountId"] for a in listed["Accounts"]) == sorted([out["AccountId"], ent["AccountId"]])

    # the offline call is audited as the local operator
    ev = [e for e in server.events(eventName="CreateAccount")]
    assert len(ev) == 2
    assert all(e["userIdentity"]["type"] == "LocalOperator" for e in ev)
    assert run_cli("audit", "verify", "--db", store.db, "--master-key-file", store.key).returncode == 0


def test_account_create_human_output(server):
    p = run_cli("account", "create", "--db", server.store.db, "--master-key-file", server.store.key, "--name", "Human")
    assert p.returncode == 0, p.stderr
    assert "Human" in p.stdout


def test_account_create_refuses_bad_input(server):
    db = server.store.db
    for args in (["--name", ""], ["--name", "x" * 101], ["--name", "ok", "--type", "Personal"], []):
        p = run_cli("account", "create", "--db", db, "--master-key-file", server.store.key, *args, "--json")
        assert p.returncode != 0, args
        assert p.stderr.strip(), args
        assert p.stdout.strip() == "", args
    assert server.get(ACCOUNTS).json()["Accounts"] == []


def test_adminkey_create_readonly(server):
    out = cli_json("adminkey", "create", "--db", server.store.db, "--master-key-file", server.store.key, "--policy", "ReadOnly", "--json")
    assert set(out) == {"AccessKeyId", "Token"}, out
    assert out["Token"].startswith(out["AccessKeyId"] + ".")
    t = out["Token"]
    a = server.create_account("target")
    assert server.get(ACCOUNTS, token=t).status_code == 200
    assert server.get(ACCOUNTS + "/" + a["AccountId"], token=t).status_code == 200
    assert_error(server.post(ACCOUNTS, {"Name": "x"}, token=t), 403, "ForbiddenException")
    assert_error(server.delete(ACCOUNTS + "/" + a["AccountId"], token=t), 403, "ForbiddenException")


def test_adminkey_create_from_policy_file(server, tmp_path):
    a = server.create_account("A")
    b = server.create_account("B")
    policy = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": ["tessera:GetAccount"], "Resource": "arn:tessera:::account/" + a["AccountId"]}],
    }
    path = tmp_path / "policy.json"
    path.write_text(json.dumps(policy))
    out = cli_json("adminkey", "create", "--db", server.store.db, "--master-key-file", server.store.key, "--policy", str(path), "--description", "scoped", "--json")
    t = out["Token"]
    assert server.get(ACCOUNTS + "/" + a["AccountId"], token=t).status_code == 200
    assert_error(server.get(ACCOUNTS + "/" + b["AccountId"], token=t), 403, "ForbiddenException")
    assert_error(server.get(ACCOUNTS, token=t), 403, "ForbiddenException")
    keys = {k["AccessKeyId"]: k for k in server.get("/api/v1/admin-keys").json()["AdminKeys"]}
    assert keys[out["AccessKeyId"]]["Policies"] == [policy]
    assert keys[out["AccessKeyId"]]["Description"] == "scoped"


def test_adminkey_create_refuses_bad_policy(server, tmp_path):
    db = server.store.db
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Perhaps", "Action": "tessera:*", "Resource": "*"}]}))
    garbage = tmp_path / "garbage.json"
    garbage.write_text("{not json")
    for policy in ("NoSuchPolicy", str(bad), str(garbage), str(tmp_path / "missing.json")):
        p = run_cli("adminkey", "create", "--db", db, "--master-key-file", server.store.key, "--policy", policy, "--json")
        assert p.returncode != 0, policy
        assert p.stderr.strip(), policy
        assert "Token" not in p.stdout
    p = run_cli("adminkey", "create", "--db", db, "--json")
    assert p.returncode != 0
    assert len(cli_json("adminkey", "list", "--db", db, "--json")["AdminKeys"]) == 1


def test_adminkey_list_and_delete(server):
    db = server.store.db
    k = cli_json("adminkey", "create", "--db", db, "--master-key-file", server.store.key, "--policy", "FullAccess", "--description", "cli key", "--json")
    listed = cli_json("adminkey", "list", "--db", db, "--json")
    ids = [x["AccessKeyId"] for x in listed["AdminKeys"]]
    assert k["AccessKeyId"] in ids and server.root_token.split(".")[0] in ids
    text = json.dumps(listed)
    assert k["Token"].split(".", 1)[1] not in text and "Token" not in text
    entry = next(x for x in listed["AdminKeys"] if x["AccessKeyId"] == k["AccessKeyId"])
    assert entry["Policies"] == ["FullAccess"] and entry["Description"] == "cli key"
    human = run_cli("adminkey", "list", "--db", db)
    assert human.returncode == 0 and k["AccessKeyId"] in human.stdout
    assert k["Token"].split(".", 1)[1] not in human.stdout

    assert server.get(ACCOUNTS, token=k["Token"]).status_code == 200
    p = run_cli("adminkey", "delete", "--db", db, "--master-key-file", server.store.key, "--id", k["AccessKeyId"])
    assert p.returncode == 0, p.stderr
    assert_error(server.get(ACCOUNTS, token=k["Token"]), 401, "UnauthorizedClientException")
    ids = [x["AccessKeyId"] for x in cli_json("adminkey", "list", "--db", db, "--json")["AdminKeys"]]
    assert k["AccessKeyId"] not in ids
    p = run_cli("adminkey", "delete", "--db", db, "--master-key-file", server.store.key, "--id", k["AccessKeyId"])
    assert p.returncode != 0 and p.stderr.strip()
    p = run_cli("adminkey", "delete", "--db", db)
    assert p.returncode != 0


def test_init_twice_prints_no_new_key(store):
    first = store.init()
    p = run_cli("init", "--db", store.db, "--master-key-file", store.key, "--json")
    assert p.returncode == 0, p.stderr
    assert "Token" not in p.stdout and first.split(".", 1)[1] not in p.stdout
    assert "TSAK" not in p.stdout
    p = run_cli("init", "--db", store.db, "--master-key-file", store.key)
    assert p.returncode == 0, p.stderr
    assert "TSAK" not in p.stdout
    keys = cli_json("adminkey", "list", "--db", store.db, "--json")["AdminKeys"]
    assert [k["AccessKeyId"] for k in keys] == [first.split(".")[0]]


def test_init_human_output_shows_key_once(store):
    p = run_cli("init", "--db", store.db, "--master-key-file", store.key)
    assert p.returncode == 0, p.stderr
    assert "TSAK" in p.stdout
    assert os.path.getsize(store.key) > 0
    assert (os.stat(store.key).st_mode & 0o077) == 0, "the master key file is private"


def test_flags_from_environment(server):
    env = {"TESSERA_DB": server.store.db, "TESSERA_MASTER_KEY_FILE": server.store.key}
    out = cli_json("account", "create", "--name", "From env", "--json", env=env)
    assert server.get(ACCOUNTS + "/" + out["AccountId"]).status_code == 200
    keys = cli_json("adminkey", "list", "--json", env=env)
    assert len(keys["AdminKeys"]) == 1
    # a flag beats the environment
    p = run_cli("account", "list", "--db", server.store.db, "--json", env={"TESSERA_DB": "/nonexistent/x.db"})
    assert p.returncode == 0, p.stderr
    p = run_cli("account", "list", "--json", env={"TESSERA_DB": "/nonexistent/x.db"})
    assert p.returncode != 0


def test_commands_on_a_missing_store(tmp_path):
    missing = str(tmp_path / "none.db")
    for args in (["account", "list"], ["account", "create", "--name", "x"], ["adminkey", "list"], ["audit", "verify"]):
        p = run_cli(*args, "--db", missing)
        assert p.returncode != 0, args
        assert p.stderr.strip(), args
    assert not os.path.exists(missing), "only init creates a store"


def test_usage_errors(tmp_path):
    for args in ([], ["account"], ["account", "frobnicate"], ["adminkey", "rotate"], ["audit", "fix"], ["nonsense", "verb"], ["init", "--nope"]):
        p = run_cli(*args, cwd=str(tmp_path))
        assert p.returncode != 0, args
        assert p.stderr.strip(), args
    p = run_cli("--help")
    assert "usage" in (p.stdout + p.stderr).lower()
    assert os.listdir(tmp_path) == [], "nothing is created by a refused command"


def _controls(text):
    """Characters that drive a terminal: C0 but newline, DEL, C1."""
    return [c for c in text if (ord(c) < 0x20 and c != "\n") or 0x7F <= ord(c) <= 0x9F]


def test_printed_strings_cannot_drive_the_terminal(server):
    """Names and descriptions are escaped when printed (\\xNN), and in --json."""
    db = server.store.db
    acct = server.create_account("plain")["AccountId"]
    key = cli_json("adminkey", "create", "--db", db, "--master-key-file", server.store.key, "--policy", "ReadOnly", "--description", "d", "--json")
    api = server.post(ACCOUNTS + "/" + acct + "/api-keys", {"Description": "k"}).json()["ApiKey"]
    # planted in the store as a careless writer (or an older version) could have
    f = "char" if server.store.kind == "sqlite" else "chr"
    evil = "'x' || {f}(27) || '[2J' || {f}(7) || {f}(127) || '\\' || {f}(155) || 'y'".format(f=f)
    want = "x\\x1b[2J\\x07\\x7f\\\\\\u009by"
    raw = "x\x1b[2J\x07\x7f\\\x9by"
    server.store.sql("UPDATE accounts SET name = %s WHERE account_id = '%s'" % (evil, acct))
    server.store.sql("UPDATE admin_keys SET description = %s WHERE access_key_id = '%s'" % (evil, key["AccessKeyId"]))
    server.store.sql("UPDATE api_keys SET description = %s WHERE api_key_id = '%s'" % (evil, api["ApiKeyId"]))
    commands = [
        ("account", "list", "--db", db),
        ("adminkey", "list", "--db", db),
        ("apikey", "list", "--db", db, "--account", acct),
    ]

    def one(cmd):
        p = run_cli(*cmd)
        assert p.returncode == 0, p.stderr
        assert not _controls(p.stdout), repr(p.stdout)
        assert want in p.stdout, repr(p.stdout)
        j = run_cli(*cmd, "--json")
        assert j.returncode == 0, j.stderr
        assert not _controls(j.stdout), repr(j.stdout)
        listed = next(iter(json.loads(j.stdout).values()))
        assert raw in [x.get("Name", x.get("Description")) for x in listed], "the JSON keeps the value itself"

    check_cases(commands, one, name=lambda c: " ".join(c[:2]))


def test_store_password_is_never_printed(tmp_path):
    """Secrets never reach the log: a --db URL's password is not echoed on failure."""
    port = __import__("tessera_itest").free_port()  # nothing listens there
    key = str(tmp_path / "made.key")  # verify reads a key before the store: a real one
    assert run_cli("init", "--db", str(tmp_path / "made.db"), "--master-key-file", key).returncode == 0
    urls = [
        "postgresql://u:PW-SECRET-1@127.0.0.1:%d/db" % port,
        "postgresql://u@127.0.0.1:%d/db?sslmode=disable&password=PW-SECRET-1" % port,
        "host=127.0.0.1 port=%d password=PW-SECRET-1 dbname=db" % port,
    ]
    commands = [["account", "list"], ["adminkey", "list"], ["apikey", "list", "--account", "x"],
                ["audit", "verify", "--master-key-file", key], ["user", "list", "--account", "x"], ["init"],
                ["serve", "--listen", "127.0.0.1:0", "--master-key-file", str(tmp_path / "k")]]
    for url in urls:
        for cmd in commands:
            p = run_cli(*cmd, "--db", url)
            assert p.returncode != 0, (cmd, url)
            out = p.stdout + p.stderr
            assert "PW-SECRET-1" not in out, (cmd, url, out)
            assert "[redacted]" in out, (cmd, url, out)


def test_init_does_not_print_the_store_password(pg_cluster, tmp_path):
    """`init` names the store it readied: without the URL's password (a working PostgreSQL;
    a SQLite path has none)."""
    import urllib.parse

    store = PgStore(pg_cluster, tmp_path)
    try:
        pw = urllib.parse.urlsplit(store.db).password
        assert pw, "the test cluster's URL has a password: %s" % store.db
        outs = []
        for args in ([], ["--json"], []):  # creates the first key, then names the store twice
            p = run_cli("init", "--db", store.db, "--master-key-file", store.key, *args)
            assert p.returncode == 0, p.stderr
            outs.append(p.stdout + p.stderr)
            assert ":%s@" % pw not in outs[-1], outs[-1]
        assert all(":[redacted]@" in o for o in outs), outs
    finally:
        store.destroy()


@pytest.mark.parametrize("backend", ["sqlite"])  # PostgreSQL refuses to store such bytes at all
def test_rows_not_utf8_are_listed_escaped(server):
    """A stored row whose text is not UTF-8 (an older CLI wrote
    one) made jansson return NULL and the row vanished from every listing."""
    acct = server.create_account("bytes")["AccountId"]
    key = cli_json("adminkey", "create", "--db", server.store.db, "--master-key-file", server.store.key, "--policy", "ReadOnly", "--json")
    api = server.post(ACCOUNTS + "/" + acct + "/api-keys", {"Description": "k"}).json()["ApiKey"]
    server.store.sql("UPDATE accounts SET name = CAST(X'61FF62' AS TEXT) WHERE account_id = ?", (acct,))
    server.store.sql("UPDATE admin_keys SET description = CAST(X'FF' AS TEXT) WHERE access_key_id = ?", (key["AccessKeyId"],))
    server.store.sql("UPDATE api_keys SET description = CAST(X'FE' AS TEXT) WHERE api_key_id = ?", (api["ApiKeyId"],))
    r = server.get(ACCOUNTS + "/" + acct)
    assert r.status_code == 200 and r.json()["Account"]["Name"] == "a\\xFFb", r.text
    names = [a["Name"] for a in server.get(ACCOUNTS).json()["Accounts"]]
    assert "a\\xFFb" in names, names
    keys = {k["AccessKeyId"]: k for k in server.get("/api/v1/admin-keys").json()["AdminKeys"]}
    assert keys[key["AccessKeyId"]]["Description"] == "\\xFF", keys
    apis = server.get(ACCOUNTS + "/" + acct + "/api-keys").json()["ApiKeys"]
    assert [k["Description"] for k in apis] == ["\\xFE"], apis
    listed = cli_json("adminkey", "list", "--db", server.store.db, "--json")["AdminKeys"]
    assert key["AccessKeyId"] in [k["AccessKeyId"] for k in listed], listed
    accounts = cli_json("account", "list", "--db", server.store.db, "--json")["Accounts"]
    assert acct in [a["AccountId"] for a in accounts], accounts


def test_flag_values_must_be_text(tmp_path):
    """What a command stores is text: a flag value that is not UTF-8, or holds a control
    character, is refused before anything is written."""
    db = str(tmp_path / "t.db")
    assert run_cli("init", "--db", db, "--master-key-file", str(tmp_path / "k")).returncode == 0

    def one(value):
        p = run_cli("adminkey", "create", "--db", db, "--master-key-file", str(tmp_path / "k"), "--policy", "ReadOnly", "--description", value)
        assert p.returncode == 2 and "--description" in p.stderr, p.stderr
    check_cases([os.fsdecode(b"\xff"), "a\x1b[2Jb", "tab\there", "del\x7f"], one)
    assert len(cli_json("adminkey", "list", "--db", db, "--json")["AdminKeys"]) == 1
