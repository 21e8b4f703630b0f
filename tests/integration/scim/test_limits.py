"""
An incident: one SCIM PATCH froze every tenant's writes (40,000 emails in one
PATCH took 40 s inside the write transaction), unknown sub-attributes were
stored, and control characters reached names. Here: the caps on the values of
multi-valued attributes (README "Limits"), PATCH cost linear in the change,
another tenant's writes not held up by a maximal PATCH, invalidPath for
unknown sub-attributes, and invalidValue for C0 controls.
"""
import statistics
import threading
import time
import uuid

import pytest

from scimtest import GROUP, PATCHOP, SLOW, USER, Scim, assert_error

# src/scim/patch.h
MAX_EMAILS = 100
CAPS = {"emails": 100, "phoneNumbers": 100, "ims": 100, "photos": 100, "addresses": 100,
        "entitlements": 1000, "roles": 1000, "x509Certificates": 100}
MAX_MEMBER_CHANGES = 10000  # TS_SCIM_PATCH_MAX_MEMBERS


def values(attr, n, start=0):
    key = "formatted" if attr == "addresses" else "value"
    return [{key: "v%d-%d@example.com" % (start, i), "type": "work"} for i in range(n)]


def short_emails(n):
    """n emails in about 20 bytes each, as the issue's 789 KB body of 40,000 (under the 1 MiB body cap)."""
    return [{"value": "e%d@x.io" % i} for i in range(n)]


def test_post_and_put_count_values(scim):
    for attr, cap in CAPS.items():
        body = {"schemas": [USER], "userName": "cap-%s@example.com" % attr.lower(), attr: values(attr, cap + 1)}
        r = assert_error(scim.post("/Users", body), 400, "invalidValue")
        assert attr in r["detail"], r
        body[attr] = values(attr, cap)
        r = scim.post("/Users", body)
        assert r.status_code == 201, r.text
        assert len(r.json()[attr]) == cap
        uid = r.json()["id"]
        body[attr] = values(attr, cap + 1)
        assert_error(scim.put("/Users/" + uid, body), 400, "invalidValue")
        assert len(scim.get("/Users/" + uid).json()[attr]) == cap


def test_patch_past_the_cap_is_refused_at_once(scim):
    u = scim.user()
    path = "/Users/" + u["id"]
    # the request: 40,000 emails, 789 KB (took 40 s under the writer lock)
    t0 = time.monotonic()
    r = scim.patch(path, [{"op": "add", "path": "emails", "value": short_emails(40000)}])
    took = time.monotonic() - t0
    assert_error(r, 400, "invalidValue")
    assert took < 2 * SLOW, took
    # the values named by every operation count together, in any spelling of the name
    ops = [{"op": "add", "path": "emails", "value": values("emails", 60, 1)},
           {"op": "add", "path": "EMAILS", "value": values("emails", 60, 2)}]
    assert_error(scim.patch(path, ops), 400, "invalidValue")
    ops = [{"op": "add", "value": {"emails": values("emails", 60, 3)}},
           {"op": "add", "path": "urn:ietf:params:scim:schemas:core:2.0:User:emails",
            "value": values("emails", 60, 4)}]
    assert_error(scim.patch(path, ops), 400, "invalidValue")
    # so does a removal list
    ops = [{"op": "remove", "path": "emails", "value": short_emails(20000)}]
    assert_error(scim.patch(path, ops), 400, "invalidValue")
    # the result too: 99 more on top of what the user has
    r = scim.patch(path, [{"op": "add", "path": "emails", "value": values("emails", MAX_EMAILS - 1, 5)}])
    assert r.status_code == 200, r.text
    assert len(r.json()["emails"]) == MAX_EMAILS
    r = scim.patch(path, [{"op": "add", "path": "emails", "value": values("emails", 1, 6)}])
    assert_error(r, 400, "invalidValue")
    r = scim.get(path)
    assert len(r.json()["emails"]) == MAX_EMAILS
    # remove by value list takes out exactly those
    gone = values("emails", 50, 5)
    r = scim.patch(path, [{"op": "remove", "path": "emails", "value": gone}])
    assert r.status_code == 200, r.text
    left = {e["value"] for e in r.json()["emails"]}
    assert len(left) == MAX_EMAILS - 50 and not left & {e["value"] for e in gone}


