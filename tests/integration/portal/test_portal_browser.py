"""
A person in a real browser (headless Chromium with chromium-driver, python3-selenium): the
account's start URL, the SAML sign-in at an IdP on another site over https (../saml's
idp_page: pysaml2 answers with an auto-submitting form), the portal listing what was
assigned, a screenshot of it for a human to look at, and a click on a target's link that
opens the target (a small server of the test's own that records the visit).
"""
import http.server
import os
import threading

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

import portalenv as P
import tessera_itest as T
from test_saml_browser import chrome, idp_page  # noqa: F401 (fixtures)

# a real browser: run once, on the release build (make check leaves it out under ASan)
pytestmark = [pytest.mark.browser]

REPO = os.path.abspath(os.path.join(P.HERE, "..", "..", ".."))


def screenshot_dir():
    """build/screenshots in the repository, or TESSERA_SCREENSHOT_DIR."""
    d = os.environ.get("TESSERA_SCREENSHOT_DIR") or os.path.join(REPO, "build", "screenshots")
    os.makedirs(d, exist_ok=True)
    return d


@pytest.fixture
def target_site():
    """The target a link opens: records the paths it was asked for."""
    visits = []

    class H(http.server.BaseHTTPRequestHandler):
        def log_message(self, *a):
            pass

        def do_GET(self):
            if self.path != "/favicon.ico":
                visits.append((self.path, self.headers.get("Referer")))
            data = b"<!doctype html><title>Target console</title><h1>Target console</h1>"
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    yield {"url": "http://127.0.0.1:%d/console?from=portal" % srv.server_address[1], "visits": visits}
    srv.shutdown()
    srv.server_close()


@pytest.mark.parametrize("env", ["sqlite"], indirect=True)
def test_chromium_start_url_to_portal_to_target(env, idp_page, chrome, target_site):  # noqa: F811
    user = env.new_user("chromium-portal")
    idp_page["user"] = user
    a = P.Access(env)
    t = a.target("Staging console", url=target_site["url"])
    other = a.target("Production console", url="https://prod.example.org/")
    dev, ro = a.permission_set("Developer"), a.permission_set("ReadOnly")
    a.assign("USER", user["id"], t, dev)
    a.assign("GROUP", a.group([user]), other, ro)
    chrome.get(env.base + "/start/" + env.acct)
    wait = WebDriverWait(chrome, 20 * T.SCALE)
    try:
        wait.until(lambda d: d.current_url == env.base + "/portal" and user["name"] in d.page_source)
    except Exception:
        raise AssertionError("not on the portal: at %s, idp errors %s, page:\n%s" % (
            chrome.current_url, idp_page["errors"], chrome.page_source[:1500]))
    assert not idp_page["errors"], idp_page["errors"]
    assert len(idp_page["requests"]) == 1
    links = chrome.find_elements(By.CSS_SELECTOR, "a[data-permission-set]")
    assert [(x.text, x.get_attribute("href")) for x in links] == [
        ("ReadOnly-" + a.tag, "https://prod.example.org/"), ("Developer-" + a.tag, target_site["url"])], links
    chrome.set_window_size(1024, 768)
    shot = os.path.join(screenshot_dir(), "portal.png")
    assert chrome.save_screenshot(shot), shot
    print("screenshot of the portal: %s" % shot)
    assert os.path.getsize(shot) > 1000
    links[1].click()
    wait.until(lambda d: d.current_url == target_site["url"] and "Target console" in d.page_source)
    # opened as the person's own navigation, without telling the target where from (noreferrer)
    assert target_site["visits"] == [("/console?from=portal", None)], target_site["visits"]
