"""`tessera serve` refuses to start, with a clear message, when it cannot work."""
import os
import stat
import subprocess

from tessera_itest import EXE, SCALE, check_cases, clean_env, free_port, run_cli, sanitizer_lines


def serve_expect_failure(*args, timeout=20):
    """Runs `tessera serve ARGS`, which must exit on its own; returns (rc, stderr)."""
    env = clean_env()
    p = subprocess.Popen([EXE, "serve", *map(str, args)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        out, err = p.communicate(timeout=timeout * SCALE)
    except subprocess.TimeoutExpired:
        p.kill()
        out, err = p.communicate()
        raise AssertionError("tessera serve %s kept running instead of failing:\n%s" % (" ".join(map(str, args)), err))
    assert not sanitizer_lines(err), err
    return p.returncode, err


def test_busy_port(server):
    rc, err = serve_expect_failure("--listen", "127.0.0.1:%d" % server.port, "--db", server.store.db, "--master-key-file", server.store.key)
    assert rc != 0
    assert str(server.port) in err and ("in use" in err.lower() or "listen" in err.lower()), err
    # the first server is unharmed
    assert server.get("/healthz").status_code == 200
    assert server.get("/api/v1/accounts").status_code == 200


def test_bad_flag(store):
    store.init()
    rc, err = serve_expect_failure("--nope", "--db", store.db, "--master-key-file", store.key)
    assert rc != 0
    assert "--nope" in err and "usage" in err.lower(), err


def test_bad_flag_values(store):
    store.init()

    def one(args):
        rc, err = serve_expect_failure("--listen", "127.0.0.1:%d" % free_port(), "--db", store.db, "--master-key-file", store.key, *args)
        assert rc != 0 and err.strip(), err

    check_cases([["--listen", "nonsense"], ["--listen", "127.0.0.1:http"], ["--max-body", "-5"], ["--threads", "many"], ["--durability", "maybe"], ["--listen"],
                 ["--scim-rate-limit", "-1"], ["--scim-rate-limit", "fast"], ["--scim-rate-limit", "1000001"]], one)


def test_garbage_store(backend, store, tmp_path):
    if backend == "sqlite":
        bad = tmp_path / "garbage.db"
        bad.write_bytes(os.urandom(16384))
        db = str(bad)
    else:
        db = store.cluster.url_for("no_such_database_" + store.dbname)
    store.init()  # a valid master key file
    rc, err = serve_expect_failure("--listen", "127.0.0.1:%d" % free_port(), "--db", db, "--master-key-file", store.key)
    assert rc != 0
    assert "store" in err.lower(), err


def test_missing_sqlite_store(tmp_path):
    key = tmp_path / "tessera.key"
    key.write_bytes(os.urandom(32))
    key.chmod(0o600)
    missing = tmp_path / "missing.db"
    rc, err = serve_expect_failure("--listen", "127.0.0.1:%d" % free_port(), "--db", missing, "--master-key-file", key)
    assert rc != 0
    assert str(missing) in err or "does not exist" in err, err
    assert not missing.exists(), "serve must not create a store"


def test_missing_master_key(store):
    store.init()
    rc, err = serve_expect_failure("--listen", "127.0.0.1:%d" % free_port(), "--db", store.db, "--master-key-file", store.key + ".missing")
    assert rc != 0
    assert "master key" in err.lower(), err


def test_store_from_the_future(store):
    store.init()
    _, n = store.sql("UPDATE schema_version SET version = 999")
    assert n == 1
    rc, err = serve_expect_failure("--listen", "127.0.0.1:%d" % free_port(), "--db", store.db, "--master-key-file", store.key)
    assert rc != 0
    assert "999" in err and "schema" in err.lower(), err
    # the offline commands refuse it too, and nothing was "migrated" down
    p = run_cli("account", "create", "--db", store.db, "--name", "x")
    assert p.returncode != 0 and "999" in p.stderr
    rows, _ = store.sql("SELECT version FROM schema_version")
    assert [int(r[0]) for r in rows] == [999]


def test_serve_starts_on_an_initialised_store_and_restarts(start_server, store):
    first = start_server(init=True)
    first.create_account("persisted")
    assert first.terminate() == 0
    second = start_server(root_token=first.root_token)
    names = [a["Name"] for a in second.get("/api/v1/accounts").json()["Accounts"]]
    assert names == ["persisted"]


def test_sqlite_files_private(backend, store, start_server):
    """The database, its WAL and -shm are created 0600 whatever the umask
    (they hold key hashes and the audit trail), like the master key file."""
    if backend != "sqlite":
        return  # PostgreSQL's files are the cluster's; only the master key file is ours
    old = os.umask(0o022)
    try:
        server = start_server(init=True)
        assert server.get("/healthz").status_code == 200
    finally:
        os.umask(old)
    for path in (store.db, store.db + "-wal", store.db + "-shm", store.key):
        mode = stat.S_IMODE(os.stat(path).st_mode)
        assert mode == 0o600, "%s has mode %o" % (path, mode)


def test_serve_refuses_another_master_key(store, tmp_path):
    """Every node has the store's master key; one with another key refuses to start."""
    store.init()
    other = tmp_path / "other.key"
    other.write_bytes(os.urandom(32))
    os.chmod(str(other), 0o600)
    rc, err = serve_expect_failure("--listen", "127.0.0.1:%d" % free_port(), "--db", store.db, "--master-key-file", str(other))
    assert rc != 0
    assert "master key does not match" in err, err
    # init with the wrong key refuses the store as well, and writes nothing
    p = run_cli("init", "--db", store.db, "--master-key-file", str(other))
    assert p.returncode != 0 and "master key does not match" in p.stderr, p.stderr
    p = run_cli("account", "create", "--db", store.db, "--master-key-file", str(other), "--name", "x")
    assert p.returncode != 0 and "master key does not match" in p.stderr, p.stderr
    # the store's own key still works, and nothing was recorded by the refused commands
    p = run_cli("audit", "verify", "--db", store.db, "--master-key-file", store.key, "--json")
    assert p.returncode == 0, p.stderr
    rows, _ = store.sql("SELECT count(*) FROM accounts")
    assert int(rows[0][0]) == 0


def test_bad_base_url(store):
    """--base-url is an origin (docs/http.md): anything else stops serve with a message."""
    store.init()

    def one(url):
        rc, err = serve_expect_failure("--listen", "127.0.0.1:%d" % free_port(), "--db", store.db, "--master-key-file", store.key, "--base-url", url)
        assert rc == 2 and "--base-url" in err, err

    check_cases(["id.example.com", "ftp://id.example.com", "https://ID.example.com", "https://id.example.com/sso", "https://id.example.com/?x=1",
                 "https://id.example.com#f", "https://user@id.example.com", "https://id.example.com:0", "https://evil.com\\@id.example.com", ""], one)


def test_base_url_normalized(start_server):
    """A default port and a trailing slash are dropped; the log shows what cookies and links will use."""
    srv = start_server(init=True, extra_args=["--base-url", "https://id.example.com:443/"])
    assert srv.get("/healthz").status_code == 200
    listening = [line for line in srv.stderr().splitlines() if '"listening"' in line]
    assert listening and '"base_url":"https://id.example.com"' in listening[0].replace(" ", ""), listening