def test_unknown_sub_attributes_are_invalid_path(scim):
    u = scim.user()
    path = "/Users/" + u["id"]
    for op in ("replace", "add"):
        r = scim.patch(path, [{"op": op, "path": 'emails[type eq "work"].bogusSub', "value": "x"}])
        assert_error(r, 400, "invalidPath")
    assert_error(scim.patch(path, [{"op": "replace", "path": "name.bogus", "value": "x"}]), 400, "invalidPath")
    r = scim.patch(path, [{"op": "add", "path": "emails", "value": [{"value": "b@example.com", "bogusSub": 1}]}])
    assert_error(r, 400, "invalidPath")
    r = scim.patch(path, [{"op": "replace", "value": {"name": {"givenName": "G", "bogus": "x"}}}])
    assert_error(r, 400, "invalidPath")
    r = scim.patch(path, [{"op": "replace", "path": 'emails[type eq "work"]',
                           "value": {"value": "c@example.com", "bogus": True}}])
    assert_error(r, 400, "invalidPath")
    # nothing of it was stored; known sub-attributes (any case) still work
    got = scim.get(path).json()
    assert "bogus" not in str(got).lower(), got
    r = scim.patch(path, [{"op": "replace", "path": 'emails[type eq "work"].Display', "value": "Work"}])
    assert r.status_code == 200, r.text


CONTROL = ["a\x01b", "line\nbreak", "tab\there", "esc\x1b[2J", "del\x7f", "cr\r"]


def test_control_characters_are_refused(scim):
    for bad in CONTROL:
        for key, val in (("userName", bad + "@example.com"), ("displayName", bad), ("nickName", bad),
                         ("title", bad), ("externalId", bad), ("name", {"givenName": bad}),
                         ("name", {"familyName": bad}), ("emails", [{"value": bad, "type": "work"}])):
            body = {"schemas": [USER], "userName": "ctl-%s@example.com" % uuid.uuid4().hex[:8], key: val}
            r = scim.post("/Users", body)
            assert_error(r, 400, "invalidValue")
        assert_error(scim.post("/Groups", {"schemas": [GROUP], "displayName": bad}), 400, "invalidValue")
        assert_error(scim.post("/Groups", {"schemas": [GROUP], "displayName": "g-" + uuid.uuid4().hex[:8],
                                           "externalId": bad}), 400, "invalidValue")
    # NUL: the JSON parser already refuses \u0000 in any string
    assert_error(scim.post("/Users", {"schemas": [USER], "userName": "a\x00b@example.com"}), 400)
    u = scim.user()
    path = "/Users/" + u["id"]
    assert_error(scim.patch(path, [{"op": "replace", "path": "displayName", "value": "x\x1by"}]), 400,
                 "invalidValue")
    assert_error(scim.patch(path, [{"op": "replace", "value": {"userName": "x\ny@example.com"}}]), 400,
                 "invalidValue")
    assert_error(scim.put(path, dict(u, displayName="\x07bell")), 400, "invalidValue")
    g = scim.group()
    assert_error(scim.patch("/Groups/" + g["id"], [{"op": "replace", "path": "displayName", "value": "g\x1f"}]),
                 400, "invalidValue")
    # printable text, any script, is fine
    r = scim.patch(path, [{"op": "replace", "path": "displayName", "value": "Zoë Ångström 王"}])
    assert r.status_code == 200 and r.json()["displayName"] == "Zoë Ångström 王", r.text


def best_time(fn, runs):
    best = None
    for _ in range(runs):
        t0 = time.monotonic()
        fn()
        t = time.monotonic() - t0
        best = t if best is None or t < best else best
    return best


@pytest.mark.slow
@pytest.mark.timing
def test_group_members_patch_is_linear(scim):
    """t(2n) / t(n) < 3 for the largest membership PATCHes (quadratic would be 4)."""
    n = MAX_MEMBER_CHANGES // 4
    ids = [str(uuid.uuid4()) for _ in range(2 * n)]
    g = scim.group()
    path = "/Groups/" + g["id"]

    def remove(k):
        # ids no user has: removing them changes nothing and succeeds (groups_api.c)
        body = [{"op": "remove", "path": "members", "value": [{"value": i} for i in ids[:k]]}]
        return lambda: (lambda r: r.status_code == 204 or pytest.fail(r.text[:300]))(scim.patch(path, body))

    ratios = []
    for _ in range(3):  # a busy moment on a shared box can spoil one measurement
        t1, t2 = best_time(remove(n), 3), best_time(remove(2 * n), 3)
        ratios.append(t2 / t1)
        if t2 / t1 < 3:
            break
    print("members remove-by-list %d: x%s" % (n, ", x".join("%.2f" % r for r in ratios)))
    assert min(ratios) < 3, ratios


