"""
The one fixture module of the Tessera integration suite (tests/integration/
and its scim/ and directory/ folders): the binary and its command line, the
PostgreSQL cluster (scripts/pg-test.sh or TESSERA_TEST_PG_URL) and the stores
on it or in a SQLite file, a running `tessera serve`, several nodes behind
nginx, and dnsmasq as a DNS server. conftest.py turns them into fixtures.

Everything here talks to the real binary over its command line and HTTP.
"""
import atexit
import contextlib
import glob
import json
import os
import queue
import re
import shutil
import signal
import socket
import sqlite3
import struct
import subprocess
import tempfile
import threading
import time
import urllib.parse
import uuid

import requests

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.environ.get("TESSERA_BIN", os.path.join(REPO, "build", "tessera"))


def _private_exe(path):
    """
    The binary under a name of our own (a symlink): other people on this
    machine stop their servers with `pkill tessera`, which must not hit ours.
    """
    d = os.path.join(tempfile.gettempdir(), "itest-bin-%d" % os.getpid())
    os.makedirs(d, exist_ok=True)
    link = os.path.join(d, "tsd")
    if os.path.lexists(link):
        os.unlink(link)
    os.symlink(os.path.realpath(path), link)
    atexit.register(shutil.rmtree, d, True)
    return link


EXE = _private_exe(BIN) if os.access(BIN, os.X_OK) else BIN
PG_TEST_SH = os.path.join(REPO, "scripts", "pg-test.sh")


def _binary_has_sanitizers(path):
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError:
        return False
    return b"__asan_init" in data or b"__ubsan_handle" in data


# Sanitizer builds are several times slower: every timeout is scaled.
SCALE = float(os.environ.get("TESSERA_TEST_TIMEOUT_SCALE", "0") or 0) or (
    3.0 if _binary_has_sanitizers(BIN) else 1.0
)
HTTP_TIMEOUT = 30 * SCALE

SANITIZER_MARKERS = ("AddressSanitizer", "LeakSanitizer", "runtime error", "UndefinedBehaviorSanitizer")
UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def sanitizer_lines(text):
    return [l for l in text.splitlines() if any(m in l for m in SANITIZER_MARKERS)]


def clean_env(extra=None):
    """The environment without TESSERA_* settings (but with the suite's own TESSERA_TEST_*)."""
    # TESSERA_SQLITE_TUNING passes too: make check runs the suite once with it off (docs/store.md)
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("TESSERA_") or k.startswith("TESSERA_TEST_") or k == "TESSERA_SQLITE_TUNING"}
    if extra:
        env.update(extra)
    return env


# Each command runs in an empty directory of its own unless a test names one: the defaults
# `tessera.db` and `tessera.key` are relative, and a checkout where `make run` ran (or an
# earlier command that wrote them) has both.
CLI_CWD = tempfile.mkdtemp(prefix="tessera-itest-cwd-")
atexit.register(shutil.rmtree, CLI_CWD, True)


def run_cli(*args, env=None, timeout=60, check_sanitizers=True, cwd=None):
    """Runs `tessera ARGS`; returns the CompletedProcess (text mode)."""
    full_env = clean_env(env)  # only what the test sets reaches the binary
    if cwd is None:
        cwd = tempfile.mkdtemp(dir=CLI_CWD)
    p = subprocess.run(
        [EXE, *[str(a) for a in args]],
        capture_output=True,
        text=True,
        timeout=timeout * SCALE,
        env=full_env,
        cwd=cwd,
    )
    if check_sanitizers:
        bad = sanitizer_lines(p.stderr)
        assert not bad, "sanitizer report from tessera %s:\n%s" % (" ".join(map(str, args)), p.stderr)
    return p


def cli_json(*args, **kw):
    p = run_cli(*args, **kw)
    assert p.returncode == 0, "tessera %s failed (%d): %s" % (" ".join(map(str, args)), p.returncode, p.stderr)
    return json.loads(p.stdout)


def free_port(kind=socket.SOCK_STREAM):
    s = socket.socket(socket.AF_INET, kind)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def now_ms():
    return int(time.time() * 1000)


def wait_for(predicate, timeout=10.0, interval=0.1, what="condition"):
    """predicate()'s first true value, polled until timeout (scaled); an AssertionError after."""
    deadline = time.monotonic() + timeout * SCALE
    last = None
    while time.monotonic() < deadline:
        last = predicate()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError("timed out waiting for %s (last: %r)" % (what, last))


