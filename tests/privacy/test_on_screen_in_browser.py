"""The owner's pages in headless Chromium: PII marked, a masked card revealed by a click
(through the audited endpoint, the page's own static JS under the CSP), mask on screen."""

from __future__ import annotations

import pytest

from apps.privacy.services import pii_scan_events
from tests.acting import as_user
from tests.browser import SCREENSHOTS, sign_in
from tests.privacy.factories import make_event

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "a long enough password"


@pytest.fixture
def scanned_mail(make_user, scanner):
    # Database work happens before Playwright starts its event loop in this thread.
    user = make_user("shown", password=PASSWORD)
    event = make_event(
        user,
        title="Mail from maria.keller@example.org to Tom Fischer",
        text="card 4111 1111 1111 1111, server 192.168.178.1",
        data={"to": [{"email": "maria.keller@example.org"}], "kcal": 14.16169065485398},
    )
    with as_user(user):
        pii_scan_events(user_id=user.pk, event_ids=[event.id])
    return event.id


def test_marks_reveal_and_mask_on_screen(scanned_mail, browser, live_server):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page = browser.new_page()
    blocked: list[str] = []
    page.on(
        "console", lambda m: blocked.append(m.text) if "Content Security Policy" in m.text else None
    )
    sign_in(page, live_server.url, "shown", PASSWORD)

    page.goto(f"{live_server.url}/timeline/")
    row = page.locator(f"li[data-event='{scanned_mail}']")
    assert row.locator("mark[data-entity=EMAIL_ADDRESS]").inner_text() == "maria.keller@example.org"
    assert row.locator("mark[data-entity=PERSON]").inner_text() == "Tom Fischer"
    assert "4111" not in row.inner_text()
    row.locator(".time a").click()

    page.wait_for_url(f"{live_server.url}/events/{scanned_mail}/")
    card = page.locator("#field-text mark[data-entity=CREDIT_CARD]")
    assert card.locator(".pii-value").inner_text() == "<CREDIT_CARD>"
    assert "4111" not in page.content()
    assert page.locator("tr[data-field='data/kcal'] td").inner_text() == "14.16169065485398"
    page.screenshot(path=str(SCREENSHOTS / "pii-on-screen-masked.png"), full_page=True)

    card.locator("button.pii-reveal").click()
    page.wait_for_selector("#field-text mark[data-entity=CREDIT_CARD][data-revealed=true]")
    assert card.inner_text() == "4111 1111 1111 1111"
    assert (
        page.locator("#field-text").inner_text() == "card 4111 1111 1111 1111, server 192.168.178.1"
    )
    page.screenshot(path=str(SCREENSHOTS / "pii-on-screen-revealed.png"), full_page=True)

    page.goto(f"{live_server.url}/privacy/")
    audit = page.locator("tr", has_text="pii.reveal")
    assert audit.count() == 1
    assert f"event:{scanned_mail}.text" in audit.inner_text()

    page.goto(f"{live_server.url}/settings/")
    page.check("#settings-mask-on-screen input[name=mask_on_screen]")
    page.click("#settings-mask-on-screen button[type=submit]")
    page.wait_for_url(f"{live_server.url}/settings/")
    page.goto(f"{live_server.url}/events/{scanned_mail}/")
    assert "maria.keller" not in page.inner_text("body")
    assert page.locator("#event-title mark.pii-masked").count() == 2
    page.screenshot(path=str(SCREENSHOTS / "pii-on-screen-mask-all.png"), full_page=True)
    assert blocked == []