def maximal_patch_ops(tag):
    """The largest user PATCH the caps allow: every multi-valued attribute filled to its cap."""
    ops = []
    for attr, cap in CAPS.items():
        ops.append({"op": "add", "path": attr, "value": values(attr, cap, tag)})
    return ops


@pytest.mark.slow
@pytest.mark.timing
def test_other_tenants_writes_not_held_up(server):
    """
    While tenant A sends maximal PATCHes (and the issue's 40,000-email one)
    without pause, tenant B's writes take at most a few ms more than when A
    is idle: A's work runs before the writer lock, and what runs under it is
    small and capped.
    """
    a = Scim(server, *server.new_account())
    b = Scim(server, *server.new_account())
    r = a.post("/Users", {"schemas": [USER], "userName": "victim@example.com"})
    assert r.status_code == 201, r.text
    victim = r.json()
    mine = b.user()

    def b_write(i):
        t0 = time.monotonic()
        r = b.patch("/Users/" + mine["id"], [{"op": "replace", "path": "displayName", "value": "B %d" % i}])
        took = time.monotonic() - t0
        assert r.status_code == 200, r.text[:300]
        return took

    for i in range(10):  # warm up connections and caches
        b_write(i)
    baseline = [b_write(i) for i in range(40)]

    stop = threading.Event()
    a_done = []
    huge = [{"op": "add", "path": "emails", "value": short_emails(40000)}]

    def a_loop():
        tag = 0
        while not stop.is_set():
            tag += 1
            got = [a.patch("/Users/" + victim["id"], maximal_patch_ops(tag)).status_code,
                   a.patch("/Users/" + victim["id"], [{"op": "replace", "path": attr, "value": []}
                                                      for attr in CAPS]).status_code,
                   a.patch("/Users/" + victim["id"], huge).status_code]
            a_done.append(got)

    th = threading.Thread(target=a_loop, daemon=True)
    th.start()
    time.sleep(0.3)
    during = []
    try:
        for i in range(60):
            during.append(b_write(100 + i))
    finally:
        stop.set()
        th.join(60 * SLOW)
    base_med, dur_med = statistics.median(baseline), statistics.median(during)
    base_p90, dur_p90 = sorted(baseline)[len(baseline) * 9 // 10], sorted(during)[len(during) * 9 // 10]
    print("tenant B PATCH: median %.1f ms idle, %.1f ms under A; p90 %.1f / %.1f ms; max %.1f ms (%d rounds of A)"
          % (base_med * 1e3, dur_med * 1e3, base_p90 * 1e3, dur_p90 * 1e3, max(during) * 1e3, len(a_done)))
    assert dur_med - base_med < 0.050 * SLOW, (base_med, dur_med)
    assert dur_p90 - base_p90 < 0.050 * SLOW, (base_p90, dur_p90)
    # the old engine held the writer lock for the whole PATCH: B waited 58 s once
    assert max(during) < 1.0 * SLOW, max(during)
    assert a_done, "tenant A's PATCHes did not complete"
    assert all(got == [200, 200, 400] for got in a_done), a_done


def test_concurrent_patches_lose_nothing(server):
    """
    A PATCH is computed before the writer lock on the version it read and
    written only if that version still stands (else it starts over): eight
    clients adding their own emails to one user at once all succeed, and
    every email is there at the end (a lost update would drop some).
    """
    c = Scim(server, *server.new_account())
    r = c.post("/Users", {"schemas": [USER], "userName": "shared@example.com"})
    assert r.status_code == 201, r.text
    path = "/Users/" + r.json()["id"]
    statuses, lock = [], threading.Lock()

    def worker(w):
        mine = Scim(server, c.account, {"ApiKeyId": c.key_id, "Token": c.token})
        for i in range(10):
            r = mine.patch(path, [{"op": "add", "path": "emails", "value": [{"value": "w%d-%d@x.io" % (w, i)}]}])
            with lock:
                statuses.append(r.status_code)

    threads = [threading.Thread(target=worker, args=(w,)) for w in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60 * SLOW)
    assert statuses == [200] * 80, statuses
    got = c.get(path).json()
    assert sorted(e["value"] for e in got["emails"]) == sorted("w%d-%d@x.io" % (w, i) for w in range(8)
                                                               for i in range(10))
    assert got["meta"]["version"] == 'W/"81"', got["meta"]