def psql_binary():
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/psql"), key=lambda p: [int(x) for x in re.findall(r"\d+", p)])
    if found:
        return found[-1]
    p = shutil.which("psql")
    if p:
        return p
    raise RuntimeError("psql not found")


# ---------------------------------------------------------------- stores


class SqliteStore:
    kind = "sqlite"

    def __init__(self, workdir):
        self.dir = str(workdir)
        self.db = os.path.join(self.dir, "store.db")
        self.key = os.path.join(self.dir, "master.key")

    def sql(self, query, params=()):
        """Runs one statement directly on the file; returns (rows, rowcount)."""
        con = sqlite3.connect(self.db, timeout=30)
        try:
            cur = con.execute(query, params)
            rows = cur.fetchall()
            con.commit()
            return rows, cur.rowcount
        finally:
            con.close()

    def init(self):
        """`tessera init --json`: returns the first admin key's token."""
        out = cli_json("init", "--db", self.db, "--master-key-file", self.key, "--json")
        assert set(out) >= {"AccessKeyId", "Token"}, out
        return out["Token"]

    def destroy(self):
        pass


class PgStore(SqliteStore):
    kind = "postgres"

    def __init__(self, cluster, workdir):
        self.cluster = cluster
        self.dir = str(workdir)
        self.key = os.path.join(self.dir, "master.key")
        self.dbname = cluster.acquire_db()
        self.db = cluster.url_for(self.dbname)

    def sql(self, query, params=()):
        assert not params, "PgStore.sql takes literal SQL"
        out = self.cluster.psql(query, db=self.dbname)
        m = re.fullmatch(r"\s*(?:UPDATE|DELETE|INSERT \d+) (\d+)\s*", out)
        if m:
            return [], int(m.group(1))
        if out.endswith("\n"):
            out = out[:-1]
        rows = [tuple(r.split("\x1f")) for r in out.split("\x1e") if r != ""]
        return rows, len(rows)

    def destroy(self):
        self.cluster.release_db(self.dbname)


