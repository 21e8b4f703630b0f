"""
Fixtures of the portal tests (on top of ../conftest.py's pg_cluster; the set-up is
../saml/samlenv.py's and ../oidc/oidcenv.py's, see portalenv.py).

  env       (session) a server per backend whose account signs in over SAML (pysaml2),
                      named `env` as in ../saml, so that its browser fixtures apply
  oidc_env  (session) a server (SQLite) whose account signs in over OpenID Connect
                      (oidc-provider)
  browser             a fresh cookie jar (one browser)

A missing peer (pysaml2, oidc-provider's npm package, chromium) fails, never skips.
"""
import pytest

import portalenv as P
import tessera_itest as T


def pytest_configure(config):
    problem = P.O.check_installed()
    if problem:
        raise pytest.UsageError(problem)


def _finish(srv, store, dns, op=None):
    problems = srv.shutdown_problems() if srv is not None else []
    if op is not None:
        op.stop()
    dns.stop()
    store.destroy()
    if srv is not None and problems:
        print("---- %s, last lines:\n%s" % (srv.err_path, "\n".join(srv.stderr().splitlines()[-20:])))
    assert not problems, "\n".join(problems)


@pytest.fixture(scope="session", params=["sqlite", "postgres"])
def env(request, tmp_path_factory):
    work = tmp_path_factory.mktemp("portal-saml-" + request.param)
    store = T.SqliteStore(work) if request.param == "sqlite" else T.PgStore(request.getfixturevalue("pg_cluster"), work)
    dns = T.Dns(str(work)).start()
    srv = None
    try:
        srv = P.S.start_server(store, dns)
        yield P.S.Env(srv, work, dns, request.param)
    finally:
        _finish(srv, store, dns)


@pytest.fixture(scope="session")
def oidc_env(tmp_path_factory):
    work = tmp_path_factory.mktemp("portal-oidc")
    store = T.SqliteStore(work)
    dns = T.Dns(str(work)).start()
    srv = op = None
    try:
        srv = P.S.start_server(store, dns)
        op = P.O.Op(str(work / "op"), P.OE.clients(srv.url)).start()
        yield P.OE.Env(srv, work, dns, "sqlite", op=op)
    finally:
        _finish(srv, store, dns, op)


@pytest.fixture
def browser():
    b = P.Browser()
    yield b
    b.close()


def pytest_collection_modifyitems(config, items):
    # pysaml2 7.0.1 on Python 3.11 warns about its own template loading at run time
    here = P.HERE
    mark = pytest.mark.filterwarnings("ignore:pathlib.Path.__enter__:DeprecationWarning")
    for item in items:
        if str(item.path).startswith(here):
            item.add_marker(mark)
