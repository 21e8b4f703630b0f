"""
Fixtures of the directory integration tests (issue 4). Every test runs on
both store backends:

  dir_pg       (session)  a PostgreSQL cluster (scripts/pg-test.sh) or TESSERA_TEST_PG_URL
  dir_store               a fresh store: SQLite file, or a new PostgreSQL database
  dns                     dnsmasq on a free loopback port, restartable with new TXT records
  srv                     tessera init + serve on that store, --dns-server = dns;
                          stopped at teardown, which must be clean and quick
"""
import os
import shutil
import tempfile

import pytest

import dirtest as D


@pytest.fixture(scope="session")
def dir_pg():
    url = os.environ.get("TESSERA_TEST_PG_URL")
    if url:
        yield D.PgCluster(url)
        return
    directory = tempfile.mkdtemp(prefix="tessera-dirtest-pg-")
    os.chmod(directory, 0o755)
    cluster = D.PgCluster.start(os.path.join(directory, "pg"))
    try:
        yield cluster
    finally:
        cluster.stop()
        shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture(params=["sqlite", "postgres"])
def dir_store(request, tmp_path):
    cluster = request.getfixturevalue("dir_pg") if request.param == "postgres" else None
    s = D.Store(request.param, str(tmp_path), cluster)
    yield s
    s.destroy()


@pytest.fixture
def dns(tmp_path):
    d = D.Dns(str(tmp_path)).start()
    yield d
    d.stop()


@pytest.fixture
def make_server(dir_store, tmp_path):
    started = []

    def make(dns_servers):
        s = D.Server(dir_store, str(tmp_path), dns_servers).init().start()
        started.append(s)
        return s

    yield make
    for s in started:
        code, took = s.stop()
        assert code == 0, "server exit %s:\n%s" % (code, s.log()[-3000:])
        assert "AddressSanitizer" not in s.log() and "runtime error" not in s.log(), s.log()


@pytest.fixture
def srv(make_server, dns):
    return make_server([dns.address])
