"""Every page carries a Content-Security-Policy, and every page still works
under it in Chromium (no blocked script, style or image of our own)."""

from __future__ import annotations

import pytest

from tests.browser import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PASSWORD = "a long enough password"
PAGES = [
    "/",
    "/timeline/",
    "/map/",
    "/search/",
    "/connections/",
    "/imports/",
    "/privacy/",
    "/api/docs/",
]


def test_an_inline_script_does_not_run(client, owner):
    client.force_login(owner)
    policy = client.get("/timeline/")["Content-Security-Policy"]
    assert "script-src 'self';" in policy and "unsafe-inline' ;" not in policy
    assert "'unsafe-inline'" not in policy.split("script-src", 1)[1].split(";", 1)[0]


@pytest.fixture
def reader(make_user, settings):
    settings.DATAPUNK_MAP_TILE_URL = "http://127.0.0.1:9/{z}/{x}/{y}.png"  # offline tiles
    return make_user("reader", password=PASSWORD)


def test_every_page_works_under_the_policy(reader, browser, live_server):
    page = browser.new_page()
    violations: list[str] = []
    page.on(
        "console",
        lambda message: (
            violations.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    sign_in(page, live_server.url, "reader", PASSWORD)
    for path in PAGES:
        response = page.goto(live_server.url + path)
        assert response is not None and response.ok, path
        assert "Content-Security-Policy" in {k.title(): v for k, v in response.headers.items()}
        page.wait_for_load_state("networkidle")
    assert violations == []
    assert errors == []
