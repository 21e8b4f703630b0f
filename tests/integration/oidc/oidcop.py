"""
The OpenID provider of the OIDC tests: oidc-provider 8.8.1 (op/op.mjs, Node 20) on a free
loopback port, with its misbehaviour switch (POST /__mode) and its call counts (GET /__stats).
The browser side of a sign-in is driven here with requests: Tessera's 302 to the provider,
the provider's own devInteractions login and consent forms, and the provider's redirect back
to Tessera's callback, which the test then follows itself (or tampers with first).
"""
import html
import json
import os
import re
import shutil
import signal
import subprocess
import time
import urllib.parse

import requests

import tessera_itest as T

HERE = os.path.dirname(os.path.abspath(__file__))
OP_DIR = os.path.join(HERE, "op")
NODE = shutil.which("node") or "/usr/bin/node"
HTTP_TIMEOUT = 30 * T.SCALE


def check_installed():
    """The npm package must be installed (make check runs `npm ci` in op/)."""
    if not os.path.isdir(os.path.join(OP_DIR, "node_modules", "oidc-provider")):
        return "tests/integration/oidc/op has no node_modules: run `npm ci` there (make check does)"
    if not os.access(NODE, os.X_OK):
        return "node (Node.js 20) is missing"
    return None


class Op:
    """One oidc-provider process. host: the name the issuer uses (127.0.0.1, or localhost to be
    another site than Tessera's 127.0.0.1 for a browser)."""

    def __init__(self, workdir, clients, accounts=None, host="127.0.0.1"):
        self.dir = str(workdir)
        os.makedirs(self.dir, exist_ok=True)
        self.clients = clients
        self.accounts = dict(accounts or {})
        self.host = host
        self.proc = None
        self.port = None

    @property
    def issuer(self):
        return "http://%s:%d" % (self.host, self.port)

    @property
    def url(self):
        """Where the test itself talks to the provider (always the loopback address)."""
        return "http://127.0.0.1:%d" % self.port

    def start(self):
        last = ""
        for _ in range(5):
            self.port = T.free_port()
            conf = os.path.join(self.dir, "op-%d.json" % self.port)
            with open(conf, "w") as f:
                json.dump({"issuer": self.issuer, "clients": self.clients, "accounts": self.accounts}, f)
            self.log_path = os.path.join(self.dir, "op-%d.log" % self.port)
            log = open(self.log_path, "w")
            self.proc = subprocess.Popen([NODE, os.path.join(OP_DIR, "op.mjs")], cwd=OP_DIR, stdout=log,
                                         stderr=subprocess.STDOUT,
                                         env=dict(os.environ, OP_PORT=str(self.port), OP_CONFIG=conf))
            log.close()
            deadline = time.monotonic() + 20 * T.SCALE
            while time.monotonic() < deadline and self.proc.poll() is None:
                try:
                    r = requests.get(self.url + "/.well-known/openid-configuration", timeout=2)
                    if r.status_code == 200:
                        self.mode()
                        return self
                except requests.RequestException:
                    pass
                time.sleep(0.1)
            last = self.log()
            self.stop()
            if "EADDRINUSE" not in last:
                break
        raise AssertionError("oidc-provider did not start:\n" + last)

    def log(self):
        try:
            with open(self.log_path, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    # ---- control

    def mode(self, **mode):
        """Sets the misbehaviour (op.mjs's header lists the fields); no argument: behave."""
        r = requests.post(self.url + "/__mode", data=json.dumps(mode), timeout=10)
        assert r.status_code == 200, (r.status_code, r.text)

    def add_accounts(self, accounts):
        r = requests.post(self.url + "/__accounts", data=json.dumps(accounts), timeout=10)
        assert r.status_code == 200, (r.status_code, r.text)

    def stats(self):
        return requests.get(self.url + "/__stats", timeout=10).json()


def form_of(page):
    """(action, fields) of the first form of a devInteractions page."""
    m = re.search(r'<form[^>]*action="([^"]+)"[^>]*>(.*?)</form>', page, re.S | re.I)
    assert m, "no form on the provider's page: %s" % page[:500]
    fields = {}
    for tag in re.findall(r"<input[^>]*>", m.group(2), re.I):
        name = re.search(r'name="([^"]*)"', tag)
        value = re.search(r'value="([^"]*)"', tag)
        if name:
            fields[html.unescape(name.group(1))] = html.unescape(value.group(1)) if value else ""
    return html.unescape(m.group(1)), fields


def at_provider(op, browser, location, login, callback_prefix, abort=False, max_steps=12):
    """Follows the provider from its authorization URL to the redirect back to callback_prefix,
    signing in as `login` and consenting on its devInteractions pages (or, abort=True, pressing
    its Cancel on the login page). Returns the callback URL, not yet followed."""
    url = location
    for _ in range(max_steps):
        if url.startswith(callback_prefix):
            return url
        assert url.startswith(op.issuer) or url.startswith(op.url) or url.startswith("/"), url
        url = urllib.parse.urljoin(op.issuer + "/", url)
        # the test talks to the provider over 127.0.0.1 whatever name the issuer uses
        url = url.replace(op.issuer, op.url, 1)
        r = browser.get(url, allow_redirects=False, timeout=HTTP_TIMEOUT)
        if r.status_code in (302, 303):
            url = r.headers["Location"]
            continue
        assert r.status_code == 200, "provider %s -> %d %s" % (url, r.status_code, r.text[:500])
        action, fields = form_of(r.text)
        if abort:
            cancel = re.search(r'<a href="([^"]+/abort)"', r.text)
            assert cancel, r.text[:500]
            url = html.unescape(cancel.group(1))
            continue
        if fields.get("prompt") == "login":
            fields["login"] = login
            fields["password"] = "any password"
        r = browser.post(urllib.parse.urljoin(op.url + "/", action), data=fields, allow_redirects=False,
                         timeout=HTTP_TIMEOUT)
        assert r.status_code in (302, 303), "provider form -> %d %s" % (r.status_code, r.text[:500])
        url = r.headers["Location"]
    raise AssertionError("the provider never redirected back to %s (at %s)" % (callback_prefix, url))
