"""
A real browser (headless Chromium with chromium-driver, python3-selenium):
Tessera on http://127.0.0.1:PORT, a small IdP page on http://idp.test:PORT
over https as IdPs are (the name mapped to loopback with --host-resolver-rules,
so it is another site and the POST back to the ACS is cross-site, as in
production; Tessera takes http SSO URLs for loopback hosts only): the Lax
saml_binding cookie is not sent with it, and Tessera's re-post page must
carry the flow). The IdP page reads the AuthnRequest (pysaml2, signature
checked with the SP certificate) and answers with an auto-submitting form.
The browser must land on /portal, signed in.
"""
import html
import http.server
import json
import ssl
import subprocess
import threading

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.support.ui import WebDriverWait

import samlidp as I
import tessera_itest as T

# a real browser: run once, on the release build (make check leaves it out under ASan)
pytestmark = [pytest.mark.browser]


class IdpPage(http.server.ThreadingHTTPServer):
    daemon_threads = True


def _handler(state):
    class H(http.server.BaseHTTPRequestHandler):
        def log_message(self, *a):
            pass

        def do_GET(self):
            try:
                idp = state["idp"]
                req = idp.read_request("https://idp.test:%d%s" % (state["port"], self.path))
                state["requests"].append(req.id)
                xml = idp.response(state["user"]["name"], req.id)
                body = ('<!doctype html><html><body><form method="post" action="%s">'
                        '<input type="hidden" name="SAMLResponse" value="%s">'
                        '<input type="hidden" name="RelayState" value="%s">'
                        '<noscript><button>Continue</button></noscript></form>'
                        '<script>document.forms[0].submit()</script></body></html>') % (
                    html.escape(idp.sp.acs_url), I.b64(xml), html.escape(req.relay_state or ""))
                code = 200
            except Exception as ex:  # shown to the test through state
                state["errors"].append(repr(ex))
                body, code = "idp error", 500
            data = body.encode()
            self.send_response(code)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
    return H


@pytest.fixture
def idp_page(env, tmp_path):
    state = {"requests": [], "errors": []}
    key, crt = str(tmp_path / "idp-tls.key"), str(tmp_path / "idp-tls.crt")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", crt,
                    "-days", "2", "-subj", "/CN=idp.test", "-addext", "subjectAltName=DNS:idp.test"],
                   check=True, capture_output=True, timeout=60)
    srv = IdpPage(("127.0.0.1", 0), _handler(state))
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls.load_cert_chain(crt, key)
    srv.socket = tls.wrap_socket(srv.socket, server_side=True)
    state["port"] = srv.server_address[1]
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    base = "https://idp.test:%d" % state["port"]
    idp = I.Idp(str(tmp_path / "browser-idp"), entity_id=base + "/saml", sso_url=base + "/sso", name="browser-idp")
    env.put_saml_config(idp.metadata(), "application/xml")
    idp.load_sp(env.get_sp_metadata())
    state["idp"] = idp
    yield state
    srv.shutdown()
    srv.server_close()
    env.restore()


@pytest.fixture
def chrome():
    o = Options()
    for a in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
              "--host-resolver-rules=MAP idp.test 127.0.0.1", "--ignore-certificate-errors",
              "--disable-features=InsecureFormSubmissionInterstitial"):
        o.add_argument(a)
    o.binary_location = "/usr/bin/chromium"
    o.set_capability("goog:loggingPrefs", {"performance": "ALL"})  # the network events, read below
    d = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=o)
    try:
        yield d
    finally:
        d.quit()


@pytest.mark.parametrize("env", ["sqlite"], indirect=True)
def test_chromium_signs_in_across_sites(env, idp_page, chrome):
    user = env.new_user("chromium")
    idp_page["user"] = user
    chrome.get(env.base + "/saml/%s/login?RelayState=/portal" % env.acct)
    try:
        WebDriverWait(chrome, 20 * T.SCALE).until(
            lambda d: d.current_url.startswith(env.base + "/portal") and user["name"] in d.page_source)
    except Exception:
        raise AssertionError("not signed in: at %s, idp errors %s, page:\n%s" % (
            chrome.current_url, idp_page["errors"], chrome.page_source[:1500]))
    assert not idp_page["errors"], idp_page["errors"]
    assert len(idp_page["requests"]) == 1
    # the IdP's cross-site POST came without the Lax binding cookie, so Tessera's page posted
    # the same fields again from its own origin: two POSTs to the ACS, the second resubmitted
    posts = []
    for entry in chrome.get_log("performance"):
        msg = json.loads(entry["message"])["message"]
        if msg.get("method") == "Network.requestWillBeSent":
            rq = msg["params"]["request"]
            if rq["method"] == "POST" and rq["url"] == idp_page["idp"].sp.acs_url:
                posts.append((msg["params"].get("documentURL"), rq.get("headers", {}).get("Origin"), rq.get("postData", "")))
    assert len(posts) == 2, posts
    # (Chrome sends Origin: null on the https -> http downgrade)
    assert posts[0][1] in ("null", "https://idp.test:%d" % idp_page["port"]), posts[0][:2]
    assert "resubmitted" not in posts[0][2]
    assert "resubmitted=1" in posts[1][2], posts[1][:2]
    names = {c["name"] for c in chrome.get_cookies()}
    assert names & {"sid", "__Host-sid"}, names
    u = env.user(user["id"])
    assert u["UserRegistrationStatus"] == "Registered" and u["RegisteredOn"], u
    # the same browser reads who it is
    chrome.get(env.base + "/api/v1/me")
    assert user["id"] in chrome.page_source
