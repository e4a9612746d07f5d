"""Stays, whereabouts, map data and geofences (with their enter/exit events)."""

from __future__ import annotations

import datetime as dt

import pytest

from apps.analytics.geofences import geofence_crossings, geofence_events_emit
from apps.analytics.models import Geofence
from apps.analytics.spatial import detect_stays, haversine_m, merge_visits, stays_of
from apps.lake.models import Event, Visit
from tests.acting import all_of, as_user, count_of

from .conftest import at, store_fixes

pytestmark = pytest.mark.django_db

HOME = (38.7223, -9.1393)
CAFE = (38.7300, -9.1400)  # ~860 m north


def _walk(start: dt.datetime, origin, target, minutes: int, step_s: int = 60):
    n = minutes * 60 // step_s
    return [
        (
            start + dt.timedelta(seconds=i * step_s),
            origin[0] + (target[0] - origin[0]) * i / max(1, n - 1),
            origin[1] + (target[1] - origin[1]) * i / max(1, n - 1),
        )
        for i in range(n)
    ]


def _day_of_fixes(day: int):
    """Home 08:00-09:00, walk 15 min, café 09:15-10:15, walk back, home again."""
    t0 = at(day, 8)
    fixes = _walk(t0, HOME, HOME, 60)
    fixes += _walk(t0 + dt.timedelta(minutes=60), HOME, CAFE, 15)
    fixes += _walk(t0 + dt.timedelta(minutes=75), CAFE, CAFE, 60)
    fixes += _walk(t0 + dt.timedelta(minutes=135), CAFE, HOME, 15)
    fixes += _walk(t0 + dt.timedelta(minutes=150), HOME, HOME, 30)
    return fixes


def test_detect_stays_finds_dwells_and_skips_the_walks():
    stays = detect_stays(_day_of_fixes(6))
    # Each stay also takes the first and last steps of the walks next to it (within 150 m).
    assert [55 <= s.minutes <= 70 for s in stays[:2]] == [True, True]
    assert 28 <= stays[2].minutes <= 35
    assert haversine_m(stays[1].lat, stays[1].lon, *CAFE) < 30
    assert haversine_m(stays[0].lat, stays[0].lon, *HOME) < 30


def test_a_short_pause_is_not_a_stay():
    fixes = _walk(at(6, 8), HOME, HOME, 10)
    assert detect_stays(fixes) == []
    assert len(detect_stays(fixes, min_dwell=dt.timedelta(minutes=5))) == 1


def test_stays_are_named_after_overlapping_visits_and_lone_visits_are_kept(owner):
    from django.contrib.gis.geos import Point

    from apps.lake.models import Place

    store_fixes(owner, _day_of_fixes(6))
    with as_user(owner):
        place = Place.objects.create(
            user=owner,
            place_id="cafe",
            name="Café Demo",
            location=Point(CAFE[1], CAFE[0], srid=4326),
        )
        Visit.objects.create(
            user=owner,
            place=place,
            started_at=at(6, 9, 20),
            ended_at=at(6, 10, 0),
            location=Point(CAFE[1], CAFE[0], srid=4326),
            content_hash=b"v1",
        )
        Visit.objects.create(  # no fixes at all that evening: kept as its own stay
            user=owner,
            place=place,
            started_at=at(6, 19),
            ended_at=at(6, 21),
            location=Point(CAFE[1], CAFE[0], srid=4326),
            content_hash=b"v2",
        )
        stays = stays_of(user_id=owner.pk, start=at(6, 0), end=at(7, 0))
        assert [(s.name, s.origin) for s in stays] == [
            ("", ["points"]),
            ("Café Demo", ["points", "visit"]),
            ("", ["points"]),
            ("Café Demo", ["visit"]),
        ]


def test_merge_visits_ignores_a_visit_far_away():
    from django.contrib.gis.geos import Point

    stays = detect_stays(_day_of_fixes(6))
    far = Visit(started_at=at(6, 9, 20), ended_at=at(6, 10), location=Point(2.35, 48.85, srid=4326))
    merged = merge_visits(stays, [far])
    assert len(merged) == len(stays) + 1


