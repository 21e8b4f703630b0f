"""
Two `tessera serve` nodes on one PostgreSQL database with the same master key
and --base-url (as behind a balancer): a flow started on node A and approved
through A is answered on node B; a code consumed on B is used on A too; the
slow_down state is the cluster's; a refresh token rotated on A is spent on B.
"""
import time

import pytest

import oauthenv as O
import samlenv as E
import tessera_itest as T

pytestmark = [pytest.mark.cluster]


@pytest.fixture
def two_nodes(pg_cluster, tmp_path):
    store = T.PgStore(pg_cluster, tmp_path)
    with T.serving(store, tmp_path, O.start_server) as s:
        env = O.OauthEnv(E.Env(s.server, tmp_path, s.dns, "postgres"), store)
        yield env, s.server, s.second_node(store, ["--device-poll-interval", "1", "--trusted-proxy", "127.0.0.1/32"])


def test_poll_answered_by_the_other_node(two_nodes):
    env, a, b = two_nodes
    on_a = O.Cli(a.url, env.start_url)
    on_b = O.Cli(b.url, env.start_url, address=on_a.headers["X-Forwarded-For"])
    flow = on_a.authorize()
    assert O.oauth_error(on_b.poll(flow["device_code"])) == "authorization_pending"
    assert O.oauth_error(on_a.poll(flow["device_code"])) == "slow_down"  # B's poll counts on A
    person = O.signed_in(env, env.new_user("clustered"))
    O.decide(person, a.url, flow["user_code"])
    time.sleep(6.2)  # the interval is 6 s after that slow_down
    r = on_b.poll(flow["device_code"])
    assert r.status_code == 200, r.text
    t = r.json()
    time.sleep(1.05)
    assert O.oauth_error(on_a.poll(flow["device_code"])) == "invalid_grant"
    assert on_a.me(t["access_token"]).status_code == 200
    # rotated on A, the spent token at once on B (two refreshes at once): refused, nothing revoked
    t2 = on_a.refresh(t["refresh_token"]).json()
    assert O.oauth_error(on_b.refresh(t["refresh_token"])) == "invalid_grant"
    r = on_b.refresh(t2["refresh_token"])
    assert r.status_code == 200, r.text
    t3 = r.json()
    # its successor used, the spent token comes back on A: the family dies on both
    assert O.oauth_error(on_a.refresh(t["refresh_token"])) == "invalid_grant"
    assert O.oauth_error(on_b.refresh(t3["refresh_token"])) == "invalid_grant"
    assert on_a.me(t3["access_token"]).status_code == 401
