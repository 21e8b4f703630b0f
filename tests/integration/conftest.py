"""
Fixtures of the integration suite, built on tessera_itest (the one module
for PostgreSQL, stores, servers and peers). scim/ and directory/ add their
own fixtures in their conftest.py files on top of these.

  pg_cluster  (session)  a PostgreSQL cluster from scripts/pg-test.sh, or the
                         one TESSERA_TEST_PG_URL names; started only when a
                         postgres test runs
  backend                "sqlite" or "postgres": every store test runs on both
  store                  a fresh store: a new SQLite file in a temp dir, or a
                         new database on the cluster (dropped afterwards)
  server                 `tessera init` + `tessera serve` on that store
  start_server           starts more servers (other flags, restarts on the
                         same store); all are stopped and checked at teardown
"""
import os
import shutil
import tempfile

import pytest

import tessera_itest as T


def pytest_report_header(config):
    return "tessera binary: %s (timeout scale %.0fx)" % (T.BIN, T.SCALE)


def pytest_sessionstart(session):
    if not os.access(T.BIN, os.X_OK):
        raise pytest.UsageError("TESSERA_BIN %s is not an executable (build it first)" % T.BIN)


@pytest.fixture(scope="session")
def pg_cluster():
    url = os.environ.get("TESSERA_TEST_PG_URL")
    if url:
        cluster = T.PgCluster(url)
        try:
            yield cluster
        finally:
            cluster.close()
        return
    directory = tempfile.mkdtemp(prefix="tessera-itest-pg-")
    cluster = None
    try:
        cluster = T.PgCluster.start(directory)
        yield cluster
    finally:
        if cluster is not None:
            cluster.stop()
        shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request):
    return request.param


@pytest.fixture
def store(backend, request, tmp_path):
    if backend == "sqlite":
        s = T.SqliteStore(tmp_path)
    else:
        s = T.PgStore(request.getfixturevalue("pg_cluster"), tmp_path)
    yield s
    s.destroy()


@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    setattr(item, "rep_" + rep.when, rep)


@pytest.fixture
def start_server(store, request):
    started = []

    def start(extra_args=(), root_token=None, port=None, init=False):
        token = root_token
        if init:
            token = store.init()
        srv = T.Server(store, root_token=token, extra_args=extra_args, port=port)
        started.append(srv)
        return srv.start()

    yield start
    problems = []
    for srv in started:
        problems.extend(srv.shutdown_problems())
    rep = getattr(request.node, "rep_call", None)
    if rep is not None and rep.failed:
        for srv in started:
            print("---- %s (port %s), last lines:\n%s" % (srv.err_path, srv.port, "\n".join(srv.stderr().splitlines()[-15:])))
    assert not problems, "\n".join(problems)


@pytest.fixture
def server(start_server):
    return start_server(init=True)
