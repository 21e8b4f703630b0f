"""
A person approving a command line's sign-in in a real browser (headless Chromium): the CLI
asks for a device code (RFC 8628 §3.1); the person opens the verification_uri_complete it
prints, is sent through the account's start URL to the SAML IdP on another site and back to
/device, sees which client asked and when, and presses Approve; the CLI's next poll gets its
tokens. A screenshot of the /device page is saved for a human to look at
(build/screenshots/device.png, or TESSERA_SCREENSHOT_DIR).
"""
import os
import time

import pytest
import requests
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

import portalenv as P
import tessera_itest as T
from test_portal_browser import screenshot_dir
from test_saml_browser import chrome, idp_page  # noqa: F401 (fixtures)

# a real browser: run once, on the release build (make check leaves it out under ASan)
pytestmark = [pytest.mark.browser]

DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"


def poll(env, device_code):
    return requests.post(env.base + "/oauth/token", timeout=P.HTTP_TIMEOUT,
                         data={"grant_type": DEVICE_GRANT, "device_code": device_code,
                               "client_id": "tessera-cli"})


@pytest.mark.parametrize("env", ["sqlite"], indirect=True)
def test_chromium_approves_a_device_code(env, idp_page, chrome):  # noqa: F811
    user = env.new_user("chromium-device")
    idp_page["user"] = user
    da = requests.post(env.base + "/oauth/device_authorization", timeout=P.HTTP_TIMEOUT,
                       data={"client_id": "tessera-cli", "start_url": env.base + "/start/" + env.acct})
    assert da.status_code == 200, da.text[:300]
    da = da.json()
    assert poll(env, da["device_code"]).json()["error"] == "authorization_pending"

    chrome.get(da["verification_uri_complete"])
    wait = WebDriverWait(chrome, 20 * T.SCALE)
    try:
        wait.until(lambda d: d.current_url.startswith(env.base + "/device")
                   and d.find_elements(By.CSS_SELECTOR, "button[name=decision][value=approve]"))
    except Exception:
        raise AssertionError("not on the approval page: at %s, idp errors %s, page:\n%s" % (
            chrome.current_url, idp_page["errors"], chrome.page_source[:1500]))
    assert not idp_page["errors"], idp_page["errors"]
    assert len(idp_page["requests"]) == 1
    page = chrome.page_source
    # the person sees who they are, the code, the client that asked and when
    assert user["name"] in page and da["user_code"] in page and "tessera-cli" in page, page[:2000]
    chrome.set_window_size(1024, 768)
    shot = os.path.join(screenshot_dir(), "device.png")
    assert chrome.save_screenshot(shot), shot
    print("screenshot of /device: %s" % shot)
    assert os.path.getsize(shot) > 1000
    # the form carries the anti-CSRF field the server checks
    assert chrome.find_elements(By.CSS_SELECTOR, "form[action='/device'] input[type=hidden][name=csrf]")

    chrome.find_element(By.CSS_SELECTOR, "button[name=decision][value=approve]").click()
    wait.until(lambda d: "Device signed in" in d.page_source)
    tokens = None
    for _ in range(int(20 * T.SCALE)):
        r = poll(env, da["device_code"])
        if r.status_code == 200:
            tokens = r.json()
            break
        assert r.json()["error"] in ("authorization_pending", "slow_down"), r.text
        time.sleep(1)
    assert tokens and tokens["token_type"] == "Bearer", tokens
    me = requests.get(env.base + "/api/v1/me", timeout=P.HTTP_TIMEOUT,
                      headers={"Authorization": "Bearer " + tokens["access_token"]})
    assert me.status_code == 200 and me.json()["Me"]["UserId"] == user["id"], me.text[:300]
    # the code gave its tokens once
    assert poll(env, da["device_code"]).json()["error"] == "invalid_grant"
