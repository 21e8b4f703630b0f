"""
Fixtures of the SAML integration tests (on top of ../conftest.py's
pg_cluster). Every test that needs the store runs on both backends.

  env     (session) one server per backend for the folder, set up by samlenv.Env:
                    an Enterprise account with example.com verified (dnsmasq),
                    SCIM users and groups mapped to Pro and Basic, the pysaml2
                    IdP's metadata loaded, Tessera's SP metadata in the IdP, the
                    forge and Lasso
  browser           a fresh cookie jar (one browser)

A test that changes the identity source (metadata, settings, SP key) puts it
back with env.restore() or env.settings(...) in a finally; the victim and
Mallory of samlcases never sign in.

A missing peer (pysaml2, Lasso, xmlsec1, chromium) is an import or start
failure, never a skip.
"""
import os
import shutil
import warnings

import pytest

with warnings.catch_warnings():
    # pysaml2 7.0.1 on Python 3.11 warns about its own schema loading at import
    warnings.simplefilter("ignore", DeprecationWarning)
    import samlenv as E
import tessera_itest as T


@pytest.fixture(scope="session", params=["sqlite", "postgres"])
def env(request, tmp_path_factory):
    work = tmp_path_factory.mktemp("saml-" + request.param)
    with T.serving(T.backend_store(request, work), work, E.start_server) as s:
        yield E.Env(s.server, work, s.dns, request.param)


@pytest.fixture
def browser():
    b = E.Browser()
    yield b
    b.close()


def pytest_configure(config):
    for exe in ("/usr/bin/xmlsec1", "/usr/bin/openssl"):
        if not shutil.which(exe):
            raise pytest.UsageError("%s is missing (scripts/deps.sh installs the SAML test peers)" % exe)


def pytest_collection_modifyitems(config, items):
    E.quiet_pysaml2(items, os.path.dirname(os.path.abspath(__file__)))
