"""
Fixtures of the authorization server's integration tests (docs/oauth.md), on
top of ../conftest.py's pg_cluster and the SAML tests' environment
(../saml/samlenv.py): a person signs in for real, over SAML with pysaml2, and
approves device codes with that browser session.

  env     (session) one server per backend: samlenv's Enterprise account
                    with its pysaml2 IdP, and the server started with
                    --device-poll-interval 1 (so that slow_down is seen in
                    seconds) and --trusted-proxy 127.0.0.1/32, so that each
                    test comes from addresses of its own (X-Forwarded-For)
                    and the per-address lockout of one test locks no other
  other   (session) a second account on the same server, its own domain and
                    IdP: a person of another account
  cli               a device-flow client (requests) from an address of its own
  person            a user of env's account signed in over SAML (a Browser
                    from an address of its own)

A missing peer (pysaml2, xmlsec1, jwcrypto) is an import or start failure,
never a skip.
"""
import os
import sys
import warnings

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "saml"))
with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    import samlenv as E  # noqa: E402
import oauthenv as O  # noqa: E402
import tessera_itest as T  # noqa: E402


@pytest.fixture(scope="session", params=["sqlite", "postgres"])
def env(request, tmp_path_factory):
    work = tmp_path_factory.mktemp("oauth-" + request.param)
    store = T.backend_store(request, work)
    with T.serving(store, work, O.start_server) as s:
        yield O.OauthEnv(E.Env(s.server, work, s.dns, request.param), store)


@pytest.fixture(scope="session")
def other(env, tmp_path_factory):
    return O.other_account(env, tmp_path_factory.mktemp("oauth-other-" + env.backend))


@pytest.fixture
def cli(env):
    return O.Cli(env.base, env.start_url)


@pytest.fixture
def person(env):
    return O.signed_in(env, env.new_user("person"))


def pytest_collection_modifyitems(config, items):
    E.quiet_pysaml2(items, os.path.dirname(os.path.abspath(__file__)))
