"""
Real parts for the many-nodes tests (issue 10): a PostgreSQL cluster of the
test's own (scripts/pg-test.sh, so that a test may stop and start it), or a
fresh database on the suite's cluster; `tessera serve` nodes on it, all with
the same master key file; and Debian's nginx in front of them as the load
balancer, in the foreground, with its own prefix, config, pid and logs in a
temporary directory, on a free loopback port. Everything is started and
stopped by the test; a missing nginx is a failure, never a skip.
"""
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time

import requests

import tessera_itest as T

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
            self.port = T.free_port()
            conf = os.path.join(self.prefix, "nginx.conf")
            with open(conf, "w") as f:
                f.write(NGINX_CONF.format(prefix=self.prefix, servers=servers, port=self.port,
                                          read_timeout=int(self.read_timeout * T.SCALE)))
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
        p = subprocess.run(["sh", T.PG_TEST_SH, "start", self.dir], capture_output=True, text=True, timeout=180)
        if p.returncode != 0:
            shutil.rmtree(self.dir, ignore_errors=True)
            raise AssertionError("pg-test.sh start failed: %s %s" % (p.stdout, p.stderr))
        self.url = p.stdout.strip()

    def halt(self):
        p = subprocess.run(["sh", T.PG_TEST_SH, "halt", self.dir], capture_output=True, text=True, timeout=120)
        assert p.returncode == 0, p.stderr

    def resume(self):
        p = subprocess.run(["sh", T.PG_TEST_SH, "resume", self.dir], capture_output=True, text=True, timeout=120)
        assert p.returncode == 0, p.stderr

    def destroy(self):
        subprocess.run(["sh", T.PG_TEST_SH, "stop", self.dir], capture_output=True, timeout=120)
        shutil.rmtree(self.dir, ignore_errors=True)


class UrlStore:
    """What tessera_itest.Server needs of a store: a URL, a key file, a directory."""

    kind = "postgres"

    def __init__(self, url, workdir):
        self.db = url
        self.dir = str(workdir)
        self.key = os.path.join(self.dir, "master.key")

    def init(self):
        out = T.cli_json("init", "--db", self.db, "--master-key-file", self.key, "--json")
        return out["Token"]


class Cluster:
    """n `tessera serve` nodes on one PostgreSQL database, nginx in front."""

    def __init__(self, url, workdir, nodes=2, node_args=(), balancer=True):
        self.store = UrlStore(url, workdir)
        self.root = self.store.init()
        self.nodes = []
        for _ in range(nodes):
            srv = T.Server(self.store, root_token=self.root,
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
        deadline = time.monotonic() + timeout * T.SCALE
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
