"""
Helpers of the directory integration tests: a store on either backend (from
tessera_itest) with direct row access for test data that SCIM will write
later, and a tessera server with the directory's shortcuts. dnsmasq and the
rest come from tessera_itest, the suite's one fixture module.
"""
import hashlib
import secrets
import time
import uuid

import requests

import tessera_itest as T
from tessera_itest import Dns, SilentDns, now_ms, wait_for  # noqa: F401 (the tests use them as D.*)

BIN = T.EXE


def _literal(v):
    if v is None:
        return "NULL"
    if isinstance(v, bool):
        return "1" if v else "0"
    if isinstance(v, int):
        return str(v)
    return "'" + str(v).replace("'", "''") + "'"


class Store:
    """A fresh store: a SQLite file, or a new database on the suite's cluster."""

    def __init__(self, backend, workdir, cluster=None):
        self.backend = backend
        self.workdir = str(workdir)
        self.base = T.SqliteStore(workdir) if backend == "sqlite" else T.PgStore(cluster, workdir)
        self.url = self.base.db

    def sql(self, query, params=()):
        """Runs one statement with %s placeholders; returns rows as tuples of text/int."""
        if self.backend == "sqlite":
            return self.base.sql(query.replace("%s", "?"), params)[0]
        text = query
        for p in params:
            text = text.replace("%s", _literal(p), 1)
        return self.base.sql(text)[0]

    def destroy(self):
        self.base.destroy()

    # -- rows that SCIM will write, written here as the schema defines them --

    def add_user(self, account_id, user_name, emails=(), active=True, suspended=False,
                 status="Registered", display_name=None):
        uid = str(uuid.uuid4())
        t = now_ms()
        # a Registered user has signed in once: RegisteredOn (joined_ms) is set (SPEC §4)
        self.sql("INSERT INTO users (user_id, account_id, user_name, user_name_key, display_name, "
                 "active, suspended, registration_status, joined_ms, created_ms, modified_ms) "
                 "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                 (uid, account_id, user_name, user_name.lower(), display_name, 1 if active else 0,
                  1 if suspended else 0, status, t if status == "Registered" else None, t, t))
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


class Server(T.Server):
    """tessera_itest.Server on a Store, with --dns-server and the directory's shortcuts."""

    def __init__(self, store, workdir, dns_servers=()):
        args = ["--access-log", "off", "--workers", "4"]
        for d in dns_servers:
            args += ["--dns-server", d]
        super().__init__(store.base, extra_args=args)
        self.token = None

    def init(self):
        self.token = self.root_token = self.store.init()
        return self

    @property
    def base(self):
        return self.url

    def log(self):
        return self.stderr()

    def stop(self, timeout=15):
        """SIGTERM; returns (exit code or "hung", seconds taken)."""
        if self.proc is None:
            return 0, 0.0
        t = time.time()
        code = self.terminate(timeout)
        return ("hung" if code is None else code), time.time() - t

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
