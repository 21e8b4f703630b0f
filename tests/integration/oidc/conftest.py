"""
Fixtures of the OIDC sign-in tests (on top of ../conftest.py's pg_cluster; the set-up is
../saml/samlenv.py's, see oidcenv.py). Every test that needs the store runs on both backends.

  env     (session) one server per backend for the folder: an Enterprise account with
                    example.com verified (dnsmasq), SCIM groups mapped to Pro and Basic, and
                    its identity source a real oidc-provider 8.8.1 (op/op.mjs) on a free
                    loopback port, configured with PUT openid-config
  browser           a fresh cookie jar (one browser)

A test that makes the provider misbehave or changes the configuration puts it back with
env.restore() (the autouse fixture below does it after every test).
A missing peer (node, the npm package, pysaml2 for the shared set-up) fails, never skips.
"""
import pytest

import oidcenv as E
import oidcop as O
import tessera_itest as T


def pytest_configure(config):
    problem = O.check_installed()
    if problem:
        raise pytest.UsageError(problem)


@pytest.fixture(scope="session", params=["sqlite", "postgres"])
def env(request, tmp_path_factory):
    work = tmp_path_factory.mktemp("oidc-" + request.param)
    store = T.SqliteStore(work) if request.param == "sqlite" else T.PgStore(request.getfixturevalue("pg_cluster"), work)
    dns = T.Dns(str(work)).start()
    srv = None
    op = None
    try:
        srv = E.start_server(store, dns)
        op = O.Op(str(work / "op"), E.clients(srv.url)).start()
        yield E.Env(srv, work, dns, request.param, op=op)
    finally:
        problems = srv.shutdown_problems() if srv is not None else []
        if op is not None:
            op.stop()
        dns.stop()
        store.destroy()
        if srv is not None and problems:
            print("---- %s, last lines:\n%s" % (srv.err_path, "\n".join(srv.stderr().splitlines()[-20:])))
        assert not problems, "\n".join(problems)


@pytest.fixture
def browser():
    b = E.Browser()
    yield b
    b.close()


@pytest.fixture
def behave(env):
    """The provider behaves and the configuration is the env's own again after the test."""
    yield env
    env.restore()
