"""Dashboard, timeline and map as a person sees them, in headless Chromium.

The user signs in, the sample Takeout is imported for them (the import service
the CLI and the upload use), the daily series are refreshed by the task the
worker runs, and each page must show the data. Screenshots are kept in
var/screenshots/ as test artefacts.
"""

from __future__ import annotations

import pytest

from apps.analytics.tasks import refresh_aggregates
from apps.lake.models import Event
from tests.acting import count_of
from tests.browser import SCREENSHOTS, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PASSWORD = "a long enough password"
# Nothing listens on port 9 (discard): every tile fails, as it does offline.
OFFLINE_TILES = "http://127.0.0.1:9/{z}/{x}/{y}.png"


@pytest.fixture
def reader(make_user, tmp_path, settings, import_takeout):
    settings.DATAPUNK_MAP_TILE_URL = OFFLINE_TILES
    user = make_user("reader", password=PASSWORD)
    import_takeout(user, points=600, days=10)
    refresh_aggregates(user.pk)
    # Database reads happen here, before Playwright runs its event loop in this thread.
    user.event_count = count_of(user, Event)
    return user


def test_dashboard_timeline_and_map_show_the_imported_data(reader, browser, live_server):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    sign_in(page, live_server.url, "reader", PASSWORD)

    # Dashboard (the home page): totals and three drawn charts.
    assert "Signed in as reader" in page.content()
    assert page.locator("#stat-points strong").inner_text() == "600"
    assert int(page.locator("#stat-events strong").inner_text()) == reader.event_count
    for chart in ("chart-events", "chart-distance", "chart-media"):
        page.wait_for_selector(f"#{chart}[data-drawn=true]")
    assert "youtube.watch" in page.locator("table.kinds").inner_text()
    page.screenshot(path=str(SCREENSHOTS / "dashboard.png"), full_page=True)

    # Timeline: events grouped by day, a search, the next page.
    page.click("header nav >> text=Timeline")
    page.wait_for_url(f"{live_server.url}/timeline/")
    assert page.locator("ol.events li[data-event]").count() == reader.event_count  # one page
    assert page.locator("h2.day").count() >= 5
    # The sample's walk: its steps are a measurement, shown as the day's summary row.
    summary = page.locator("li.day-summary")
    assert summary.count() == 1 and summary.inner_text().strip().endswith("4,200 steps")
    page.screenshot(path=str(SCREENSHOTS / "timeline.png"), full_page=True)
    page.goto(f"{live_server.url}/timeline/?limit=10")
    first = set(
        page.locator("ol.events li[data-event]").evaluate_all(
            "els => els.map(e => e.dataset.event)"
        )
    )
    page.click("#older")
    page.wait_for_url("**cursor=**")
    second = set(
        page.locator("ol.events li[data-event]").evaluate_all(
            "els => els.map(e => e.dataset.event)"
        )
    )
    assert len(first) == len(second) == 10 and not first & second
    page.fill("input[name=q]", "pastel")
    page.click("#timeline-filters button[type=submit]")
    page.wait_for_selector("text=Searched for pastel de nata")
    assert page.locator("ol.events li[data-event]").count() == 1
    page.screenshot(path=str(SCREENSHOTS / "timeline-search.png"), full_page=True)

    # Map: points, heatmap, visits and located events, drawn with every tile failing.
    page.click("header nav >> text=Map")
    page.wait_for_selector("#map[data-ready=true]", timeout=20_000)
    map_el = page.locator("#map")
    assert int(map_el.get_attribute("data-points")) == 600
    assert int(map_el.get_attribute("data-visits")) == 5
    assert int(map_el.get_attribute("data-events")) >= 2  # the photo and the saved place
    assert page.locator(".leaflet-heatmap-layer").count() == 1
    assert page.locator("#empty-map").is_hidden()
    page.wait_for_selector("#map[data-tiles-failed]")
    assert page.locator("#tiles-offline").is_visible()
    page.fill("#where-date", "2024-03-02")
    page.dispatch_event("#where-date", "change")
    page.wait_for_selector("#where-panel:not([hidden]) >> text=Where you were on 2024-03-02")
    assert "km" in page.locator("#where-body").inner_text()
    page.screenshot(path=str(SCREENSHOTS / "map.png"), full_page=True)
    assert errors == []


@pytest.fixture
def newcomer(make_user, settings):
    settings.DATAPUNK_MAP_TILE_URL = OFFLINE_TILES
    return make_user("newcomer", password=PASSWORD)


def test_a_new_user_sees_helpful_empty_pages(newcomer, browser, live_server):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    sign_in(page, live_server.url, "newcomer", PASSWORD)
    assert page.locator("#empty-dashboard").is_visible()
    page.screenshot(path=str(SCREENSHOTS / "dashboard-empty.png"), full_page=True)
    page.goto(f"{live_server.url}/timeline/")
    assert page.locator("#empty-timeline").is_visible()
    page.goto(f"{live_server.url}/map/")
    page.wait_for_selector("#map[data-ready=true]")
    assert page.locator("#empty-map").is_visible()
    page.screenshot(path=str(SCREENSHOTS / "map-empty.png"), full_page=True)