class PgCluster:
    """A throwaway cluster from scripts/pg-test.sh, or TESSERA_TEST_PG_URL."""

    def __init__(self, base_url, sockdir=None, port=None, started_dir=None):
        self.base_url = base_url
        self.sockdir = sockdir
        self.port = port
        self.started_dir = started_dir
        self.psql_bin = psql_binary()
        u = urllib.parse.urlsplit(base_url)
        self.owner = u.username or "tessera"
        # Databases are made and dropped by a helper thread, ahead of and
        # after the tests, so that the tests do not wait for it.
        self._ready = queue.Queue()
        self._work = queue.Queue()
        self._ahead = 2
        self._failure = None
        self._thread = None

    def _worker(self):
        while True:
            op, name = self._work.get()
            try:
                if op == "stop":
                    return
                if op == "create":
                    name = "t_" + uuid.uuid4().hex[:16]
                    self.admin("CREATE DATABASE %s OWNER %s" % (name, self.owner))
                    self._ready.put(name)
                elif op == "drop":
                    try:
                        self.admin("DROP DATABASE IF EXISTS %s WITH (FORCE)" % name)
                    except RuntimeError:
                        self.admin("DROP DATABASE IF EXISTS %s" % name)
            except Exception as ex:  # handed to the next acquire_db
                self._failure = ex
                self._ready.put(None)
            finally:
                self._work.task_done()

    def acquire_db(self):
        """A new, empty database owned by the store role."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._worker, daemon=True)
            self._thread.start()
            for _ in range(self._ahead):
                self._work.put(("create", None))
        self._work.put(("create", None))
        name = self._ready.get(timeout=300)
        if name is None:
            raise RuntimeError("cannot create a test database: %s" % self._failure)
        return name

    def release_db(self, name):
        self._work.put(("drop", name))

    def close(self):
        """Drops the databases made ahead and waits for every pending drop."""
        if self._thread is None:
            return
        self._work.join()
        while not self._ready.empty():
            name = self._ready.get()
            if name:
                self._work.put(("drop", name))
        self._work.put(("stop", None))
        self._thread.join(timeout=120)

    @classmethod
    def start(cls, directory):
        p = subprocess.run(["sh", PG_TEST_SH, "start", directory], capture_output=True, text=True, timeout=180)
        if p.returncode != 0:
            raise RuntimeError("pg-test.sh start failed: %s %s" % (p.stdout, p.stderr))
        with open(os.path.join(directory, "port")) as f:
            port = f.read().strip()
        # a role of the suite's own (the URL then does not say "tessera" either)
        url = "postgresql://itest:itest@127.0.0.1:%s/postgres" % port
        with open(os.path.join(directory, "sockdir")) as f:
            sockdir = f.read().strip()
        c = cls(url, sockdir=sockdir, port=port, started_dir=directory)
        c.admin("CREATE ROLE itest LOGIN CREATEDB PASSWORD 'itest'")
        return c

    def stop(self):
        self.close()
        if self.started_dir:
            subprocess.run(["sh", PG_TEST_SH, "stop", self.started_dir], capture_output=True, timeout=120)

    def url_for(self, dbname):
        u = urllib.parse.urlsplit(self.base_url)
        return urllib.parse.urlunsplit((u.scheme, u.netloc, "/" + dbname, u.query, u.fragment))

    def psql(self, sql, db="postgres"):
        if self.sockdir:
            cmd = [self.psql_bin, "-h", self.sockdir, "-p", str(self.port), "-U", "postgres", "-d", db]
            if os.getuid() == 0:
                cmd = ["runuser", "-u", "postgres", "--"] + cmd
        else:
            cmd = [self.psql_bin, self.url_for(db)]
        cmd += ["-X", "-v", "ON_ERROR_STOP=1", "-A", "-t", "-F", "\x1f", "-R", "\x1e", "-c", sql]
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
        if p.returncode != 0:
            raise RuntimeError("psql failed: %s\n%s" % (sql, p.stderr))
        return p.stdout

    def admin(self, sql):
        return self.psql(sql, db="postgres")


# ---------------------------------------------------------------- server


class ServerStartError(Exception):
    pass


class Server:
    """One `tessera serve` process on 127.0.0.1."""

    def __init__(self, store, root_token=None, extra_args=(), port=None):
        self.store = store
        self.root_token = root_token
        self.extra_args = list(extra_args)
        self.port = port
        self.proc = None
        self.killed = False
        self.stopped_rc = None
        self._local = threading.local()
        n = getattr(store, "_servers", 0) + 1
        store._servers = n
        self.out_path = os.path.join(store.dir, "serve-%d.out" % n)
        self.err_path = os.path.join(store.dir, "serve-%d.err" % n)

    @property
    def url(self):
        return "http://127.0.0.1:%d" % self.port

    @property
    def db(self):
        return self.store.db

    @property
    def key_file(self):
        return self.store.key

    def argv(self):
        return [
            EXE, "serve", "--listen", "127.0.0.1:%d" % self.port, "--db", self.store.db,
            "--master-key-file", self.store.key, *self.extra_args,
        ]

    def start(self):
        fixed = self.port is not None
        for attempt in range(5):
            if not fixed:
                self.port = free_port()
            env = clean_env()
            self._out = open(self.out_path, "w")
            self._err = open(self.err_path, "w")
            self.proc = subprocess.Popen(self.argv(), stdout=self._out, stderr=self._err, env=env)
            try:
                self.wait_healthy()
                return self
            except ServerStartError:
                err = self.stderr()
                if not fixed and "cannot listen" in err and attempt < 4:
                    continue  # somebody took the port meanwhile
                raise

    def wait_healthy(self, timeout=15):
        deadline = time.monotonic() + timeout * SCALE
        while time.monotonic() < deadline:
            rc = self.proc.poll()
            if rc is not None:
                raise ServerStartError("tessera serve exited with %d:\n%s" % (rc, self.stderr()))
            try:
                r = requests.get(self.url + "/healthz", timeout=2 * SCALE)
                if r.status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.02)
        self.proc.kill()
        self.proc.wait()
        raise ServerStartError("tessera serve did not become healthy:\n%s" % self.stderr())

    def stderr(self):
        try:
            with open(self.err_path, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def stdout(self):
        try:
            with open(self.out_path, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def terminate(self, timeout=20):
        """SIGTERM and wait; returns the exit status (None if it had to be killed)."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.stopped_rc = self.proc.wait(timeout=timeout * SCALE)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                self.stopped_rc = None
        else:
            self.stopped_rc = self.proc.returncode
        self._close_files()
        return self.stopped_rc

    def kill9(self):
        self.killed = True
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()
        self._close_files()

    def _close_files(self):
        for f in (getattr(self, "_out", None), getattr(self, "_err", None)):
            if f is not None and not f.closed:
                f.close()

    def shutdown_problems(self):
        """Stops the server (if still running) and lists what was wrong with its exit."""
        problems = []
        if self.proc is None:
            return problems
        already = self.proc.poll() is not None
        rc = self.terminate()
        if self.killed:
            return problems
        if rc is None:
            problems.append("tessera serve (port %s) did not exit after SIGTERM" % self.port)
        elif rc != 0 and not already:
            problems.append("tessera serve (port %s) exited with %s after SIGTERM" % (self.port, rc))
        elif rc != 0 and already:
            problems.append("tessera serve (port %s) died on its own with %s" % (self.port, rc))
        bad = sanitizer_lines(self.stderr())
        if bad:
            problems.append("sanitizer report from tessera serve:\n" + "\n".join(bad[:20]))
        return problems

    # ---- HTTP

    def session(self):
        s = getattr(self._local, "session", None)
        if s is None:
            s = requests.Session()
            self._local.session = s
        return s

    def request(self, method, path, token="root", json_body=None, data=None, headers=None, params=None, timeout=None):
        h = {"User-Agent": "tessera-itest/1"}
        if token == "root":
            token = self.root_token
        if token is not None:
            h["Authorization"] = "Bearer " + token
        if headers:
            h.update(headers)
        kw = {}
        if json_body is not None:
            kw["data"] = json.dumps(json_body)
            h.setdefault("Content-Type", "application/json")
        elif data is not None:
            kw["data"] = data
        return self.session().request(
            method, self.url + path, headers=h, params=params, timeout=timeout or HTTP_TIMEOUT, **kw
        )

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, body=None, **kw):
        return self.request("POST", path, json_body=body, **kw)

    def put(self, path, body=None, **kw):
        return self.request("PUT", path, json_body=body, **kw)

    def delete(self, path, **kw):
        return self.request("DELETE", path, **kw)

    # ---- API shortcuts

    def create_account(self, name, account_type=None, token="root"):
        body = {"Name": name}
        if account_type is not None:
            body["AccountType"] = account_type
        r = self.post("/api/v1/accounts", body, token=token)
        assert r.status_code == 201, (r.status_code, r.text)
        return r.json()["Account"]

    def create_key(self, policies, description=None):
        body = {"Policies": policies}
        if description is not None:
            body["Description"] = description
        r = self.post("/api/v1/admin-keys", body)
        assert r.status_code == 201, (r.status_code, r.text)
        return r.json()["AdminKey"]

    def events(self, **params):
        """Every audit event matching params, newest first, following NextToken."""
        out = []
        params = {k: v for k, v in params.items() if v is not None}
        params.setdefault("max-results", "1000")
        while True:
            r = self.get("/api/v1/audit-events", params=params)
            assert r.status_code == 200, (r.status_code, r.text)
            body = r.json()
            out.extend(body["Events"])
            if not body.get("NextToken"):
                return out
            params["next-token"] = body["NextToken"]


