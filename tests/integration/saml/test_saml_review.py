"""
Findings of the adversarial review of SAML sign-in, each a test that failed
before its fix (the commit that fixes it names the test).
"""
import html
import http.server
import json
import os
import threading

import pytest
import requests
from lxml import etree

import samlenv as E
import samlforge as F
import samlidp as I
import tessera_itest as T


EXC_NS = "{http://www.w3.org/2001/10/xml-exc-c14n#}"


def _sign_shaped(env, d, shape):
    """d's Assertion signed by the IdP key (xmlsec1) from a template that shape(Transforms)
    has changed: the signature is genuine, only its shape is hostile."""
    a = d.assertion
    sig = F.signature_template(ref_id=a.get("ID"))
    shape(sig.find(F.DS + "SignedInfo/" + F.DS + "Reference/" + F.DS + "Transforms"))
    F.insert_after_issuer(a, sig)
    src = env.forge._tmp(d.xml())
    out = src + ".signed"
    try:
        F._run(["xmlsec1", "--sign", "--privkey-pem", "%s,%s" % (env.forge.key[0], env.forge.key[1]), *F.IDS,
                "--node-id", a.get("ID"), "--output", out, src])
        with open(out, "rb") as f:
            return f.read()
    finally:
        for p in (src, out):
            if os.path.exists(p):
                os.unlink(p)


def test_repeated_reference_transforms_refused(env, browser):
    """A Reference with the enveloped transform twice (SAML core §5.4.4 allows enveloped and
    exclusive c14n, once each). Each repeat is one more pass of xmlsec over the signed node
    set, before the SignatureValue is checked: 700 repeats over 5,000 elements cost 0.35 s of
    CPU per unauthenticated POST (a normal response: under 1 ms). Refused on its shape."""
    user = env.new_user("xf")
    req = env.login(browser)
    xml = _sign_shaped(env, env.forge.draft(user["name"], req.id),
                       lambda tr: tr.insert(0, etree.Element(F.DS + "Transform", Algorithm=F.ENVELOPED)))
    assert env.forge.check_signature(xml, F.reparse(xml).find(F.A + "Assertion").get("ID"))
    before = {user["id"]: env.user_state(user["id"])}
    r, rid = env.acs(browser, I.b64(xml))
    E.assert_refused(env, r, rid, ("Algorithm",), browser, [user], before)


def _prefix_list(value):
    def shape(tr):
        for t in tr:
            if t.get("Algorithm") == F.EXC_C14N:
                etree.SubElement(t, EXC_NS + "InclusiveNamespaces").set("PrefixList", value)
    return shape


def test_long_prefix_list_refused(env, browser):
    """exc-c14n's InclusiveNamespaces PrefixList is compared with every namespace in scope
    of every signed element: 4,000 prefixes over 4,000 elements cost 1.3 s of CPU per
    unauthenticated POST (before the SignatureValue is checked). IdPs send a word or two
    (Okta: "xs"); one longer than TS_SAML's cap is refused on its shape."""
    user = env.new_user("pl")
    req = env.login(browser)
    value = " ".join("p%d" % i for i in range(100))
    xml = _sign_shaped(env, env.forge.draft(user["name"], req.id), _prefix_list(value))
    assert env.forge.check_signature(xml, F.reparse(xml).find(F.A + "Assertion").get("ID"))
    before = {user["id"]: env.user_state(user["id"])}
    r, rid = env.acs(browser, I.b64(xml))
    E.assert_refused(env, r, rid, ("Algorithm",), browser, [user], before)


def test_short_prefix_list_accepted(env, browser):
    """The positive control: Okta's PrefixList="xs" signs in."""
    user = env.new_user("pk")
    req = env.login(browser)
    xml = _sign_shaped(env, env.forge.draft(user["name"], req.id), _prefix_list("xs"))
    r, rid = env.acs(browser, I.b64(xml))
    E.assert_signed_in(env, r, rid, browser, user, "Pro")


