"""Pages as a person sees them, in headless Chromium (Debian's, driven by Playwright)."""

import pytest

from tests.browser import SCREENSHOTS, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def finished_import(make_user, import_takeout):
    # Database work happens before Playwright starts its event loop in this thread.
    user = make_user("reader", password="a long enough password")
    return import_takeout(user, points=50)


def test_sign_in_and_see_an_import_with_its_summary(finished_import, browser, live_server):
    run = finished_import
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    page = browser.new_page()
    # What the browser asked for and did not get (a missing favicon, script, stylesheet).
    console_errors: list[str] = []
    page.on(
        "console", lambda message: message.type == "error" and console_errors.append(message.text)
    )
    sign_in(page, live_server.url, "reader", "a long enough password")
    assert "Signed in as reader" in page.content()

    page.goto(f"{live_server.url}/imports/")
    row = page.locator(f"tr[data-import='{run.pk}']")
    assert row.locator(".status").inner_text() == "done"
    assert row.locator(".written").inner_text() == str(run.records_written)
    page.screenshot(path=str(SCREENSHOTS / "imports.png"), full_page=True)

    page.goto(f"{live_server.url}/imports/{run.pk}/")
    table = page.locator("table.summary").inner_text()
    assert "location.records" in table and "(not understood, skipped)" in table
    # What was not stored is shown with why, and what was not read by its path.
    quarantined = page.locator("table.quarantine tbody tr")
    assert quarantined.count() == 1
    assert "Takeout/My Activity/Search/MyActivity.json" in quarantined.inner_text()
    assert "yesterday-ish" in quarantined.inner_text()
    skipped = page.locator("ul.skipped li").all_inner_texts()
    assert "Takeout/archive_browser.html" in skipped
    assert "Takeout/Google Photos/Lisbon 2024/IMG_0001.jpg" in skipped
    page.screenshot(path=str(SCREENSHOTS / "import-detail.png"), full_page=True)
    # live_server speaks WSGI only: the pages' /ws/feed/ is tested through daphne elsewhere.
    assert [text for text in console_errors if "WebSocket" not in text] == []

    page.goto(f"{live_server.url}/api/imports/{run.pk}/")
    assert "Import Instance" in page.title() or "Import" in page.content()
    page.screenshot(path=str(SCREENSHOTS / "api-import.png"), full_page=True)


def test_admin_login_page_renders_in_a_browser(browser, live_server):
    page = browser.new_page()
    page.goto(f"{live_server.url}/admin/login/")
    assert page.locator("input[name=username]").is_visible()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "admin-login.png"))
