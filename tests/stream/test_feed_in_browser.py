"""A person watches /feed in Chromium (daphne serving HTTP and websockets)
while a device ingests an event over HTTP: it appears without a reload."""

from __future__ import annotations

import asyncio
import json
import sys
import threading
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.browser import SCREENSHOTS
from tests.stream.conftest import ingest_key_for

from ..lake.test_upload_in_browser import _free_port, _wait_for_port

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def daphne(child_env, background):
    port = _free_port()
    command = [
        str(Path(sys.executable).parent / "daphne"),
        *("-b", "127.0.0.1", "-p", str(port), "datapunk.asgi:application"),
    ]
    process = background("daphne", command, {**child_env, "DEBUG": "true"})
    _wait_for_port(port, process)
    return f"http://127.0.0.1:{port}"


def _ingest(base_url: str, api_key: str, event: dict) -> dict:
    request = urllib.request.Request(
        f"{base_url}/api/ingest/events/",
        data=json.dumps(event).encode(),
        headers={"Authorization": f"Bearer {api_key}", "Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        assert response.status == 202
        return json.loads(response.read())


@pytest.fixture
def watcher(make_user):
    # Database work before Playwright starts its event loop in this thread.
    user = make_user("watcher", password="a long enough password")
    return user.pk, ingest_key_for(user)


def _publish_like_an_import(env: dict[str, str], user_id: int, progress: dict) -> None:
    """What a running import publishes, sent to daphne's channel layer from a thread
    (Playwright's event loop owns this one)."""
    from channels_redis.core import RedisChannelLayer

    from apps.core.feed import feed_group

    layer = RedisChannelLayer(hosts=[env["REDIS_URL"]], prefix=env["CHANNELS_PREFIX"])
    message = {"type": "feed.message", "message": {"type": "import.progress", "data": progress}}
    thread = threading.Thread(
        target=lambda: asyncio.run(layer.group_send(feed_group(user_id), message))
    )
    thread.start()
    thread.join(timeout=30)


def test_an_ingested_event_appears_live_on_the_feed(watcher, daphne, child_env, browser):
    user_id, key = watcher
    page = browser.new_page()
    page.goto(f"{daphne}/accounts/login/")
    page.fill("input[name=login]", "watcher")
    page.fill("input[name=password]", "a long enough password")
    page.click("button[type=submit]")
    page.wait_for_url(f"{daphne}/")
    page.goto(f"{daphne}/feed")  # without the slash, as a person types it
    page.wait_for_selector("#feed-state[data-state=live]", timeout=30_000)
    assert page.locator("#feed-events li[data-event]").count() == 0

    stamp = datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
    answer = _ingest(
        daphne,
        key.api_key,
        {
            "kind": "mood.logged",
            "occurred_at": stamp,
            "title": "Feeling <b>fine</b> from the phone",
        },
    )

    row = page.locator(f"#feed-events li[data-event='{answer['event_ids'][0]}']")
    row.wait_for(timeout=15_000)
    assert row.locator(".kind").inner_text() == "mood.logged"
    # Shown as text, never as markup.
    assert row.locator(".title").inner_text() == "Feeling <b>fine</b> from the phone"
    # In the user's zone (none chosen: settings.TIME_ZONE, UTC), as the pages show times.
    assert row.locator("time").inner_text() == stamp[:16].replace("T", " ")
    assert row.locator("time").get_attribute("datetime") == stamp

    _publish_like_an_import(
        child_env,
        user_id,
        {
            "import_id": 41,
            "status": "running",
            "bytes_done": 50,
            "bytes_total": 100,
            "records_written": 1234,
            "current": "Takeout/Chrome/History.json",
        },
    )
    progress = page.locator("#feed-imports [data-import='41']")
    progress.wait_for(timeout=15_000)
    assert progress.locator(".written").inner_text() == "1234"
    assert "History.json" in progress.locator(".current").inner_text()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "feed-live.png"), full_page=True)

    # The page's own button makes a key and shows it once.
    page.click("#rotate-key")
    page.wait_for_selector("#issued-key:not([hidden])")
    assert page.locator("#issued-key .api-key").inner_text().startswith("dpk_")
    page.reload()
    assert (
        page.locator(f"[data-event='{answer['event_ids'][0]}']").count() == 1
    )  # server-rendered now


@pytest.fixture
def watcher_in_kolkata(make_user):
    from apps.core.db.context import user_context
    from apps.core.models import UserSettings

    user = make_user("kolkata", password="a long enough password")
    with user_context(user.pk):
        UserSettings.objects.create(user=user, time_zone="Asia/Kolkata", time_zone_chosen=True)
    return user.pk, ingest_key_for(user)


def test_live_rows_show_the_users_clock_not_utc(watcher_in_kolkata, daphne, browser):
    _, key = watcher_in_kolkata
    page = browser.new_page()
    page.goto(f"{daphne}/accounts/login/")
    page.fill("input[name=login]", "kolkata")
    page.fill("input[name=password]", "a long enough password")
    page.click("button[type=submit]")
    page.wait_for_url(f"{daphne}/")
    page.goto(f"{daphne}/feed/")
    page.wait_for_selector("#feed-state[data-state=live]", timeout=30_000)

    # A phone at +05:30 and a client writing UTC: both shown on the user's clock.
    answer = _ingest(
        daphne,
        key.api_key,
        {
            "events": [
                {"kind": "mood.logged", "occurred_at": "2024-05-03T00:30:00+05:30", "title": "a"},
                {"kind": "mood.logged", "occurred_at": "2024-05-02T19:45:00Z", "title": "b"},
            ]
        },
    )
    first, second = answer["event_ids"]
    row = page.locator(f"#feed-events li[data-event='{first}']")
    row.wait_for(timeout=15_000)
    assert row.locator("time").inner_text() == "2024-05-03 00:30"
    assert row.locator("time").get_attribute("datetime") == "2024-05-02T19:00:00Z"
    other = page.locator(f"#feed-events li[data-event='{second}'] time")
    assert other.inner_text() == "2024-05-03 01:15"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "feed-live-local-time.png"), full_page=True)
    page.reload()  # server-rendered now: the same clock
    assert page.locator(f"[data-event='{first}'] time").inner_text() == "2024-05-03 00:30"
