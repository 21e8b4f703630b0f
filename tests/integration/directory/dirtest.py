"""
Helpers of the directory integration tests (issue 4): a store on either
backend with direct row access for test data that SCIM will write later,
a restartable dnsmasq publishing TXT records, and a tessera server.
"""
import hashlib
import json
import os
import secrets
import signal
import socket
import sqlite3
import struct
import subprocess
import tempfile
import time
import uuid

import requests

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
BIN = os.environ.get("TESSERA_BIN", os.path.join(ROOT, "build", "tessera"))
DNSMASQ = "/usr/sbin/dnsmasq"
SCALE = float(os.environ.get("TESSERA_TEST_TIMEOUT_SCALE", "1"))


def now_ms():
    return int(time.time() * 1000)


def free_port(kind=socket.SOCK_STREAM):
    s = socket.socket(socket.AF_INET, kind)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_for(predicate, timeout=10.0, interval=0.1, what="condition"):
    deadline = time.time() + timeout * SCALE
    last = None
    while time.time() < deadline:
        last = predicate()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError("timed out waiting for %s (last: %r)" % (what, last))


# ---- PostgreSQL ------------------------------------------------------------------------------

class PgCluster:
    def __init__(self, url, directory=None):
        self.url = url  # a database the tessera role owns; the role can CREATEDB
        self.directory = directory

    @classmethod
    def start(cls, directory):
        out = subprocess.run([os.path.join(ROOT, "scripts", "pg-test.sh"), "start", directory],
                             check=True, capture_output=True, text=True, timeout=120)
        return cls(out.stdout.strip().splitlines()[-1], directory)

    def stop(self):
        if self.directory:
            subprocess.run([os.path.join(ROOT, "scripts", "pg-test.sh"), "stop", self.directory],
                           capture_output=True, timeout=60)

    def url_for(self, dbname):
        base, _, _ = self.url.rpartition("/")
        return base + "/" + dbname

    def psql(self, sql, url=None):
        out = subprocess.run(["psql", url or self.url, "-v", "ON_ERROR_STOP=1", "-At", "-F", "\t",
                              "-q", "-c", sql], capture_output=True, text=True, timeout=60)
        if out.returncode != 0:
            raise RuntimeError("psql failed: %s\n%s" % (sql, out.stderr))
        return out.stdout


def _literal(v):
    if v is None:
        return "NULL"
    if isinstance(v, bool):
        return "1" if v else "0"
    if isinstance(v, int):
        return str(v)
    return "'" + str(v).replace("'", "''") + "'"


