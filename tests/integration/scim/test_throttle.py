"""
Checklist item 67: too many requests -> 429, with `tessera serve --scim-rate-limit 5`
(5 requests per second per API key, bursts of 5).

The buckets live in the server's memory and a throttled request never reaches the
store, so these tests run on SQLite only, on a server of their own (the suite's
shared servers run without a limit).
"""
import os
import time
import uuid

import pytest

from scimtest import USER, Scim, Server, assert_error

RATE = 5


@pytest.fixture(scope="module")
def limited(tmp_path_factory):
    work = str(tmp_path_factory.mktemp("scim-throttle"))
    srv = Server(os.path.join(work, "store.db"), work, extra_args=("--scim-rate-limit", str(RATE)))
    srv.backend = "sqlite"
    yield srv
    srv.stop()


def second_key(server, account):
    r = server.admin("POST", "/accounts/%s/api-keys" % account, {"Description": "second"})
    assert r.status_code == 201, r.text
    return r.json()["ApiKey"]


def burst(client, n, path="/Users", **kw):
    """n requests as fast as one connection goes; the responses and the seconds it took."""
    t0 = time.monotonic()
    rs = [client.get(path, **kw) for _ in range(n)]
    return rs, time.monotonic() - t0


def assert_throttled(r):
    body = assert_error(r, 429)
    assert "scimType" not in body, body
    assert "too many requests" in body["detail"], body
    assert r.headers["Content-Type"].startswith("application/scim+json"), r.headers
    retry = r.headers.get("Retry-After")
    assert retry is not None and retry.isdigit() and int(retry) >= 1, r.headers
    return int(retry)


def wait_refill(retry_after):
    # Retry-After seconds, and the burst is back (RATE tokens per second)
    time.sleep(max(retry_after, 1.0 + 1.0 / RATE))


def test_item_67_burst_gets_429_with_retry_after(limited):
    acct, key = limited.new_account()
    a = Scim(limited, acct, key)
    b = Scim(limited, acct, second_key(limited, acct))
    other = Scim(limited, *limited.new_account())

    rs, took = burst(a, 30)
    codes = [r.status_code for r in rs]
    assert set(codes) <= {200, 429}, codes
    # a fresh key has a full bucket; then about RATE per second of the burst's duration
    assert codes[:RATE] == [200] * RATE, codes
    assert codes.count(429) >= 1, codes
    assert codes.count(200) <= RATE + RATE * took + 1, (codes, took)
    retry = max(assert_throttled(r) for r in rs if r.status_code == 429)

    # another key of the same account, and a key of another account, have their own budget
    for c in (b, other):
        codes = [r.status_code for r in burst(c, RATE)[0]]
        assert codes == [200] * RATE, codes

    # after Retry-After seconds the first key is served again
    wait_refill(retry)
    codes = [r.status_code for r in burst(a, RATE)[0]]
    assert codes == [200] * RATE, codes


def test_item_67_only_authenticated_keys_spend(limited):
    acct, key = limited.new_account()
    a = Scim(limited, acct, key)
    # a wrong secret for a's key id, and an unknown key: 401, never 429, however many
    wrong = key["ApiKeyId"] + "." + "A" * 40
    for tok in [wrong] * 20 + ["TSSK" + uuid.uuid4().hex[:16] + "." + "B" * 40] * 5 + [""]:
        assert_error(a.get("/Users", token=tok), 401)
    # ... and they did not spend a's budget: its whole burst is still there
    codes = [r.status_code for r in burst(a, RATE)[0]]
    assert codes == [200] * RATE, codes
    # a throttled key with a wrong secret is still told 401 first
    rs, _ = burst(a, 3 * RATE)
    assert 429 in [r.status_code for r in rs]
    assert_error(a.get("/Users", token=wrong), 401)


def test_item_67_throttled_writes_are_not_audited(limited):
    acct, key = limited.new_account()
    a = Scim(limited, acct, key)
    made = []
    refused = 0
    for i in range(3 * RATE):
        name = "thr-%d-%s@example.com" % (i, uuid.uuid4().hex[:6])
        r = a.post("/Users", {"schemas": [USER], "userName": name})
        if r.status_code == 429:
            assert_throttled(r)
            refused += 1
        else:
            assert r.status_code == 201, r.text
            made.append(r.json()["id"])
    assert refused >= 1 and len(made) >= RATE, (refused, len(made))
    ev = limited.admin("GET", "/audit-events?eventName=CreateUser&max-results=1000").json()["Events"]
    audited = [e for e in ev if a.key_id in str(e)]
    # one event per user made; none for the refused requests (they never reached the store)
    assert len(audited) == len(made), (len(audited), len(made), refused)
    wait_refill(1)
    r = a.get("/Users", params={"count": 1000})
    assert r.status_code == 200, r.text
    assert sorted(x["id"] for x in r.json()["Resources"]) == sorted(made)
