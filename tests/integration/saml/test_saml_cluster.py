"""
Two `tessera serve` nodes on one PostgreSQL database, the same master key and
the same --base-url (as behind a balancer), the browser talking to each node
directly: the replay cache and the issued AuthnRequests live in the store,
so a response accepted by node A is a replay on node B, and a request issued
by A is honoured by B once.
"""
import pytest

import samlenv as E
import tessera_itest as T

pytestmark = [pytest.mark.cluster]


@pytest.fixture
def two_nodes(pg_cluster, tmp_path):
    store = T.PgStore(pg_cluster, tmp_path)
    with T.serving(store, tmp_path, E.start_server) as s:
        env = E.Env(s.server, tmp_path, s.dns, "postgres")
        yield env, s.server, s.second_node(store)


def test_accepted_on_a_is_a_replay_on_b(two_nodes):
    env, a, b = two_nodes
    user = env.new_user("clustered")
    env.settings(AllowIdpInitiated=True)
    xml = env.idp.response(user["name"], None)
    first = E.Browser()
    r, rid = env.acs(first, xml, base=a.url)
    E.assert_signed_in(env, r, rid, first, user, "Pro")
    assert env.me(first, base=b.url).status_code == 200, "the session is the cluster's"
    after = {user["id"]: env.user_state(user["id"])}
    second = E.Browser()
    r, rid = env.acs(second, xml, base=b.url)
    E.assert_refused(env, r, rid, ("Replay",), second, [user], after)


def test_request_issued_by_a_is_honoured_once_by_b(two_nodes):
    env, a, b = two_nodes
    user = env.new_user("once")
    browser = E.Browser()
    req = env.login(browser, base=a.url)
    r, rid = env.acs(browser, env.idp.response(user["name"], req.id), base=b.url)
    E.assert_signed_in(env, r, rid, browser, user, "Pro")
    # a second, fresh response to the same request, on either node, from the same browser
    after = {user["id"]: env.user_state(user["id"]), env.victim["id"]: env.user_state(env.victim["id"])}
    for node in (b, a):
        again = E.Browser()
        again.cookies.update({c.name: c.value for c in browser.cookies if c.name.endswith("saml_binding")})
        r, rid = env.acs(again, env.idp.response(env.victim["name"], req.id), base=node.url)
        E.assert_refused(env, r, rid, ("RequestUnknown",), again, [user, env.victim], after)
