"""
Many nodes (docs/product.md §2a), proved with real parts: PostgreSQL, two
`tessera serve` nodes on it with one master key, and Debian's nginx in front
of them, all started here on free loopback ports.

  - the SCIM rate limit is the cluster's: a key limited to N/s gets about
    N/s from two nodes together, not N per node;
  - kill -9 of one node in the middle of concurrent writes through the
    balancer loses no acknowledged write, and the balancer carries on with
    the survivor;
  - PostgreSQL stopped and started in the middle of load: /readyz says not
    ready meanwhile, the nodes recover by themselves, no half-written row,
    and `tessera audit verify` passes afterwards.

The Okta run through the balancer is tests/integration/scim/test_okta.py's
"balanced" parameter. These tests are marked `cluster`: make check runs them
once, not again under ASan (scripts/check.sh).
"""
import threading
import time
import uuid

import pytest
import requests

import tessera_itest as T
from tessera_itest import Cluster, OwnPg

pytestmark = [pytest.mark.slow, pytest.mark.cluster]

SCIM_JSON = "application/scim+json"
USER = "urn:ietf:params:scim:schemas:core:2.0:User"
RATE = 20             # requests per second per key, for the cluster
RATE_SECONDS = 3.0    # the measured window
WRITERS = 4


def _scim_key(url, root):
    h = {"Authorization": "Bearer " + root}
    r = requests.post(url + "/api/v1/accounts", json={"Name": "c-" + uuid.uuid4().hex[:8], "AccountType": "Enterprise"},
                      headers=h, timeout=30)
    assert r.status_code == 201, r.text
    acct = r.json()["Account"]["AccountId"]
    r = requests.post(url + "/api/v1/accounts/%s/api-keys" % acct, json={"Description": "t"}, headers=h, timeout=30)
    assert r.status_code == 201, r.text
    return acct, r.json()["ApiKey"]["Token"]


def _session(token):
    s = requests.Session()
    s.headers.update({"Authorization": "Bearer " + token, "Content-Type": SCIM_JSON, "Accept": SCIM_JSON})
    return s


@pytest.fixture
def pg_db(pg_cluster):
    name = pg_cluster.acquire_db()
    yield pg_cluster.url_for(name)
    pg_cluster.release_db(name)


@pytest.fixture
def cleanup():
    things = []
    yield things
    problems = []
    for t in reversed(things):
        got = t.destroy()
        if got:
            problems.extend(got)
    assert not problems, "\n".join(problems)


