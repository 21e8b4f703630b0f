"""
Fixtures of the SCIM tests (they override the suite's `server`; the
PostgreSQL cluster is the suite's `pg_cluster`, from ../conftest.py).

  server    one `tessera serve` per backend per session (init + serve on a fresh
            store): "sqlite", "postgres", and for the Okta run also "balanced"
            (two nodes behind nginx)
  scim      per test: a fresh account, an API key for it, and a client for /scim/v2
  strict    the same for an account with the aws-strict compatibility profile
"""
import pytest

from scimtest import Balanced, Scim, Server


def pytest_generate_tests(metafunc):
    # every SCIM test runs on both stores; the Okta run also through a balancer
    if "server" in metafunc.fixturenames:
        params = ["sqlite", "postgres"]
        if metafunc.module.__name__.endswith("test_okta"):
            params.append(pytest.param("balanced", marks=[pytest.mark.cluster, pytest.mark.slow]))
        metafunc.parametrize("server", params, indirect=True, scope="session")


@pytest.fixture(scope="session")
def server(request, tmp_path_factory):
    work = str(tmp_path_factory.mktemp("scim-" + request.param))
    cluster = dbname = None
    if request.param == "sqlite":
        db = work + "/store.db"
    else:
        cluster = request.getfixturevalue("pg_cluster")
        dbname = cluster.acquire_db()
        db = cluster.url_for(dbname)
    srv = Balanced(db, work) if request.param == "balanced" else Server(db, work)
    srv.backend = request.param
    try:
        yield srv
    finally:
        try:
            srv.stop()
        finally:
            if dbname is not None:
                cluster.release_db(dbname)


@pytest.fixture
def scim(server):
    acct, key = server.new_account()
    return Scim(server, acct, key)


@pytest.fixture
def strict(server):
    acct, key = server.new_account("aws-strict")
    return Scim(server, acct, key)
