"""
A real browser (headless Chromium with chromium-driver, python3-selenium) through the
provider's own devInteractions login and consent pages, as a person would. Tessera is on
http://127.0.0.1:PORT; the provider's issuer is http://localhost:PORT, which is another site
for the browser (so the redirects to the provider and back are cross-site top-level
navigations, as in production, and the binding cookie must be one a browser sends on them)
and still a loopback name Tessera may call over plain http (SPEC §7). --host-resolver-rules
pins localhost to 127.0.0.1, where the provider listens. The browser must land on /portal,
signed in.
"""
import pytest
from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

import oidcenv as E
import oidcop as O
import tessera_itest as T

# a real browser: run once, on the release build (make check leaves it out under ASan)
pytestmark = [pytest.mark.browser]


@pytest.fixture
def other_site_op(env, tmp_path):
    op = O.Op(str(tmp_path / "op-site"), E.clients(env.base), host="localhost").start()
    try:
        env.put_oidc_config(issuer=op.issuer)
        yield op
    finally:
        op.stop()
        env.restore()


@pytest.fixture
def chrome():
    o = Options()
    for a in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
              "--host-resolver-rules=MAP localhost 127.0.0.1"):
        o.add_argument(a)
    o.binary_location = "/usr/bin/chromium"
    d = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=o)
    try:
        yield d
    finally:
        d.quit()


@pytest.mark.parametrize("env", ["sqlite"], indirect=True)
def test_chromium_signs_in_through_the_providers_pages(env, other_site_op, chrome):
    op = other_site_op
    user = env.new_user("chromium")
    op.add_accounts({"person-" + user["id"][:8]: {"email": user["name"]}})
    wait = WebDriverWait(chrome, 20 * T.SCALE)
    chrome.get(env.base + "/auth/%s/oidc" % env.acct)
    try:
        # the provider's login page: any login, any password (devInteractions)
        wait.until(lambda d: d.current_url.startswith(op.issuer + "/interaction/")
                   and d.find_elements(By.NAME, "login"))
        chrome.find_element(By.NAME, "login").send_keys("person-" + user["id"][:8])
        chrome.find_element(By.NAME, "password").send_keys("correct horse battery staple")
        chrome.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
        # its consent page
        wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "input[name=prompt][value=consent]")
                   or d.current_url.startswith(env.base))
        if not chrome.current_url.startswith(env.base):
            chrome.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
        wait.until(lambda d: d.current_url.startswith(env.base + "/portal") and user["name"] in d.page_source)
    except Exception:
        raise AssertionError("not signed in: at %s, page:\n%s\nprovider log:\n%s" % (
            chrome.current_url, chrome.page_source[:1500], op.log()[-1500:]))
    names = {c["name"] for c in chrome.get_cookies()}
    assert names & {"sid", "__Host-sid"}, names
    u = env.user(user["id"])
    assert u["UserRegistrationStatus"] == "Registered" and u["RegisteredOn"], u
    chrome.get(env.base + "/api/v1/me")
    assert user["id"] in chrome.page_source and "Pro" in chrome.page_source
    assert op.stats()["token"] == 1