class Store:
    """A fresh store: a SQLite file, or a new database on the cluster."""

    def __init__(self, backend, workdir, cluster=None):
        self.backend = backend
        self.workdir = workdir
        self.cluster = cluster
        if backend == "sqlite":
            self.url = os.path.join(workdir, "tessera.db")
        else:
            self.dbname = "dirtest_" + secrets.token_hex(6)
            cluster.psql("CREATE DATABASE %s" % self.dbname)
            self.url = cluster.url_for(self.dbname)

    def sql(self, query, params=()):
        """Runs one statement with %s placeholders; returns rows as tuples of text/int."""
        if self.backend == "sqlite":
            con = sqlite3.connect(self.url, timeout=30)
            try:
                cur = con.execute(query.replace("%s", "?"), params)
                rows = cur.fetchall()
                con.commit()
                return rows
            finally:
                con.close()
        text = query
        for p in params:
            text = text.replace("%s", _literal(p), 1)
        out = self.cluster.psql(text, self.url)
        return [tuple(line.split("\t")) for line in out.splitlines() if line]

    def destroy(self):
        if self.backend == "postgres":
            try:
                self.cluster.psql("DROP DATABASE IF EXISTS %s WITH (FORCE)" % self.dbname)
            except RuntimeError:
                pass

    # -- rows that SCIM will write, written here as the schema defines them --

    def add_user(self, account_id, user_name, emails=(), active=True, suspended=False,
                 status="Registered", display_name=None):
        uid = str(uuid.uuid4())
        t = now_ms()
        self.sql("INSERT INTO users (user_id, account_id, user_name, user_name_key, display_name, "
                 "active, suspended, registration_status, created_ms, modified_ms) "
                 "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                 (uid, account_id, user_name, user_name.lower(), display_name, 1 if active else 0,
                  1 if suspended else 0, status, t, t))
        for i, e in enumerate(emails):
            self.sql("INSERT INTO user_emails (user_id, account_id, value, value_key, type, "
                     "is_primary) VALUES (%s, %s, %s, %s, %s, %s)",
                     (uid, account_id, e, e.lower(), "work", 1 if i == 0 else 0))
        return uid

    def add_group(self, account_id, name):
        gid = str(uuid.uuid4())
        t = now_ms()
        self.sql("INSERT INTO groups (group_id, account_id, display_name, display_key, created_ms, "
                 "modified_ms) VALUES (%s, %s, %s, %s, %s, %s)",
                 (gid, account_id, name, name.lower(), t, t))
        return gid

    def add_member(self, group_id, user_id):
        self.sql("INSERT INTO group_members (group_id, user_id) VALUES (%s, %s)",
                 (group_id, user_id))

    def add_api_key(self, account_id):
        self.sql("INSERT INTO api_keys (api_key_id, account_id, secret_hash, created_ms) "
                 "VALUES (%s, %s, %s, %s)",
                 ("k-" + secrets.token_hex(8), account_id, "0" * 64, now_ms()))

    def add_session(self, account_id, user_id, license="Pro"):
        """A live session as the sign-in will create it; returns its ID."""
        sid = str(uuid.uuid4())
        token = "tss_" + secrets.token_urlsafe(32)
        t = now_ms()
        self.sql("INSERT INTO sessions (session_id, token_hash, account_id, user_id, kind, license, "
                 "created_ms, expires_ms, license_checked_ms) "
                 "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
                 (sid, hashlib.sha256(token.encode()).hexdigest(), account_id, user_id, "browser",
                  license, t, t + 3600 * 1000, t))
        return sid

    def session_revoked(self, session_id):
        rows = self.sql("SELECT coalesce(revoked_ms, 0) FROM sessions WHERE session_id = %s",
                        (session_id,))
        assert rows, "session %s is gone" % session_id
        return int(rows[0][0]) != 0

    def user_row(self, user_id):
        rows = self.sql("SELECT registration_status, suspended, personal_pin FROM users "
                        "WHERE user_id = %s", (user_id,))
        return rows[0] if rows else None


# ---- DNS -------------------------------------------------------------------------------------

class Dns:
    """dnsmasq on a free loopback port; publish() restarts it with new TXT records."""

    def __init__(self, workdir):
        self.workdir = workdir
        self.port = None
        self.proc = None
        self.records = {}

    def _spawn(self):
        args = [DNSMASQ, "--no-daemon", "--no-resolv", "--no-hosts", "--conf-file=/dev/null",
                "--port=%d" % self.port, "--listen-address=127.0.0.1", "--bind-interfaces",
                "--log-facility=" + os.path.join(self.workdir, "dnsmasq.log")]
        if os.getuid() == 0:
            args.append("--user=root")
        for name, values in sorted(self.records.items()):
            for v in values:
                args.append("--txt-record=%s,%s" % (name, v))
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def answers(self):
        """True once dnsmasq answers a query (any answer) on its port."""
        q = struct.pack(">HHHHHH", 0x1234, 0x0100, 1, 0, 0, 0)
        for label in b"probe.invalid".split(b"."):
            q += bytes([len(label)]) + label
        q += b"\x00" + struct.pack(">HH", 16, 1)
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.settimeout(0.2)
        try:
            s.sendto(q, ("127.0.0.1", self.port))
            return len(s.recv(512)) >= 12
        except OSError:
            return False
        finally:
            s.close()

    def _ready(self):
        for _ in range(50):
            if self.proc.poll() is not None:
                return False
            if self.answers():
                return True
        return False

    def start(self):
        for _ in range(10):
            self.port = free_port(socket.SOCK_DGRAM)
            self._spawn()
            if self._ready():
                return self
            self.stop()
        raise RuntimeError("dnsmasq would not start")

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)
        self.proc = None

    def publish(self, name, *values):
        """Sets the TXT values of name (none: withdraws them) and restarts on the same port."""
        if values:
            self.records[name] = list(values)
        else:
            self.records.pop(name, None)
        self.stop()
        for _ in range(50):
            self._spawn()
            if self._ready():
                return
            self.stop()
            time.sleep(0.1)
        raise RuntimeError("dnsmasq would not restart on port %d" % self.port)

    @property
    def address(self):
        return "127.0.0.1:%d" % self.port


