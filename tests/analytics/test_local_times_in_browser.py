"""Page scripts show times in the user's zone (static/js/local_time.js), in Chromium:
a user in Asia/Kolkata (+05:30) asks the map where they were on a day, and the stay's
start, which the API sends in UTC, is shown on their clock; the timeline shows the
local time there of an event written at another place's offset."""

from __future__ import annotations

import datetime as dt

import pytest

from apps.core.db.context import user_context
from apps.core.models import UserSettings
from apps.lake.pipeline import records_store
from apps.lake.takeout.records import EventRecord, LocationRecord
from tests.browser import SCREENSHOTS, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PASSWORD = "a long enough password"
OFFLINE_TILES = "http://127.0.0.1:9/{z}/{x}/{y}.png"  # nothing listens: no tiles, as offline
ARRIVED = dt.datetime(2024, 5, 2, 18, 40, tzinfo=dt.UTC)  # 00:10 on 3 May in Kolkata


@pytest.fixture
def traveller(make_user, settings):
    settings.DATAPUNK_MAP_TILE_URL = OFFLINE_TILES
    user = make_user("traveller", password=PASSWORD)
    # Database work before Playwright starts its event loop in this thread.
    with user_context(user.pk):
        UserSettings.objects.create(user=user, time_zone="Asia/Kolkata", time_zone_chosen=True)
        fixes = [
            LocationRecord(
                recorded_at=ARRIVED + dt.timedelta(minutes=5 * n),
                latitude=12.9716 + 0.00001 * n,
                longitude=77.5946,
                accuracy_m=10,
            )
            for n in range(11)  # 50 minutes at one place: a stay
        ]
        away = EventRecord(
            kind="timeline.activity",
            occurred_at=dt.datetime(2024, 5, 3, 9, 0, tzinfo=dt.timezone(dt.timedelta(hours=-4))),
            title="Walk in Brooklyn",
        )
        records_store(user_id=user.pk, source="test", records=[*fixes, away])
    return user


def test_the_map_and_the_timeline_show_the_users_clock(traveller, browser, live_server):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page = browser.new_page(viewport={"width": 1200, "height": 900})
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    sign_in(page, live_server.url, "traveller", PASSWORD)

    page.goto(f"{live_server.url}/map/")
    page.wait_for_selector("#map[data-ready=true]")
    assert page.locator("body").get_attribute("data-time-zone") == "Asia/Kolkata"
    page.fill("#where-date", "2024-05-03")
    page.dispatch_event("#where-date", "change")
    stay = page.locator("#where-body ol.events li").first
    stay.wait_for()
    # The API said 18:40Z; the page shows the user's 00:10, not the UTC clock.
    assert stay.locator(".time").inner_text() == "00:10"
    assert "Where you were on 2024-05-03" in page.locator("#where-title").inner_text()
    page.screenshot(path=str(SCREENSHOTS / "map-where-local-time.png"), full_page=True)

    page.goto(f"{live_server.url}/timeline/")
    row = page.locator("ol.events li[data-event]", has_text="Walk in Brooklyn")
    row.wait_for()
    # 13:00 UTC: 18:30 in Kolkata, 09:00 in New York.
    assert row.locator(".time a").inner_text() == "18:30"
    assert row.locator(".there").inner_text() == "· local time there 09:00 (-04:00)"
    page.screenshot(path=str(SCREENSHOTS / "timeline-local-time-there.png"), full_page=True)
    assert errors == []
