"""Under load: graceful shutdown, kill -9 durability, concurrent writers."""
import json
import threading
import time

import pytest
import requests

from tessera_itest import HTTP_TIMEOUT, SCALE, complete_body, run_cli

ACCOUNTS = "/api/v1/accounts"
pytestmark = pytest.mark.slow


def _verify(store):
    p = run_cli("audit", "verify", "--db", store.db, "--master-key-file", store.key, "--json", timeout=120)
    return p.returncode, (json.loads(p.stdout) if p.stdout.strip() else p.stderr)


def test_graceful_shutdown_under_load(start_server, store):
    srv = start_server(init=True)
    for i in range(30):
        srv.create_account("seed-%d" % i)
    stop = threading.Event()
    lock = threading.Lock()
    results = {"complete": 0, "broken": [], "created": [], "errors": 0}

    def client(n):
        s = requests.Session()
        h = {"Authorization": "Bearer " + srv.root_token}
        i = 0
        while not stop.is_set():
            i += 1
            try:
                if i % 2:
                    r = s.post(srv.url + ACCOUNTS, data=json.dumps({"Name": "load-%d-%d" % (n, i)}), headers=h, timeout=HTTP_TIMEOUT)
                else:
                    r = s.get(srv.url + ACCOUNTS, params={"max-results": "200"}, headers=h, timeout=HTTP_TIMEOUT)
            except requests.exceptions.ChunkedEncodingError as ex:
                with lock:
                    results["broken"].append("truncated body: %r" % ex)
                continue
            except requests.RequestException:
                with lock:
                    results["errors"] += 1
                if not srv.alive():
                    return
                time.sleep(0.01)
                continue
            ok = complete_body(r)
            try:
                body = r.json()
            except ValueError:
                body, ok = None, False
            if r.status_code not in (200, 201, 503):
                ok = False
            with lock:
                if not ok:
                    results["broken"].append("status %d, %d bytes: %r" % (r.status_code, len(r.content), r.content[:200]))
                else:
                    results["complete"] += 1
                    if r.status_code == 201:
                        results["created"].append(body["Account"]["AccountId"])

    threads = [threading.Thread(target=client, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    time.sleep(0.5 * SCALE)
    with lock:
        before = results["complete"]
    assert before > 0, "the load did not get going"
    t0 = time.monotonic()
    rc = srv.terminate(timeout=10)
    elapsed = time.monotonic() - t0
    stop.set()
    for t in threads:
        t.join(timeout=30 * SCALE)
    assert rc == 0, "exit status after SIGTERM under load: %r\n%s" % (rc, srv.stderr()[-3000:])
    assert elapsed < 5 * SCALE, "shutdown took %.1fs" % elapsed
    assert not results["broken"], results["broken"][:5]
    # every acknowledged create is there after a restart
    again = start_server(root_token=srv.root_token)
    for acct_id in results["created"]:
        assert again.get(ACCOUNTS + "/" + acct_id).status_code == 200, acct_id
    rc, out = _verify(store)
    assert rc == 0, out


def test_shutdown_with_idle_keepalive_connections(start_server):
    srv = start_server(init=True)
    sessions = [requests.Session() for _ in range(10)]
    for s in sessions:
        assert s.get(srv.url + "/healthz", timeout=HTTP_TIMEOUT).status_code == 200
    t0 = time.monotonic()
    assert srv.terminate(timeout=10) == 0
    assert time.monotonic() - t0 < 5 * SCALE
    for s in sessions:
        s.close()


def test_kill9_durability(start_server, store):
    srv = start_server(init=True)
    total, nthreads = 1000, 4
    lock = threading.Lock()
    state = {"next": 0, "acked": [], "odd": []}
    half = threading.Event()

    def client():
        s = requests.Session()
        h = {"Authorization": "Bearer " + srv.root_token, "Content-Type": "application/json"}
        while True:
            with lock:
                if state["next"] >= total:
                    return
                i = state["next"]
                state["next"] += 1
            try:
                r = s.post(srv.url + ACCOUNTS, data=json.dumps({"Name": "durable-%04d" % i}), headers=h, timeout=HTTP_TIMEOUT)
            except requests.RequestException:
                if not srv.alive():
                    return
                continue
            with lock:
                if 200 <= r.status_code < 300:
                    state["acked"].append((i, r.json()["Account"]["AccountId"]))
                    if len(state["acked"]) >= total // 2:
                        half.set()
                else:
                    state["odd"].append((r.status_code, r.text))

    threads = [threading.Thread(target=client) for _ in range(nthreads)]
    for t in threads:
        t.start()
    assert half.wait(timeout=120 * SCALE), "the creates did not get half-way (acked %d)" % len(state["acked"])
    srv.kill9()
    for t in threads:
        t.join(timeout=60 * SCALE)
    acked = list(state["acked"])
    assert not state["odd"], state["odd"][:5]
    assert len(acked) < total, "the kill came too late to test anything"

    again = start_server(root_token=srv.root_token)
    missing = [a for _, a in acked if again.get(ACCOUNTS + "/" + a).status_code != 200]
    assert not missing, "%d of %d acknowledged accounts lost after kill -9" % (len(missing), len(acked))
    # everything in the store has its CreateAccount event, and the chain holds
    listed = []
    token = None
    while True:
        params = {"max-results": "200"}
        if token:
            params["next-token"] = token
        body = again.get(ACCOUNTS, params=params).json()
        listed.extend(a["AccountId"] for a in body["Accounts"])
        token = body.get("NextToken")
        if not token:
            break
    assert len(listed) >= len(acked)
    creates = again.events(eventName="CreateAccount")
    ok_creates = [e for e in creates if "errorCode" not in e]
    assert len(ok_creates) == len(listed), (len(ok_creates), len(listed))
    rc, out = _verify(store)
    assert rc == 0, out


def test_concurrent_creates(start_server, store):
    srv = start_server(init=True)
    nthreads, per = 8, 50
    statuses = []
    ids = []
    lock = threading.Lock()
    go = threading.Barrier(nthreads)

    def client(n):
        s = requests.Session()
        h = {"Authorization": "Bearer " + srv.root_token, "Content-Type": "application/json"}
        go.wait()
        for i in range(per):
            r = s.post(srv.url + ACCOUNTS, data=json.dumps({"Name": "c-%d-%d" % (n, i)}), headers=h, timeout=HTTP_TIMEOUT)
            with lock:
                statuses.append((r.status_code, r.text if r.status_code != 201 else ""))
                if r.status_code == 201:
                    ids.append(r.json()["Account"]["AccountId"])

    threads = [threading.Thread(target=client, args=(n,)) for n in range(nthreads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300 * SCALE)
    bad = [s for s in statuses if s[0] != 201]
    assert len(statuses) == nthreads * per
    assert not bad, "%d of %d creates failed, e.g. %s" % (len(bad), len(statuses), bad[:3])
    assert len(set(ids)) == nthreads * per
    rc, out = _verify(store)
    assert rc == 0 and out["Intact"] is True, out
    creates = srv.events(eventName="CreateAccount")
    assert len(creates) == nthreads * per
    assert {e["responseElements"]["Account"]["AccountId"] for e in creates} == set(ids)
