"""Every query parameter any view reads, given the shapes that once answered 500,
on every route: each answer is below 500 and shows no traceback.

Parameter names are discovered from the code (``params.get("x")``,
``one_value(params, "x")``, OpenAPI declarations), routes from the URL
configuration (tests/security/test_hostile_requests.py), so a parameter or
route added later is tried too. Run in-process (Django's test client): the
sweep is thousands of requests, and what it looks for is the application's.

A route that did not read a parameter given its first hostile value (see
query_reads.py: nothing asked for it, nor for the whole query) takes the same
path whatever the value, so the other values are not sent to it again.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from django.test import Client

from apps.lake.takeout.records import EventRecord
from tests.acting import store_records

from . import query_reads
from .test_hostile_requests import _route_templates

pytestmark = pytest.mark.django_db

APPS = Path(__file__).resolve().parents[2] / "apps"
_READS = [
    r"""(?:query_params|GET|params|request\.data)\.get(?:list)?\(\s*["'](\w+)["']""",
    r"""(?:one_value|_values|_owned_id|_number|_date)\(\s*\w+,\s*["'](\w+)["']""",
    r"""OpenApiParameter\(\s*["'](\w+)["']""",
]
# The shapes an attacker's probe found 500s with: the calendar's edges (a day's
# end past 9999-12-31, an offset before year 1), digits that are not ASCII
# (str.isdigit() says yes, int() says no), numbers too big for the database.
HOSTILE_VALUES = [
    "9999-12-31",
    "9999-12-31T23:59:59-05:00",
    "0001-01-01T00:00:00+05:00",
    "²",
    "99999999999999999999999",
    "-1",
]
# Routes given other required parameters too, so the hostile one is reached.
REQUIRED = {"metric": "events"}


def _parameter_names() -> list[str]:
    names: set[str] = set()
    for source in APPS.rglob("*.py"):
        text = source.read_text()
        for pattern in _READS:
            names.update(re.findall(pattern, text))
    return sorted(names)


@pytest.fixture
def signed_in(make_user, settings):
    settings.MIDDLEWARE = ["tests.security.query_reads.RecordQueryReads", *settings.MIDDLEWARE]
    user = make_user("prober", password="a long enough password")
    store_records(
        user,
        [
            EventRecord(
                kind="note.probe", occurred_at=dt.datetime(2024, 5, 1, tzinfo=dt.UTC), title="probe"
            )
        ],
        source="ingest",
    )
    client = Client(raise_request_exception=False)
    client.force_login(user)
    return client


def test_no_parameter_shape_answers_500(signed_in):
    names = _parameter_names()
    assert {"start", "end", "limit", "place", "geofence", "date", "at"} <= set(
        names
    )  # discovery works
    routes = [route for route in _route_templates() if "{" not in route]
    assert "/api/events/" in routes
    failures = []
    read_by: dict[str, set[str]] = {}
    sent = 0
    for route in routes:
        for name in names:
            for value in HOSTILE_VALUES:
                params = {**REQUIRED, name: value}
                response = signed_in.get(route, params)
                sent += 1
                body = response.content.decode(errors="replace")
                if response.status_code >= 500 and route != "/health/ready" or "Traceback" in body:
                    failures.append(f"{route}?{name}={value}: {response.status_code}")
                if not query_reads.read(name):
                    break  # the route never looked at it: any other value takes this path
                read_by.setdefault(route, set()).add(name)
    # The recorder sees reads through query_params, one_value() and request.GET alike.
    assert {"start", "end", "limit"} <= read_by["/api/events/"], read_by.get("/api/events/")
    assert {"q"} <= read_by["/api/search/"], read_by.get("/api/search/")
    print(f"{sent} requests; parameters read per route: {read_by}")
    assert failures == [], f"{len(failures)} of {sent}"