def assert_error(r, status, code=None):
    """An error answer: the status and a JSON {"Code","Message"} body."""
    assert r.status_code == status, "expected %d, got %d: %s" % (status, r.status_code, r.text)
    body = r.json()
    assert isinstance(body.get("Code"), str) and body["Code"], body
    assert isinstance(body.get("Message"), str), body
    if code is not None:
        assert body["Code"] == code, body
    return body


def check_cases(cases, fn, name=repr):
    """Runs fn(case) for every case and fails once, listing every case that failed."""
    failed = []
    for case in cases:
        try:
            fn(case)
        except AssertionError as ex:
            failed.append("%s: %s" % (name(case), str(ex).splitlines()[0] if str(ex) else "assertion failed"))
    assert not failed, "%d of %d cases failed:\n  " % (len(failed), len(cases)) + "\n  ".join(failed)


def complete_body(r):
    """True when the response body is as long as its Content-Length says."""
    cl = r.headers.get("Content-Length")
    return cl is None or int(cl) == len(r.content)


# ---------------------------------------------------------------- several nodes behind nginx

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"

# The balancer: round robin over the nodes; a node that refuses connections
# or times out is skipped for fail_timeout. Requests are passed on to the next
# node only on a connection error or timeout, and only idempotent ones (nginx
# >= 1.9.13 never repeats POST, PATCH or LOCK unless told to with
# non_idempotent): a write is sent at most once. X-Forwarded-For gets the
# client's address appended, which the nodes believe from 127.0.0.1 only
# (--trusted-proxy 127.0.0.1/32).
NGINX_CONF = """
worker_processes 1;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log {prefix}/access.log;
    client_body_temp_path {prefix}/tmp/body;
    proxy_temp_path {prefix}/tmp/proxy;
    fastcgi_temp_path {prefix}/tmp/fastcgi;
    uwsgi_temp_path {prefix}/tmp/uwsgi;
    scgi_temp_path {prefix}/tmp/scgi;
    client_max_body_size 2m;
    client_body_buffer_size 2m;
    keepalive_requests 1000000;
    upstream tessera {{
{servers}
        keepalive 64;
    }}
    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass http://tessera;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $http_host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_next_upstream error timeout;
            proxy_next_upstream_tries 2;
            proxy_connect_timeout 1s;
            proxy_read_timeout {read_timeout}s;
            proxy_buffering off;
        }}
    }}
}}
"""