def test_where_was_i_on_a_date_and_at_a_moment(client, owner, outsider):
    store_fixes(owner, _day_of_fixes(6))
    client.force_login(owner)
    day = client.get("/api/where/?date=2024-05-06").json()
    assert day["fixes"] == len(_day_of_fixes(6))
    assert len(day["stays"]) == 3
    assert day["distance_km"] == pytest.approx(1.7, abs=0.3)  # there and back, ~860 m each
    assert client.get("/api/where/?date=2024-05-07").json()["fixes"] == 0
    moment = client.get("/api/where/?at=2024-05-06T09:45:00Z").json()["fix"]
    assert haversine_m(moment["lat"], moment["lon"], *CAFE) < 30
    client.force_login(outsider)
    assert client.get("/api/where/?date=2024-05-06").json()["fixes"] == 0
    assert client.get("/api/where/?at=2024-05-06T09:45:00Z").json()["fix"] is None


@pytest.mark.parametrize(
    "url",
    [
        "/api/where/",
        "/api/where/?date=2024-05-06&at=2024-05-06T10:00",
        "/api/where/?date=tuesday",
        "/api/where/?at=noon",
        "/api/stays/",
        "/api/stays/?start=2024-01-01&end=2024-12-31",
        "/api/stays/?start=2024-05-07&end=2024-05-01",
        "/api/map/?start=bad",
    ],
)
def test_spatial_bad_input_is_a_400(client, owner, url):
    client.force_login(owner)
    response = client.get(url)
    assert response.status_code == 400, response.content
    assert response.json()["detail"]


@pytest.mark.parametrize(
    "url", ["/api/where/?date=2024-05-06", "/api/stays/", "/api/map/", "/api/geofences/"]
)
def test_spatial_api_needs_a_login(client, url):
    assert client.get(url).status_code == 403


def test_map_data_thins_points_and_keeps_them_to_the_user(client, owner, outsider):
    from apps.analytics import api

    store_fixes(owner, _day_of_fixes(6))
    client.force_login(owner)
    body = client.get("/api/map/").json()
    assert body["points_total"] == len(body["points"]) == len(_day_of_fixes(6))
    original = api.MAX_MAP_POINTS
    api.MAX_MAP_POINTS = 50
    try:
        thinned = client.get("/api/map/").json()
    finally:
        api.MAX_MAP_POINTS = original
    assert 25 <= len(thinned["points"]) <= 50
    assert client.get("/api/map/?start=2024-05-07").json()["points"] == []
    client.force_login(outsider)
    assert client.get("/api/map/").json()["points_total"] == 0


def _circle(client, **extra):
    body = {"name": "Café", "lat": CAFE[0], "lon": CAFE[1], "radius_m": 120, **extra}
    return client.post("/api/geofences/", body, content_type="application/json")


def test_geofence_crossings_become_enter_and_exit_events_once(client, owner):
    store_fixes(owner, _day_of_fixes(6) + _day_of_fixes(7))
    client.force_login(owner)
    response = _circle(client)
    assert response.status_code == 201, response.content
    with as_user(owner):  # as the task runs the service
        geofence = Geofence.objects.get(pk=response.json()["id"])
        crossings = geofence_crossings(geofence=geofence)
        assert [c.direction for c in crossings] == ["enter", "exit", "enter", "exit"]
        assert geofence_events_emit(geofence_id=geofence.pk) == 4
        assert geofence_events_emit(geofence_id=geofence.pk) == 0  # idempotent
    events = all_of(owner, Event, "occurred_at", kind__startswith="geofence.")
    assert [e.kind for e in events] == ["geofence.enter", "geofence.exit"] * 2
    assert events[0].title == "Entered Café" and events[0].data["geofence_id"] == geofence.pk
    assert at(6, 9) < events[0].occurred_at < at(6, 9, 20)
    # On the timeline; an enter lies inside the area (an exit at the first fix outside).
    assert len(client.get("/api/events/?kind=geofence.*").json()["results"]) == 4
    inside = client.get(f"/api/events/?geofence={geofence.pk}&kind=geofence.*").json()["results"]
    assert [e["kind"] for e in inside] == ["geofence.enter"] * 2


