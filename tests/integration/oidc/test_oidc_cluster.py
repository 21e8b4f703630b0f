"""
Two `tessera serve` nodes on one PostgreSQL database, the same master key and --base-url (as
behind a balancer), one provider, the browser talking to each node directly: the OIDC state
lives in the store, so a state issued by node A is honoured by node B exactly once, and its
second use, on either node, is refused.
"""
import time

import pytest

import oidcenv as E
import oidcop as O
import tessera_itest as T

pytestmark = [pytest.mark.cluster]


@pytest.fixture
def two_nodes(pg_cluster, tmp_path):
    store = T.PgStore(pg_cluster, tmp_path)
    dns = T.Dns(str(tmp_path)).start()
    nodes = []
    op = None
    try:
        a = E.start_server(store, dns)
        nodes.append(a)
        op = O.Op(str(tmp_path / "op"), E.clients(a.url)).start()
        env = E.Env(a, tmp_path, dns, "postgres", op=op)
        b = T.Server(store, root_token=a.root_token, port=T.free_port(),
                     extra_args=["--base-url", a.url, "--dns-server", dns.address, "--access-log", "off"])
        nodes.append(b)
        b.start()
        yield env, a, b
    finally:
        problems = []
        for n in nodes:
            problems.extend(n.shutdown_problems())
        if op is not None:
            op.stop()
        dns.stop()
        store.destroy()
        assert not problems, "\n".join(problems)


def test_state_issued_by_a_is_honoured_once_by_b(two_nodes):
    env, a, b = two_nodes
    user = env.new_person("clustered")
    browser = E.Browser()
    url = env.authorize(browser, user, base=a.url)
    r, rid = env.callback(browser, url, base=b.url)
    E.assert_signed_in(env, r, rid, browser, user)
    assert env.me(browser, base=a.url).status_code == 200, "the session is the cluster's"
    before = E.snapshot(env, [user])
    for node in (b, a):
        again = E.Browser()
        again.cookies.update({c.name: c.value for c in browser.cookies if c.name.endswith("tessera_oidc")})
        r, rid = env.callback(again, url, base=node.url)
        E.assert_refused(env, r, rid, ("State",), again, [user], before)


def test_rotation_seen_by_one_node_serves_the_other(two_nodes):
    """The JWKS refreshed by one node is stored for all (ts_store_oidc_jwks_put): after node A
    refreshed on the new kid, node B verifies the new key without a fetch of its own."""
    env, a, b = two_nodes
    user = env.new_person("rot")
    env.put_oidc_config()
    fetched = time.monotonic()
    for node in (a, b):
        br = E.Browser()
        r, rid = env.callback(br, env.authorize(br, user, base=node.url), base=node.url)
        E.assert_signed_in(env, r, rid, br, user)
    env.op.mode(jwks=["cluster-rot"], signWith={"key": "cluster-rot", "kid": True})
    # a refetch waits out TS__OIDC_JWKS_REFRESH_MIN_MS (src/oidc/web.h) after the PUT's fetch
    time.sleep(max(0.0, 10.5 - (time.monotonic() - fetched)))
    before = env.op.stats()["jwks"]
    for node in (a, b):
        br = E.Browser()
        r, rid = env.callback(br, env.authorize(br, user, base=node.url), base=node.url)
        E.assert_signed_in(env, r, rid, br, user)
    assert env.op.stats()["jwks"] == before + 1, "node B took node A's stored JWKS"