class Nginx:
    def __init__(self, upstream_ports, read_timeout=30):
        if not os.access(NGINX, os.X_OK):
            raise AssertionError("nginx not found (scripts/deps.sh installs nginx-light)")
        # under /tmp and world-readable: nginx workers drop to nobody when run as root
        self.prefix = tempfile.mkdtemp(prefix="tessera-nginx-")
        os.chmod(self.prefix, 0o755)
        os.makedirs(os.path.join(self.prefix, "tmp"), mode=0o777)
        os.chmod(os.path.join(self.prefix, "tmp"), 0o777)
        self.upstream_ports = list(upstream_ports)
        self.read_timeout = read_timeout
        self.proc = None
        self.port = None

    @property
    def url(self):
        return "http://127.0.0.1:%d" % self.port

    def start(self):
        servers = "\n".join("        server 127.0.0.1:%d max_fails=1 fail_timeout=2s;" % p for p in self.upstream_ports)
        for _ in range(5):
            self.port = free_port()
            conf = os.path.join(self.prefix, "nginx.conf")
            with open(conf, "w") as f:
                f.write(NGINX_CONF.format(prefix=self.prefix, servers=servers, port=self.port,
                                          read_timeout=int(self.read_timeout * SCALE)))
            self.err = open(os.path.join(self.prefix, "stderr.log"), "w")
            self.proc = subprocess.Popen([NGINX, "-p", self.prefix, "-c", conf, "-g", "daemon off;"],
                                         stdout=self.err, stderr=subprocess.STDOUT)
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and self.proc.poll() is None:
                try:
                    requests.get(self.url + "/healthz", timeout=2)
                    return self
                except requests.RequestException:
                    time.sleep(0.05)
            self.stop()
            if "Address already in use" not in self.log():
                break
        raise AssertionError("nginx did not start:\n" + self.log())

    def log(self):
        out = ""
        for name in ("stderr.log", "error.log"):
            try:
                with open(os.path.join(self.prefix, name), errors="replace") as f:
                    out += f.read()
            except OSError:
                pass
        return out

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGQUIT)  # graceful: workers finish, then exit
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if getattr(self, "err", None) is not None and not self.err.closed:
            self.err.close()

    def destroy(self):
        self.stop()
        shutil.rmtree(self.prefix, ignore_errors=True)


