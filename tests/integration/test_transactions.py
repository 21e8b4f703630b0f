"""
Transactions with real semantics on both backends: concurrent
read-modify-writes lose nothing, on one node and on two nodes sharing one
PostgreSQL; If-Match is checked and applied atomically; a SCIM list's
totalResults agrees with its page while others insert; a store that cannot
answer in time gives 503 with Retry-After (docs/store.md).
"""
import os
import subprocess
import threading
import time

import pytest
import requests

from tessera_itest import HTTP_TIMEOUT, SCALE

pytestmark = pytest.mark.slow

ACCOUNTS = "/api/v1/accounts"
USER = "urn:ietf:params:scim:schemas:core:2.0:User"
PATCHOP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
SCIM_JSON = "application/scim+json"
CLIENTS, PATCHES = 4, 40


def _scim_account(srv):
    acct = srv.create_account("tx-%d-%d" % (srv.port, time.monotonic_ns()))
    r = srv.post(ACCOUNTS + "/" + acct["AccountId"] + "/api-keys", {"Description": "scim"})
    assert r.status_code == 201, r.text
    return acct, r.json()["ApiKey"]["Token"]


def _scim(srv, token, method, path, body=None, headers=None, session=None):
    h = {"Authorization": "Bearer " + token, "Content-Type": SCIM_JSON}
    if headers:
        h.update(headers)
    s = session or requests
    return s.request(method, srv.url + "/scim/v2" + path, json=body, headers=h, timeout=HTTP_TIMEOUT * 2)