def test_polygon_geofence(client, owner):
    store_fixes(owner, _day_of_fixes(6))
    client.force_login(owner)
    lat, lon = CAFE
    d = 0.001
    ring = [
        [lon - d, lat - d],
        [lon + d, lat - d],
        [lon + d, lat + d],
        [lon - d, lat + d],
        [lon - d, lat - d],
    ]
    response = client.post(
        "/api/geofences/",
        {"name": "Block", "area": {"type": "Polygon", "coordinates": [ring]}},
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    assert response.json()["area"]["type"] == "Polygon"
    with as_user(owner):
        geofence = Geofence.objects.get(pk=response.json()["id"])
        assert [c.direction for c in geofence_crossings(geofence=geofence)] == ["enter", "exit"]


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"name": ""},
        {"name": "x"},
        {"name": "x", "lat": 1, "lon": 2},
        {"name": "x", "lat": 100, "lon": 2, "radius_m": 5},
        {"name": "x", "lat": 1, "lon": 2, "radius_m": -1},
        {"name": "x", "lat": "a", "lon": 2, "radius_m": 5},
        {"name": "x", "lat": True, "lon": 2, "radius_m": 5},
        {"name": "x", "lat": [1], "lon": 2, "radius_m": 5},
        {"name": "x", "lat": 1, "lon": 2, "radius_m": 10**400},  # past float's range
        {"name": 5, "lat": 1, "lon": 2, "radius_m": 5},
        {"name": "x", "area": "square"},
        {"name": "x", "area": {"type": "Polygon", "coordinates": [[[0, 0], [1, 1]]]}},
        {
            "name": "x",
            "area": {"type": "Polygon", "coordinates": [[[0, 0], [2, 2], [0, 2], [2, 0], [0, 0]]]},
        },
        {
            "name": "x",
            "area": {"type": "Polygon", "coordinates": [[[0, 0], [500, 0], [500, 1], [0, 0]]]},
        },
        {"name": "x", "area": {"type": "Point", "coordinates": [0, 0]}},
        {"name": "x", "lat": 1, "lon": 2, "radius_m": 5, "area": {"type": "Polygon"}},
    ],
)
def test_geofence_bad_input_is_a_400(client, owner, body):
    client.force_login(owner)
    response = client.post("/api/geofences/", body, content_type="application/json")
    assert response.status_code == 400, response.content
    assert response.json()["detail"]
    assert count_of(owner, Geofence) == 0


def test_geofence_non_object_body_and_duplicate_name(client, owner):
    client.force_login(owner)
    assert (
        client.post("/api/geofences/", [1, 2], content_type="application/json").status_code == 400
    )
    assert _circle(client).status_code == 201
    again = _circle(client)
    assert again.status_code == 400 and "already" in again.json()["detail"]


def test_another_users_geofence_is_not_found(client, owner, outsider):
    client.force_login(owner)
    pk = _circle(client).json()["id"]
    client.force_login(outsider)
    assert client.get(f"/api/geofences/{pk}/").status_code == 404
    assert client.delete(f"/api/geofences/{pk}/").status_code == 404
    assert client.get("/api/geofences/").json()["results"] == []
    assert client.get(f"/api/events/?geofence={pk}").status_code == 400
    client.force_login(owner)
    assert client.get(f"/api/geofences/{pk}/").json()["name"] == "Café"
    assert client.delete(f"/api/geofences/{pk}/").status_code == 204
    assert count_of(owner, Geofence) == 0


def test_emit_task_covers_every_geofence_of_the_user(owner):
    from django.contrib.gis.geos import Point

    from apps.analytics.tasks import emit_geofence_events

    store_fixes(owner, _day_of_fixes(6))
    with as_user(owner):
        Geofence.objects.create(
            user=owner, name="a", center=Point(CAFE[1], CAFE[0], srid=4326), radius_m=100
        )
        Geofence.objects.create(
            user=owner, name="b", center=Point(CAFE[1], CAFE[0], srid=4326), radius_m=200
        )
    emit_geofence_events(owner.pk)
    assert count_of(owner, Event, kind="geofence.enter") == 2
    emit_geofence_events(owner.pk, 10**9)  # a geofence that is gone: quietly nothing