def test_refused_response_claims_bounded_in_audit(env, browser):
    """A refusal's audit event names the NameID the response claims, unverified (docs/saml.md):
    anyone can post one. A 100 KB NameID was kept whole in every such event, so that each
    anonymous POST added 100 KB to the audit trail; it is cut to the sign-in attempt's 512
    bytes, like the attempt itself."""
    d = env.forge.draft("n" * 100000 + "@example.com")
    r, rid = env.acs(browser, I.b64(d.xml()))  # unsigned: refused (Signature)
    ev = E.assert_refused(env, r, rid, ("Signature",), browser, [], {})
    name = ev["requestParameters"]["NameId"]
    assert name.startswith("nnnn") and len(name.encode()) <= 512, len(name)


# ---- a real browser: the role chooser's deep link to an allow-listed origin

class _Site(http.server.ThreadingHTTPServer):
    daemon_threads = True


def _site(pages):
    """Another origin on loopback: GET /landing answers "landed"; GET /post answers pages["post"]."""
    class H(http.server.BaseHTTPRequestHandler):
        def log_message(self, *a):
            pass

        def do_GET(self):
            body = (pages.get("post", "") if self.path.startswith("/post") else "<p id=landed>landed</p>").encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
    srv = _Site(("127.0.0.1", 0), H)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv


@pytest.mark.browser
@pytest.mark.parametrize("env", ["sqlite"], indirect=True)
@pytest.mark.parametrize("deep", ["same-origin", "allowed-origin"])
def test_chooser_in_chromium(env, deep):
    """Several AWS roles give the chooser; its form posts to /role. Two faults, each seen only in
    a real browser (the requests-based tests send no Origin):
    - same-origin: the pages said Referrer-Policy: no-referrer, under which Chromium sends
      "Origin: null" with the chooser's own POST, and the CSRF check refuses null: nobody with
      several roles could sign in;
    - allowed-origin: a RelayState on an allow-listed origin is reached by /role's 303, but the
      chooser's CSP said form-action 'self', which Chromium applies to a form's redirect: the
      deep link was blocked."""
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    pages = {}
    site = _site(pages)
    origin = "http://127.0.0.1:%d" % site.server_address[1]
    o = Options()
    for a in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"):
        o.add_argument(a)
    o.binary_location = "/usr/bin/chromium"
    chrome = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=o)
    try:
        env.settings(AllowIdpInitiated=True, RelayStateAllowList=[origin])
        relay = origin + "/landing" if deep == "allowed-origin" else "/api/v1/me"
        want = relay if deep == "allowed-origin" else env.base + relay
        user = env.new_user("deeplink")
        values = ["arn:aws:iam::123456789012:role/Dev,arn:aws:iam::123456789012:saml-provider/Okta",
                  "arn:aws:iam::123456789012:role/Admin,arn:aws:iam::123456789012:saml-provider/Okta"]
        xml = env.idp.response(user["name"], None, {I.ROLE_ATTR: values, I.SESSION_ATTR: "pat"})
        pages["post"] = ('<!doctype html><form method="post" action="%s">'
                         '<input type="hidden" name="SAMLResponse" value="%s">'
                         '<input type="hidden" name="RelayState" value="%s"></form>'
                         '<script>document.forms[0].submit()</script>') % (
            html.escape(env.idp.sp.acs_url), I.b64(xml), html.escape(relay))
        chrome.get(origin + "/post")
        WebDriverWait(chrome, 20).until(lambda d: "Choose a role" in d.page_source)
        chrome.find_elements(By.CSS_SELECTOR, "button[name=role]")[1].click()
        try:
            WebDriverWait(chrome, 20).until(lambda d: d.current_url == want)
        except Exception:
            raise AssertionError("the deep link did not open: at %s\n%s" % (chrome.current_url,
                                                                             chrome.page_source[:500]))
        if deep == "same-origin":
            me = json.loads(chrome.find_element(By.TAG_NAME, "body").text)["Me"]
            assert me["UserId"] == user["id"] and me["Role"]["RoleArn"].endswith(":role/Admin"), me
    finally:
        chrome.quit()
        site.shutdown()
        env.restore()