def _patch_race(nodes, token, user_path):
    """CLIENTS clients x PATCHES PATCHes, each adding one distinct entitlement, spread over nodes."""
    statuses, lock = [], threading.Lock()

    def client(w):
        s = requests.Session()
        node = nodes[w % len(nodes)]
        for i in range(PATCHES):
            body = {"schemas": [PATCHOP],
                    "Operations": [{"op": "add", "path": "entitlements", "value": [{"value": "c%d-%d" % (w, i)}]}]}
            r = _scim(node, token, "PATCH", user_path, body, session=s)
            with lock:
                statuses.append((r.status_code, r.text[:200] if r.status_code != 200 else ""))

    threads = [threading.Thread(target=client, args=(w,)) for w in range(CLIENTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120 * SCALE)
    return statuses


def _check_all_kept(node, token, user_path, statuses):
    assert [s for s, _ in statuses] == [200] * (CLIENTS * PATCHES), [s for s in statuses if s[0] != 200][:5]
    got = _scim(node, token, "GET", user_path).json()
    # entitlements, not emails: one user holds at most 100 emails (TS_SCIM_MAX_EMAILS)
    values = sorted(e["value"] for e in got.get("entitlements", []))
    want = sorted("c%d-%d" % (w, i) for w in range(CLIENTS) for i in range(PATCHES))
    assert values == want, "kept %d of %d" % (len(values), len(want))
    assert got["meta"]["version"] == 'W/"%d"' % (CLIENTS * PATCHES + 1), got["meta"]


def test_concurrent_patches_keep_every_value(start_server):
    """4 clients x 40 PATCHes adding distinct values to one user: 160 of 160 kept."""
    srv = start_server(init=True)
    _, token = _scim_account(srv)
    r = _scim(srv, token, "POST", "/Users", {"schemas": [USER], "userName": "shared@example.com"})
    assert r.status_code == 201, r.text
    path = "/Users/" + r.json()["id"]
    _check_all_kept(srv, token, path, _patch_race([srv], token, path))


@pytest.mark.parametrize("backend", ["postgres"])  # many nodes share one database on PostgreSQL
def test_concurrent_patches_on_two_nodes(start_server, store, backend):
    """The same race with the clients spread over two nodes on one PostgreSQL: 160 of 160."""
    a = start_server(init=True)
    b = start_server(root_token=a.root_token)
    _, token = _scim_account(a)
    r = _scim(a, token, "POST", "/Users", {"schemas": [USER], "userName": "shared@example.com"})
    assert r.status_code == 201, r.text
    path = "/Users/" + r.json()["id"]
    _check_all_kept(b, token, path, _patch_race([a, b], token, path))


def _if_match_race(nodes, token, round_):
    name = "race%d@example.com" % round_
    r = _scim(nodes[0], token, "POST", "/Users", {"schemas": [USER], "userName": name})
    assert r.status_code == 201, r.text
    path = "/Users/" + r.json()["id"]
    etag = r.headers["ETag"]
    barrier = threading.Barrier(4)
    statuses, lock = [], threading.Lock()

    def put(i):
        body = {"schemas": [USER], "userName": name, "displayName": "writer %d" % i}
        barrier.wait()
        r = _scim(nodes[i % len(nodes)], token, "PUT", path, body, headers={"If-Match": etag})
        with lock:
            statuses.append(r.status_code)

    threads = [threading.Thread(target=put, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60 * SCALE)
    assert sorted(statuses) == [200, 412, 412, 412], statuses
    got = _scim(nodes[0], token, "GET", path).json()
    assert got["meta"]["version"] == 'W/"2"', got["meta"]


def test_if_match_race_one_winner(start_server):
    """Four PUTs with the same If-Match at once: exactly one 200 and three 412."""
    srv = start_server(init=True)
    _, token = _scim_account(srv)
    for n in range(3):
        _if_match_race([srv], token, n)


@pytest.mark.parametrize("backend", ["postgres"])
def test_if_match_race_on_two_nodes(start_server, store, backend):
    """The same on two nodes sharing one PostgreSQL: one 200, three 412."""
    a = start_server(init=True)
    b = start_server(root_token=a.root_token)
    _, token = _scim_account(a)
    for n in range(3):
        _if_match_race([a, b], token, n)


def test_total_results_agrees_with_the_page(start_server):
    """
    A SCIM list counts and pages in one snapshot: while another client inserts
    users, every answer's totalResults equals the number of resources on its
    (single, large enough) page.
    """
    srv = start_server(init=True)
    _, token = _scim_account(srv)
    stop = threading.Event()
    created = []

    def inserter():
        s = requests.Session()
        i = 0
        while not stop.is_set() and i < 400:
            r = _scim(srv, token, "POST", "/Users", {"schemas": [USER], "userName": "u%d@example.com" % i}, session=s)
            created.append(r.status_code)
            i += 1

    threads = [threading.Thread(target=inserter) for _ in range(1)]
    for t in threads:
        t.start()
    s = requests.Session()
    checked, mismatches = 0, []
    try:
        deadline = time.monotonic() + 20 * SCALE
        while time.monotonic() < deadline and any(t.is_alive() for t in threads):
            r = _scim(srv, token, "GET", "/Users?count=1000", session=s)
            assert r.status_code == 200, r.text
            body = r.json()
            if body["totalResults"] != len(body.get("Resources", [])):
                mismatches.append((body["totalResults"], len(body.get("Resources", []))))
            checked += 1
    finally:
        stop.set()
        for t in threads:
            t.join(60 * SCALE)
    assert checked >= 5, checked
    assert not mismatches, mismatches[:5]
    assert set(created) <= {201}, set(created)


def _psql_cmd(cluster, db):
    if cluster.sockdir:
        cmd = [cluster.psql_bin, "-h", cluster.sockdir, "-p", str(cluster.port), "-U", "postgres", "-d", db]
        if os.getuid() == 0:
            cmd = ["runuser", "-u", "postgres", "--"] + cmd
    else:
        cmd = [cluster.psql_bin, cluster.url_for(db)]
    return cmd + ["-X", "-q", "-v", "ON_ERROR_STOP=1"]


class RowHolder:
    """A psql session that holds a row lock until released (another client of the database)."""

    def __init__(self, store, sql):
        self.app = "rowholder%d" % time.monotonic_ns()
        env = dict(os.environ, PGAPPNAME=self.app)
        self.p = subprocess.Popen(_psql_cmd(store.cluster, store.dbname), stdin=subprocess.PIPE,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env)
        self.p.stdin.write("SET application_name = '%s';\nBEGIN;\n%s;\n" % (self.app, sql))
        self.p.stdin.flush()
        # psql's output to a pipe is buffered: ask the server when the lock is held
        deadline = time.monotonic() + 20 * SCALE
        while time.monotonic() < deadline:
            out = store.cluster.admin("SELECT count(*) FROM pg_stat_activity WHERE application_name = '%s' "
                                      "AND state = 'idle in transaction'" % self.app)
            if out.strip() == "1":
                return
            assert self.p.poll() is None, self.p.stderr.read()
            time.sleep(0.05)
        raise AssertionError("psql did not take the lock")

    def release(self):
        if self.p.poll() is None:
            self.p.stdin.write("ROLLBACK;\n\\q\n")
            self.p.stdin.flush()
            self.p.wait(30)


@pytest.mark.parametrize("backend", ["postgres"])
def test_lock_timeout_gives_503_with_retry_after(start_server, store, backend):
    """
    A row held by another client past --store-lock-timeout: the admin API
    answers ServiceUnavailableException and SCIM its 503 error, both with
    Retry-After; once the row is free the same calls succeed.
    """
    srv = start_server(init=True, extra_args=["--store-lock-timeout", "300"])
    acct, token = _scim_account(srv)
    r = _scim(srv, token, "POST", "/Users", {"schemas": [USER], "userName": "held@example.com"})
    assert r.status_code == 201, r.text
    uid = r.json()["id"]
    settings = ACCOUNTS + "/" + acct["AccountId"] + "/settings"
    held = RowHolder(store, "SELECT 1 FROM accounts WHERE account_id = '%s' FOR UPDATE" % acct["AccountId"])
    try:
        t0 = time.monotonic()
        r = srv.put(settings, {"AccountSettings": {"ScimCompatibility": "permissive"}})
        assert r.status_code == 503, r.text
        assert r.json()["Code"] == "ServiceUnavailableException", r.text
        assert r.headers.get("Retry-After") == "1", r.headers
        assert time.monotonic() - t0 < 10 * SCALE
    finally:
        held.release()
    r = srv.put(settings, {"AccountSettings": {"ScimCompatibility": "permissive"}})
    assert r.status_code == 204, r.text

    held = RowHolder(store, "SELECT 1 FROM users WHERE user_id = '%s' FOR UPDATE" % uid)
    try:
        body = {"schemas": [PATCHOP], "Operations": [{"op": "replace", "path": "displayName", "value": "x"}]}
        r = _scim(srv, token, "PATCH", "/Users/" + uid, body)
        assert r.status_code == 503, r.text
        assert r.headers["Content-Type"].startswith(SCIM_JSON)
        assert r.json()["status"] == "503", r.text
        assert r.headers.get("Retry-After") == "1", r.headers
    finally:
        held.release()
    r = _scim(srv, token, "PATCH", "/Users/" + uid, body)
    assert r.status_code == 200, r.text


@pytest.mark.parametrize("backend", ["postgres"])
def test_store_down_gives_503_with_retry_after(start_server, store, backend):
    """PostgreSQL refusing every connection: 503 with Retry-After on both surfaces, then recovery."""
    srv = start_server(init=True)
    acct, token = _scim_account(srv)
    cluster, db = store.cluster, store.dbname
    cluster.admin("ALTER DATABASE %s WITH ALLOW_CONNECTIONS false" % db)
    cluster.admin("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '%s' "
                  "AND pid <> pg_backend_pid()" % db)
    try:
        r = srv.post(ACCOUNTS, {"Name": "while down"})
        assert r.status_code == 503, r.text
        assert r.json()["Code"] == "ServiceUnavailableException"
        assert r.headers.get("Retry-After") == "1", r.headers
        r = _scim(srv, token, "GET", "/Users")
        assert r.status_code == 503, r.text
        assert r.headers.get("Retry-After") == "1", r.headers
    finally:
        cluster.admin("ALTER DATABASE %s WITH ALLOW_CONNECTIONS true" % db)
    # a broken connection is re-established inside the retry: no call fails once the store is back
    deadline = time.monotonic() + 20 * SCALE
    while time.monotonic() < deadline and srv.get("/readyz").status_code != 200:
        time.sleep(0.1)
    statuses = [srv.post(ACCOUNTS, {"Name": "after"}).status_code for _ in range(20)]
    assert statuses == [201] * 20, statuses


def _fail_account_inserts(store, times):
    """The next `times` INSERTs into accounts fail with a serialization failure (40001)."""
    store.sql("DROP TRIGGER IF EXISTS fail_inserts ON accounts")
    store.sql("DROP SEQUENCE IF EXISTS insert_tries")
    store.sql("CREATE SEQUENCE insert_tries")  # nextval is not rolled back with the transaction
    store.sql("GRANT USAGE, SELECT, UPDATE ON SEQUENCE insert_tries TO PUBLIC")
    store.sql("CREATE OR REPLACE FUNCTION fail_inserts() RETURNS trigger LANGUAGE plpgsql AS $$ "
              "BEGIN IF nextval('insert_tries') <= %d THEN "
              "RAISE EXCEPTION 'forced' USING ERRCODE = 'serialization_failure'; END IF; "
              "RETURN NEW; END $$" % times)
    store.sql("CREATE TRIGGER fail_inserts BEFORE INSERT ON accounts FOR EACH ROW "
              "EXECUTE FUNCTION fail_inserts()")


def _tries(store):
    rows, _ = store.sql("SELECT last_value FROM insert_tries")
    return int(rows[0][0])


@pytest.mark.parametrize("backend", ["postgres"])
def test_cli_writes_run_again_after_a_serialization_failure(store, backend):
    """
    A CLI write that PostgreSQL refuses for another transaction's sake runs
    again, as the API's do (docs/store.md, Retries): twice refused, the third
    run creates the account once; refused every time, the command fails after
    the retry budget and nothing is stored.
    """
    from tessera_itest import cli_json, run_cli
    store.init()
    _fail_account_inserts(store, 2)
    out = cli_json("account", "create", "--name", "retried", "--db", store.db,
                   "--master-key-file", store.key, "--json")
    assert out["Name"] == "retried", out
    assert _tries(store) == 3
    rows, _ = store.sql("SELECT count(*) FROM accounts WHERE name = 'retried'")
    assert rows == [("1",)], rows

    _fail_account_inserts(store, 1000)
    p = run_cli("account", "create", "--name", "never", "--db", store.db,
                "--master-key-file", store.key)
    assert p.returncode == 1, (p.returncode, p.stdout, p.stderr)
    assert "account create" in p.stderr, p.stderr
    assert _tries(store) == 4  # TS_STORE_TX_ATTEMPTS
    rows, _ = store.sql("SELECT count(*) FROM accounts WHERE name = 'never'")
    assert rows == [("0",)], rows