def test_rate_limit_holds_across_nodes(pg_db, tmp_path, cleanup):
    """
    Two nodes, --scim-rate-limit 20, each node loaded with the same key for 3 s.
    The cluster lets through its burst (20, 10 per node) plus 20 per second:
    80. Per-node limits (the old behaviour) let 160 through. Tolerance 25%:
    the nodes' clocks start their buckets at slightly different instants and
    the window's edges cut a token or two per node; 60..100 keeps the
    per-node answer (160) and a halved one (40) far outside. With the share
    switched off (each node enforcing N on its own) this test measured 158.
    """
    c = Cluster(pg_db, tmp_path, nodes=2, node_args=["--scim-rate-limit", str(RATE)], balancer=False)
    cleanup.append(c)
    c.wait_nodes_live(2)
    _, token = _scim_key(c.nodes[0].url, c.root)
    counts = {"ok": 0, "throttled": 0, "other": 0}
    lock = threading.Lock()
    start = time.monotonic() + 0.2
    end = start + RATE_SECONDS

    def load(node):
        s = _session(token)
        while time.monotonic() < start:
            time.sleep(0.001)
        while time.monotonic() < end:
            r = s.get(node.url + "/scim/v2/Users", params={"count": 1}, timeout=30)
            k = "ok" if r.status_code == 200 else "throttled" if r.status_code == 429 else "other"
            with lock:
                counts[k] += 1

    threads = [threading.Thread(target=load, args=(n,)) for n in c.nodes for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    expected = RATE + RATE * RATE_SECONDS
    assert counts["other"] == 0, counts
    assert counts["throttled"] > counts["ok"], counts  # the load was well above the limit
    assert 0.75 * expected <= counts["ok"] <= 1.25 * expected, (counts, expected)
    # a node that leaves gives its share back: the survivor sees one live node
    c.nodes[1].terminate()
    c.wait_nodes_live(1, timeout=20)


class Writers:
    """WRITERS threads creating users through url until stopped; keeps every answer."""

    def __init__(self, url, token):
        self.url = url
        self.token = token
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.results = []  # (t_started, t_done, status, userName, id or None)
        self.threads = [threading.Thread(target=self._run, args=(i,)) for i in range(WRITERS)]

    def _run(self, w):
        s = _session(self.token)
        i = 0
        while not self.stop.is_set():
            name = "w%d-%d-%s@example.com" % (w, i, uuid.uuid4().hex[:6])
            i += 1
            body = {"schemas": [USER], "userName": name, "emails": [{"value": name, "primary": True, "type": "work"}]}
            t0 = time.monotonic()
            try:
                r = s.post(self.url + "/scim/v2/Users", json=body, timeout=20 * T.SCALE)
                status, uid = r.status_code, (r.json().get("id") if r.status_code == 201 else None)
            except requests.RequestException:
                status, uid = None, None
                s = _session(self.token)
            with self.lock:
                self.results.append((t0, time.monotonic(), status, name, uid))
            if status != 201:
                time.sleep(0.05)

    def start(self):
        for t in self.threads:
            t.start()
        return self

    def finish(self):
        self.stop.set()
        for t in self.threads:
            t.join()
        return self.results


def _assert_all_acked_present(url, token, results):
    s = _session(token)
    acked = [r for r in results if r[2] == 201]
    assert acked, results[:10]
    missing = []
    for _, _, _, name, uid in acked:
        r = s.get(url + "/scim/v2/Users/" + uid, timeout=30)
        if r.status_code != 200 or r.json()["userName"] != name:
            missing.append((name, uid, r.status_code))
    assert not missing, "%d of %d acknowledged writes lost: %s" % (len(missing), len(acked), missing[:5])
    return acked


def test_kill9_one_node_under_writes(pg_db, tmp_path, cleanup):
    c = Cluster(pg_db, tmp_path, nodes=2)
    cleanup.append(c)
    _, token = _scim_key(c.url, c.root)
    w = Writers(c.url, token).start()
    time.sleep(1.5)
    killed_at = time.monotonic()
    c.nodes[0].kill9()
    time.sleep(3.0)
    results = w.finish()
    acked = _assert_all_acked_present(c.url, token, results)
    before = [r for r in results if r[1] < killed_at]
    after = [r for r in results if r[0] > killed_at + 0.5]
    assert sum(1 for r in before if r[2] == 201) > 10, before[-5:]
    # the balancer carries on with the survivor: every write sent once nginx
    # has noticed (the first refused connection) succeeds
    assert len(after) > 10 and all(r[2] == 201 for r in after), [r for r in after if r[2] != 201][:5]
    # the only casualties are the writes in flight on the killed node
    failed = [r for r in results if r[2] != 201]
    assert len(failed) <= WRITERS, failed
    assert len(acked) == len(results) - len(failed)


def _readyz(node):
    try:
        return requests.get(node.url + "/readyz", timeout=5).status_code
    except requests.RequestException:
        return None


def test_postgres_restart_under_load(tmp_path, cleanup):
    pg = OwnPg()
    cleanup.append(pg)
    c = Cluster(pg.url, tmp_path, nodes=2)
    cleanup.append(c)
    acct, token = _scim_key(c.url, c.root)
    w = Writers(c.url, token).start()
    time.sleep(1.0)
    pg.halt()
    down_at = time.monotonic()
    # /readyz: not ready on every node while the store is gone
    deadline = time.monotonic() + 10 * T.SCALE
    while time.monotonic() < deadline and not all(_readyz(n) == 503 for n in c.nodes):
        time.sleep(0.1)
    assert all(_readyz(n) == 503 for n in c.nodes), [_readyz(n) for n in c.nodes]
    time.sleep(1.0)
    resume_at = time.monotonic()  # PostgreSQL answers again some time before resume() returns
    pg.resume()
    up_at = time.monotonic()
    # the nodes recover by themselves: ready again, and writes go through
    deadline = time.monotonic() + 30 * T.SCALE
    while time.monotonic() < deadline and not all(_readyz(n) == 200 for n in c.nodes):
        time.sleep(0.1)
    assert all(_readyz(n) == 200 for n in c.nodes), [_readyz(n) for n in c.nodes]
    time.sleep(2.0)
    results = w.finish()
    during = [r for r in results if r[0] > down_at + 0.5 and r[1] < resume_at]
    assert during and all(r[2] != 201 for r in during), during[:5]
    # answered, not hung, and answered as "unavailable" or "failed", never 2xx
    assert all(r[2] is not None and r[2] >= 500 for r in during), during[:5]
    late = [r for r in results if r[0] > up_at + 1.0]
    assert len(late) > 5 and all(r[2] == 201 for r in late), [r for r in late if r[2] != 201][:5]
    _assert_all_acked_present(c.url, token, results)
    # no half-written row: every user has the email row written in the same transaction
    psql = T.PgCluster(pg.url, sockdir=open(pg.dir + "/sockdir").read().strip(),
                       port=open(pg.dir + "/port").read().strip())
    orphans = psql.psql("SELECT count(*) FROM users u WHERE NOT EXISTS "
                        "(SELECT 1 FROM user_emails e WHERE e.user_id = u.user_id)", db="tessera")
    assert orphans.strip() == "0", orphans
    stored = int(psql.psql("SELECT count(*) FROM users WHERE account_id = '%s'" % acct, db="tessera").strip())
    acked = sum(1 for r in results if r[2] == 201)
    unknown = sum(1 for r in results if r[2] != 201)
    # every acknowledged user is stored; a failed answer may or may not have committed
    assert acked <= stored <= acked + unknown, (acked, stored, unknown)
    p = T.run_cli("audit", "verify", "--db", pg.url, env={"TESSERA_MASTER_KEY_FILE": c.store.key}, timeout=120)
    assert p.returncode == 0, p.stdout + p.stderr