def test_chooser_csp_names_allowed_deep_link(env, browser):
    """The chooser's CSP without a browser (also run under ASan): form-action names the
    allow-listed origin of the deep link and nothing else; a RelayState off the list is not
    echoed, the chooser carries /portal."""
    allowed = "https://app.example.net"
    try:
        env.settings(AllowIdpInitiated=True, RelayStateAllowList=[allowed])
        values = ["arn:aws:iam::123456789012:role/Dev,arn:aws:iam::123456789012:saml-provider/Okta",
                  "arn:aws:iam::123456789012:role/Admin,arn:aws:iam::123456789012:saml-provider/Okta"]
        for relay, origin in ((allowed + "/deep?x=1", allowed), ("https://evil.example/", None)):
            user = env.new_user("csp")
            r, rid = env.acs(browser, env.idp.response(user["name"], None, {I.ROLE_ATTR: values}), relay_state=relay)
            assert r.status_code == 200 and "Choose a role" in r.text, (r.status_code, r.text[:300])
            csp = r.headers["Content-Security-Policy"]
            fa = [d.strip() for d in csp.split(";") if d.strip().startswith("form-action")]
            assert fa == (["form-action 'self' " + origin] if origin else ["form-action 'self'"]), csp
            assert len(r.raw.headers.getlist("Content-Security-Policy")) == 1, r.raw.headers
            if origin:
                assert 'name="RelayState" value="%s"' % html.escape(relay) in r.text, r.text
            else:
                assert "evil.example" not in r.text and 'name="RelayState" value="/portal"' in r.text, r.text
            browser.cookies.clear()
    finally:
        env.restore()


@pytest.mark.parametrize("env", ["sqlite"], indirect=True)
def test_https_server_fetches_metadata_over_https_only(env, tmp_path):
    """MetadataUrl over plain http is for loopback tests (docs/saml.md). It was allowed to any
    admin key on any server, so an admin key could make a production server GET its own
    loopback services (http://127.0.0.1:PORT/...), learning from the answer's status and error
    text what listens there. A server whose --base-url is https takes https only; the loopback
    test server above still takes http (test_metadata_url_over_loopback_http)."""
    body = env.idp.metadata()
    hits = []

    class H(http.server.BaseHTTPRequestHandler):
        def log_message(self, *a):
            pass

        def do_GET(self):
            hits.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "application/samlmetadata+xml")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    loop = _Site(("127.0.0.1", 0), H)
    threading.Thread(target=loop.serve_forever, daemon=True).start()
    store = T.SqliteStore(tmp_path)
    root = store.init()
    srv = T.Server(store, root_token=root, port=T.free_port(),
                   extra_args=["--base-url", "https://id.example.test", "--dns-server", env.dns.address,
                               "--access-log", "off"]).start()
    try:
        h = {"Authorization": "Bearer " + root}
        acct = requests.post(srv.url + "/api/v1/accounts", json={"Name": "https-corp", "AccountType": "Enterprise"},
                             headers=h, timeout=30).json()["Account"]["AccountId"]
        url = "http://127.0.0.1:%d/internal/admin" % loop.server_address[1]
        r = requests.put(srv.url + "/api/v1/accounts/%s/saml-config" % acct, json={"MetadataUrl": url},
                         headers=h, timeout=30)
        assert r.status_code == 400 and r.json()["Code"] == "BadRequestException", (r.status_code, r.text)
        assert hits == [], hits
    finally:
        problems = srv.shutdown_problems()
        loop.shutdown()
        assert not problems, problems
