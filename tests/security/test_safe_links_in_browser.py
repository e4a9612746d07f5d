"""A stored javascript: URL is shown as text, never a live link, on every page
that lists events (the search page and the timeline), in headless Chromium."""

from __future__ import annotations

import datetime as dt

import pytest

from apps.analytics.search.services import embeddings_backfill
from apps.core.templatetags.links import link_url
from apps.lake.takeout.records import EventRecord
from tests.acting import as_user, store_records
from tests.browser import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PASSWORD = "a long enough password"
HOSTILE_URLS = [
    "javascript:alert(document.domain)",
    " JavaScript:alert(1)",
    "java\tscript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "vbscript:msgbox(1)",
    "//evil.example/",
    "https:alert(1)",
]


@pytest.mark.parametrize("url", HOSTILE_URLS)
def test_the_filter_refuses_every_scheme_but_http_and_https(url):
    assert link_url(url) == ""


@pytest.mark.parametrize("url", ["https://example.org/a?b=1", "http://example.org/"])
def test_the_filter_keeps_web_links(url):
    assert link_url(url) == url


@pytest.fixture
def hostile_events(make_user):
    user = make_user("reader", password=PASSWORD)
    now = dt.datetime(2024, 5, 1, 12, tzinfo=dt.UTC)
    records = [
        EventRecord(
            kind="note.ingested",
            occurred_at=now + dt.timedelta(minutes=n),
            title=f"zanzibar probe {n}",
            url=url,
        )
        for n, url in enumerate(HOSTILE_URLS)
    ]
    records.append(
        EventRecord(
            kind="note.ingested", occurred_at=now, title="zanzibar web", url="https://example.org/"
        )
    )
    store_records(user, records, source="ingest")
    with as_user(user):
        embeddings_backfill(user_id=user.pk)
    return user


@pytest.mark.parametrize("page_path", ["/search/?q=zanzibar+probe", "/timeline/?q=zanzibar"])
def test_a_stored_javascript_url_is_not_a_live_link(
    hostile_events, browser, live_server, page_path
):
    page = browser.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    sign_in(page, live_server.url, "reader", PASSWORD)
    page.goto(live_server.url + page_path)
    for n in range(len(HOSTILE_URLS)):
        page.wait_for_selector(f"text=zanzibar probe {n}")
    hrefs = page.locator("a").evaluate_all("links => links.map(a => a.href)")
    assert not [
        href
        for href in hrefs
        if not href.startswith(live_server.url) and not href.startswith("https://example.org")
    ], hrefs
    # Clicking each title runs nothing and goes nowhere.
    for n in range(len(HOSTILE_URLS)):
        page.click(f"text=zanzibar probe {n}")
    assert dialogs == []
    assert page.url == live_server.url + page_path.replace("+", "+")
    # A web link is still a link.
    if page_path.startswith("/timeline/"):
        assert page.locator("a[href='https://example.org/']").count() == 1