class OwnPg:
    """A cluster of the test's own, which the test may halt and resume."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="tessera-cluster-pg-")
        p = subprocess.run(["sh", PG_TEST_SH, "start", self.dir], capture_output=True, text=True, timeout=180)
        if p.returncode != 0:
            shutil.rmtree(self.dir, ignore_errors=True)
            raise AssertionError("pg-test.sh start failed: %s %s" % (p.stdout, p.stderr))
        self.url = p.stdout.strip()

    def halt(self):
        p = subprocess.run(["sh", PG_TEST_SH, "halt", self.dir], capture_output=True, text=True, timeout=120)
        assert p.returncode == 0, p.stderr

    def resume(self):
        p = subprocess.run(["sh", PG_TEST_SH, "resume", self.dir], capture_output=True, text=True, timeout=120)
        assert p.returncode == 0, p.stderr

    def destroy(self):
        subprocess.run(["sh", PG_TEST_SH, "stop", self.dir], capture_output=True, timeout=120)
        shutil.rmtree(self.dir, ignore_errors=True)


class UrlStore:
    """What Server needs of a store: a URL (or a SQLite file), a key file, a directory."""

    def __init__(self, url, workdir):
        self.db = url
        self.dir = str(workdir)
        self.key = os.path.join(self.dir, "master.key")
        self.kind = "postgres" if url.startswith("postgres") else "sqlite"

    def init(self):
        out = cli_json("init", "--db", self.db, "--master-key-file", self.key, "--json")
        return out["Token"]


class Cluster:
    """n `tessera serve` nodes on one PostgreSQL database, nginx in front."""

    def __init__(self, url, workdir, nodes=2, node_args=(), balancer=True):
        self.store = UrlStore(url, workdir)
        self.root = self.store.init()
        self.nodes = []
        for _ in range(nodes):
            srv = Server(self.store, root_token=self.root,
                           extra_args=["--trusted-proxy", "127.0.0.1/32", *node_args])
            self.nodes.append(srv.start())
        self.nginx = Nginx([n.port for n in self.nodes]).start() if balancer else None

    @property
    def url(self):
        return self.nginx.url

    def metric(self, node, name):
        text = requests.get(node.url + "/metrics", timeout=10).text
        m = re.search(r"^%s (\S+)$" % re.escape(name), text, re.M)
        return float(m.group(1)) if m else None

    def wait_nodes_live(self, n, timeout=15):
        deadline = time.monotonic() + timeout * SCALE
        while time.monotonic() < deadline:
            if all(self.metric(x, "tessera_nodes_live") == n for x in self.nodes if x.alive()):
                return
            time.sleep(0.2)
        raise AssertionError("the nodes did not see %d live nodes" % n)

    def shutdown_problems(self):
        problems = []
        for n in self.nodes:
            problems.extend(n.shutdown_problems())
        return problems

    def destroy(self):
        problems = []
        if self.nginx is not None:
            self.nginx.destroy()
        problems = self.shutdown_problems()
        return problems


# ---------------------------------------------------------------- DNS

DNSMASQ = "/usr/sbin/dnsmasq"


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


def backend_store(request, work):
    """The store of a fixture parametrized by backend: a SQLite file in work, or a database
    on the suite's pg_cluster."""
    if request.param == "sqlite":
        return SqliteStore(work)
    return PgStore(request.getfixturevalue("pg_cluster"), work)


class Serving:
    """What serving() hands out: dnsmasq, and the nodes serving the store (the first one
    start's, more from second_node)."""

    def __init__(self, dns):
        self.dns = dns
        self.nodes = []

    @property
    def server(self):
        return self.nodes[0]

    def second_node(self, store, extra_args=()):
        """Another node on store, started with the first one's root token, --base-url and
        DNS server (two nodes behind one balancer)."""
        a = self.nodes[0]
        b = Server(store, root_token=a.root_token, port=free_port(),
                   extra_args=["--base-url", a.url, "--dns-server", self.dns.address, "--access-log", "off"]
                   + list(extra_args))
        self.nodes.append(b)
        b.start()
        return b


@contextlib.contextmanager
def serving(store, work, start):
    """dnsmasq in work, and start(store, dns) serving store. On the way out every node's
    shutdown problems (sanitizer reports, a crash) fail the caller, with the first node's
    last stderr lines printed; dnsmasq stops and the store is destroyed."""
    s = Serving(Dns(str(work)).start())
    try:
        s.nodes.append(start(store, s.dns))
        yield s
    finally:
        problems = []
        for n in s.nodes:
            problems.extend(n.shutdown_problems())
        s.dns.stop()
        store.destroy()
        if problems and s.nodes:
            print("---- %s, last lines:\n%s" % (s.server.err_path, "\n".join(s.server.stderr().splitlines()[-20:])))
        assert not problems, "\n".join(problems)
