"""The personal-data page in headless Chromium: counts, the policy form, a masked event."""

from __future__ import annotations

import pytest

from apps.lake.models import Event
from apps.privacy.selectors import finding_counts_of
from apps.privacy.services import pii_scan_backfill
from tests.acting import as_user, one_of
from tests.browser import SCREENSHOTS, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def scanned_import(make_user, import_takeout, scanner):
    # Database work happens before Playwright starts its event loop in this thread.
    user = make_user("reader", password="a long enough password")
    import_takeout(user, points=20)
    with as_user(user):
        pii_scan_backfill(user_id=user.pk)
        counts = finding_counts_of(user_id=user.pk)
    contact = one_of(user, Event, kind="contacts.contact", title="Ana Demo")
    return user, counts, contact.id


def test_personal_data_page_and_masked_event(scanned_import, browser, live_server):
    user, counts, contact_id = scanned_import
    assert counts["medium"] > 0
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page = browser.new_page()
    sign_in(page, live_server.url, "reader", "a long enough password")

    page.click("text=Personal data")
    assert page.locator("td[data-risk=medium]").inner_text() == str(counts["medium"])
    assert page.locator("select[name=medium]").input_value() == "mask"
    page.screenshot(path=str(SCREENSHOTS / "privacy-pii.png"), full_page=True)

    page.goto(f"{live_server.url}/api/privacy/events/{contact_id}/")
    assert "&lt;EMAIL_ADDRESS&gt;" in page.content() or "<EMAIL_ADDRESS>" in page.inner_text("body")
    assert "ana@example.org" not in page.content()
    assert "Ana Demo" not in page.content() and "A** D***" in page.inner_text("body")
    page.screenshot(path=str(SCREENSHOTS / "privacy-masked-event.png"), full_page=True)

    page.goto(f"{live_server.url}/privacy/pii/")
    page.select_option("select[name=medium]", "partial")
    page.click("#pii-policy button[type=submit]")
    page.wait_for_url(f"{live_server.url}/privacy/pii/")
    assert page.locator("select[name=medium]").input_value() == "partial"
    page.goto(f"{live_server.url}/api/privacy/events/{contact_id}/")
    assert "a***@example.org" in page.inner_text("body")
