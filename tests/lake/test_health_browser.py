"""The Health page and the time zone detection as a person meets them, in headless Chromium."""

from __future__ import annotations

import datetime as dt

import pytest

from apps.core.db.context import user_context
from apps.lake.metrics import PREFERRED_STREAMS, MetricRow, metrics_write
from tests.browser import SCREENSHOTS, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PASSWORD = "a long enough password"
MERGED = "derived:com.google.step_count.delta:com.google.android.gms:merge_step_deltas"
BPM = "derived:com.google.heart_rate.bpm:com.google.android.gms:merge_heart_rate_bpm"


@pytest.fixture
def walker(make_user):
    user = make_user("walker", password=PASSWORD)
    first = dt.datetime(2024, 5, 1, 9, 0, tzinfo=dt.UTC)
    rows = []
    for day in range(7):
        t = first + dt.timedelta(days=day)
        for stream in (PREFERRED_STREAMS["steps"][0], MERGED):
            rows.append(
                MetricRow("steps", t, t + dt.timedelta(hours=1), 3000 + 400 * day, "count", stream)
            )
        for minute, bpm in ((0, 55 + day), (30, 80 + day), (60, 130 - day)):
            moment = t + dt.timedelta(minutes=minute)
            rows.append(MetricRow("heart_rate", moment, moment, bpm, "bpm", BPM))
    with user_context(user.pk):
        metrics_write(user_id=user.pk, rows=rows)
    return user


def test_the_health_page_draws_charts_and_the_browser_zone_is_stored(walker, browser, live_server):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(
        viewport={"width": 1280, "height": 1000}, timezone_id="Asia/Kolkata"
    )
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    sign_in(page, live_server.url, "walker", PASSWORD)
    # The first page after sign-in reports the browser's zone (templates/core/).
    page.wait_for_load_state("networkidle")
    page.click("header nav >> text=Health")
    page.wait_for_url(f"{live_server.url}/health/")
    for chart in ("chart-steps", "chart-heart_rate"):
        page.wait_for_selector(f"#{chart}[data-drawn=true]")
    assert "Asia/Kolkata" in page.locator(".page-head").inner_text()
    page.screenshot(path=str(SCREENSHOTS / "health.png"), full_page=True)
    # Stored (the default is UTC), under its current name (Chromium reports Asia/Calcutta).
    page.goto(f"{live_server.url}/settings/")
    assert page.locator("input[name=time_zone]").input_value() == "Asia/Kolkata"
    context.close()
    assert errors == []