class SilentDns:
    """A bound UDP socket that never answers: a DNS server that is down."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.address = "127.0.0.1:%d" % self.sock.getsockname()[1]

    def close(self):
        self.sock.close()


# ---- the server ------------------------------------------------------------------------------

class Server:
    def __init__(self, store, workdir, dns_servers=()):
        self.store = store
        self.workdir = workdir
        self.key_file = os.path.join(workdir, "tessera.key")
        self.dns_servers = list(dns_servers)
        self.proc = None
        self.token = None
        self.base = None

    def init(self):
        out = subprocess.run([BIN, "init", "--db", self.store.url, "--master-key-file",
                              self.key_file, "--json"], capture_output=True, text=True,
                             timeout=60, check=True)
        self.token = json.loads(out.stdout.strip().splitlines()[-1])["Token"]
        return self

    def start(self):
        port = free_port()
        args = [BIN, "serve", "--listen", "127.0.0.1:%d" % port, "--db", self.store.url,
                "--master-key-file", self.key_file, "--access-log", "off", "--workers", "4"]
        for d in self.dns_servers:
            args += ["--dns-server", d]
        self.stderr = open(os.path.join(self.workdir, "serve.err"), "w")
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=self.stderr)
        self.base = "http://127.0.0.1:%d" % port
        wait_for(self._healthy, 15, what="server health")
        return self

    def _healthy(self):
        if self.proc.poll() is not None:
            raise AssertionError("server exited: " + self.log())
        try:
            return requests.get(self.base + "/healthz", timeout=1).status_code == 200
        except requests.RequestException:
            return False

    def log(self):
        with open(os.path.join(self.workdir, "serve.err")) as f:
            return f.read()

    def stop(self, timeout=15):
        """SIGTERM; returns (exit code, seconds taken)."""
        if self.proc is None:
            return 0, 0.0
        t = time.time()
        self.proc.send_signal(signal.SIGTERM)
        try:
            code = self.proc.wait(timeout * SCALE)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            code = "hung"
        self.proc = None
        self.stderr.close()
        return code, time.time() - t

    def call(self, method, path, body=None, token=None, params=None, expect=None):
        r = requests.request(method, self.base + path, json=body, params=params, timeout=30,
                             headers={"Authorization": "Bearer " + (token or self.token)})
        if expect is not None:
            assert r.status_code == expect, "%s %s -> %d %s" % (method, path, r.status_code,
                                                              r.text)
        return r

    def j(self, method, path, body=None, expect=200, **kw):
        r = self.call(method, path, body, expect=expect, **kw)
        return r.json() if r.content else None

    # -- shortcuts --
    def account(self, name="acme", type_="Team"):
        return self.j("POST", "/api/v1/accounts", {"Name": name, "AccountType": type_},
                      expect=201)["Account"]["AccountId"]

    def admin_key(self, policy):
        return self.j("POST", "/api/v1/admin-keys", {"Policies": [policy]},
                      expect=201)["AdminKey"]["Token"]

    def events(self, name):
        return self.j("GET", "/api/v1/audit-events", params={"eventName": name})["Events"]

    def domain(self, acct, name):
        return self.j("GET", "/api/v1/accounts/%s/domains/%s" % (acct, name))["Domain"]

    def verify_domain(self, dns, acct, name, timeout=15):
        """AddDomain, publish its TXT record in dnsmasq, ?operation=verify, wait for Verified."""
        rec = self.j("POST", "/api/v1/accounts/%s/domains" % acct, {"DomainName": name},
                     expect=201)["Domain"]["VerificationRecord"]
        dns.publish(rec["Name"], rec["Value"])
        self.j("POST", "/api/v1/accounts/%s/domains/%s" % (acct, name),
               params={"operation": "verify"}, expect=202)
        return wait_for(lambda: self.domain(acct, name)["DomainStatus"] == "Verified" and
                        self.domain(acct, name), timeout, what="%s Verified" % name)
