"""
Fixtures of the directory integration tests. Every test runs on both store
backends; the PostgreSQL cluster is the suite's `pg_cluster` (../conftest.py).

  dir_store               a fresh store: SQLite file, or a new PostgreSQL database
  dns                     dnsmasq on a free loopback port, restartable with new TXT records
  make_server             starts servers on dir_store with the DNS servers given
  srv                     tessera init + serve on that store, --dns-server = dns;
                          stopped at teardown, which must be clean and quick
"""
import pytest

import dirtest as D
import tessera_itest as T


@pytest.fixture(params=["sqlite", "postgres"])
def dir_store(request, tmp_path):
    cluster = request.getfixturevalue("pg_cluster") if request.param == "postgres" else None
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
        assert not T.sanitizer_lines(s.log()), s.log()


@pytest.fixture
def srv(make_server, dns):
    return make_server([dns.address])
