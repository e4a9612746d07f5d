"""A person adds a phone on the Devices page, the phone sends a fix, it appears on the
open map without a reload; revoking the phone on the page stops it."""

from __future__ import annotations

import base64
import json
import time
import urllib.error
import urllib.request

import pytest

from tests.browser import SCREENSHOTS, sign_in

from .test_feed_in_browser import daphne  # noqa: F401 (a fixture)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _send_fix(base_url: str, credential: str) -> int:
    request = urllib.request.Request(
        f"{base_url}/api/devices/owntracks/",
        data=json.dumps(
            {
                "_type": "location",
                "tst": int(time.time()) - 5,
                "lat": 52.52,
                "lon": 13.405,
                "acc": 9,
            }
        ).encode(),
        headers={
            "Authorization": "Basic " + base64.b64encode(f"walker:{credential}".encode()).decode(),
            "Content-Type": "application/json",
        },
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            assert json.loads(response.read()) == []
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


@pytest.fixture
def walker(make_user):
    return make_user("walker", password="a long enough password")


def test_devices_page_and_the_live_map(walker, daphne, browser):  # noqa: F811
    page = browser.new_page()
    sign_in(page, daphne, "walker", "a long enough password")
    page.goto(f"{daphne}/devices/")
    page.fill("input[name=name]", "pixel")
    page.select_option("select[name=kind]", "owntracks")
    page.click("#device-form button[type=submit]")
    credential = page.locator("#issued-device .device-credential").inner_text()
    assert credential.startswith("dpd_")
    assert "/api/devices/owntracks/" in page.locator("#issued-device").inner_text()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "devices.png"), full_page=True)

    map_page = page  # the same session
    map_page.goto(f"{daphne}/map/")
    # Waits on what the page's own script sets: the CSP forbids eval (wait_for_function).
    map_page.wait_for_selector("body[data-live='open']", timeout=30_000)
    assert _send_fix(daphne, credential) == 200
    map_page.wait_for_selector("body[data-live-points='1']", timeout=15_000)
    assert "pixel" in map_page.locator("#live-status").inner_text()
    map_page.screenshot(path=str(SCREENSHOTS / "map-live.png"), full_page=True)

    page.goto(f"{daphne}/devices/")
    assert credential not in page.content()  # shown once
    page.click("#device-list button.revoke")
    page.wait_for_selector("#device-list tr.muted")
    assert "revoked" in page.locator("#device-list tr.muted").inner_text()
    assert _send_fix(daphne, credential) == 401
