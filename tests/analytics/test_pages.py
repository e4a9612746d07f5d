"""The dashboard, timeline and map pages as HTML: data, empty states, bad input."""

from __future__ import annotations

import json
import re

import pytest

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("url", ["/", "/timeline/", "/map/"])
def test_pages_need_a_login(client, url):
    response = client.get(url)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_empty_states_say_what_to_do(client, owner):
    client.force_login(owner)
    dashboard = client.get("/").content.decode()
    assert 'id="empty-dashboard"' in dashboard and "Import your Google Takeout" in dashboard
    timeline = client.get("/timeline/").content.decode()
    assert 'id="empty-timeline"' in timeline and "/imports/" in timeline
    map_page = client.get("/map/").content.decode()
    assert 'id="empty-map"' in map_page  # shown by the script when the API has nothing


def test_navigation_links_every_section(client, owner):
    client.force_login(owner)
    page = client.get("/timeline/").content.decode()
    for href in [
        "/",
        "/timeline/",
        "/map/",
        "/search/",
        "/imports/",
        "/connections/",
        "/privacy/",
        "/feed/",
    ]:
        assert f'href="{href}"' in page
    assert re.search(r'<a href="/timeline/" class="active">', page)


def test_dashboard_shows_the_series_and_totals(client, sample_owner):
    client.force_login(sample_owner)
    page = client.get("/").content.decode()
    assert "<strong>300</strong> location points" in page
    assert 'id="chart-events"' in page and 'id="chart-distance"' in page
    chart = json.loads(
        re.search(r'id="chart-data" type="application/json">(.*?)</script>', page).group(1)
    )
    assert len(chart["days"]) >= 5
    assert sum(chart["km"]) > 5
    assert "youtube.watch" in chart["media"]
    assert "youtube.watch" in page


def test_dashboard_before_the_series_are_computed_says_so(client, owner, tmp_path, import_takeout):
    from .conftest import SAMPLE

    import_takeout(owner, **SAMPLE)
    client.force_login(owner)
    page = client.get("/").content.decode()
    assert 'id="series-pending"' in page
    assert "youtube.watch" in page  # the per-kind table reads the lake itself


def test_timeline_page_lists_groups_and_pages(client, sample_owner):
    client.force_login(sample_owner)
    page = client.get("/timeline/?limit=10").content.decode()
    assert page.count("data-event=") == 10
    assert 'class="day"' in page
    older = re.search(r'id="older" href="/timeline/\?([^"]+)"', page).group(1)
    second = client.get("/timeline/?" + older.replace("&amp;", "&")).content.decode()
    first_ids = set(re.findall(r'data-event="(\d+)"', page))
    assert first_ids.isdisjoint(re.findall(r'data-event="(\d+)"', second))
    assert "Newest" in second


def test_timeline_page_search_and_bad_filters(client, sample_owner):
    client.force_login(sample_owner)
    found = client.get("/timeline/?q=pastel").content.decode()
    assert "Searched for pastel de nata" in found
    assert 'id="no-match"' in client.get("/timeline/?q=zzzzqqq").content.decode()
    bad = client.get("/timeline/?start=someday")
    assert bad.status_code == 200
    assert 'role="alert"' in bad.content.decode() and "not a date" in bad.content.decode()
    assert client.get("/timeline/?cursor=%00%01").status_code == 200


def test_map_page_carries_the_configured_tile_server(client, owner, settings):
    settings.DATAPUNK_MAP_TILE_URL = "http://tiles.example.invalid/{z}/{x}/{y}.png"
    client.force_login(owner)
    page = client.get("/map/").content.decode()
    assert "tiles.example.invalid" in page
    assert "/static/vendor/leaflet/leaflet.js" in page
    assert "/static/vendor/leaflet.heat/leaflet-heat.js" in page
    # Every script and stylesheet comes from this server, none from a CDN. (Not a
    # search for "cdn" in the page: the CSRF token can hold those letters.)
    assets = re.findall(r'<(?:script|link)\b[^>]*\b(?:src|href)="([^"]+)"', page)
    assert assets and all(url.startswith("/") and not url.startswith("//") for url in assets), (
        assets
    )


def test_static_libraries_are_served_with_their_licences(client):
    from django.contrib.staticfiles import finders

    for path in [
        "vendor/leaflet/leaflet.js",
        "vendor/leaflet/LICENSE",
        "vendor/leaflet.heat/leaflet-heat.js",
        "vendor/leaflet.heat/LICENSE",
        "vendor/chartjs/chart.umd.min.js",
        "vendor/chartjs/LICENSE.md",
    ]:
        assert finders.find(path), path


def test_only_http_links_are_made_from_imported_urls(client, owner):
    from apps.lake.takeout.records import EventRecord

    from .conftest import at, store_events

    store_events(
        owner,
        EventRecord(kind="x.bad", occurred_at=at(1), title="evil", url="javascript:alert(1)"),
        EventRecord(kind="x.good", occurred_at=at(2), title="fine", url="https://example.org/"),
    )
    client.force_login(owner)
    page = client.get("/timeline/").content.decode()
    assert 'href="javascript:' not in page
    assert "evil" in page
    assert 'href="https://example.org/"' in page


def test_map_markers_pass_the_redaction_once(client, sample_owner, monkeypatch):
    calls: list[int] = []

    def mask(*, user_id, payloads):
        calls.append(len(payloads))
        return [{**p, "title": "[masked]"} for p in payloads]

    monkeypatch.setattr("apps.analytics.selectors.redact_event_payloads", mask)
    client.force_login(sample_owner)
    events = client.get("/api/map/").json()["events"]
    assert len(calls) == 1 and events and {e["title"] for e in events} == {"[masked]"}
    assert "data" not in events[0] and "text" not in events[0]
