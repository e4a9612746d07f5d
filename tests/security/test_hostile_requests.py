"""Every route, as an attacker tries it, against the real server (the nginx front and daphne).

Routes are discovered from the URL configuration, so an endpoint added later is
tried too: anonymously and as another user, with other users' ids, oversized
bodies, deep nesting and wrong types. None may answer 5xx or show a traceback,
and nothing of the owner's may reach anyone else or be changed by them.
"""

from __future__ import annotations

import re
import threading
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from django.apps import apps
from django.db import connection
from django.urls import URLPattern, URLResolver, get_resolver

from apps.lake.takeout.records import EventRecord
from tests.acting import as_user, store_records

pytestmark = pytest.mark.django_db(transaction=True)

# The admin is Django's own (staff only, CSRF-protected forms); static files are files.
SKIPPED_PREFIXES = ("admin/", "static/", "media/")
# Routes whose own job is to report a failing service.
MAY_ANSWER_503 = {"/health/ready"}


def _route_templates() -> Iterator[str]:
    """Every route as a path with {name} placeholders; regex-only variants
    (DRF's format suffixes) are left out, their plain twin is tried."""

    def walk(patterns, prefix: str) -> Iterator[str]:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                yield from walk(pattern.url_patterns, prefix + str(pattern.pattern))
            elif isinstance(pattern, URLPattern):
                yield prefix + str(pattern.pattern)

    seen = set()
    for route in walk(get_resolver().url_patterns, ""):
        if route.startswith(SKIPPED_PREFIXES) or "format" in route:
            continue
        path = re.sub(r"\(\?P<(\w+)>[^)]*\)", r"{\1}", route)
        path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", path)
        path = path.replace("^", "").replace("$", "")
        if re.search(r"[\\()\[\]*+?|]", path):
            continue  # a regex we cannot fill in
        path = "/" + path
        if path not in seen:
            seen.add(path)
            yield path


def _user_owned_models():
    for model in apps.get_models():
        field_names = {field.attname for field in model._meta.concrete_fields}
        if "user_id" in field_names and not model._meta.proxy:
            yield model


def _owner_fingerprint(user_id: int) -> dict[str, tuple]:
    """Per user-owned table: how many rows the owner has, and a digest of them."""
    state = {}
    with as_user(user_id), connection.cursor() as cursor:
        for model in _user_owned_models():
            table = model._meta.db_table
            cursor.execute(
                f"SELECT count(*), md5(coalesce(string_agg(t::text, ',' ORDER BY t::text), '')) "
                f"FROM {table} t WHERE user_id = %s",
                [user_id],
            )
            state[table] = cursor.fetchone()
    return state


@pytest.fixture
def victim(make_user, import_takeout):
    """A user with data of every kind the lake holds, marked so a leak is visible."""
    user = make_user("victim", password="a long enough password")
    marker = f"victim-secret-{uuid.uuid4().hex}"
    import_takeout(user, points=30, days=14)
    from datetime import UTC, datetime

    store_records(
        user,
        [EventRecord(kind="note.private", occurred_at=datetime.now(UTC), title=marker)],
        source="ingest",
    )
    from apps.lake.uploads import upload_create

    ids = set()
    with as_user(user):
        upload_create(user=user, filename=f"{marker}.zip", size=10, sha256="0" * 64)
        for model in _user_owned_models():
            ids.update(model.objects.filter(user_id=user.pk).values_list("pk", flat=True)[:1])
    return user, marker, sorted(ids)


@pytest.fixture
def intruder(make_user):
    from rest_framework.authtoken.models import Token

    user = make_user("intruder", password="a long enough password")
    return Token.objects.create(user=user).key


def _bodies() -> dict[str, tuple[bytes, str]]:
    return {
        "deep": (b"[" * 100_000, "application/json"),
        "list": (b"[1, 2, 3]", "application/json"),
        "string": (b'"a string"', "application/json"),
        "wrong types": (
            b'{"id": {"x": []}, "uploads": "all", "size": "big", "filename": 5, '
            b'"events": 7, "q": [], "user": 1, "user_id": 1, "page": -1}',
            "application/json",
        ),
        "not json": (b"{not json", "application/json"),
        "oversized": (b'{"a": "' + b"x" * (3 * 1024 * 1024) + b'"}', "application/json"),
        "form": (b"a=1&b=%ZZ&c[]=", "application/x-www-form-urlencoded"),
    }


def _check(response: requests.Response, path: str, what: str) -> None:
    allowed_5xx = {503} if path in MAY_ANSWER_503 else set()
    assert response.status_code < 500 or response.status_code in allowed_5xx, (
        f"{what}: {response.status_code} {response.text[:300]}"
    )
    assert "Traceback (most recent call last)" not in response.text, what


def test_no_route_answers_500_or_leaks_to_another_user(front, victim, intruder):
    owner, marker, owner_ids = victim
    before = _owner_fingerprint(owner.pk)
    paths = list(_route_templates())
    assert "/api/uploads/{pk}/chunk/" in paths and "/api/imports/" in paths  # discovery works
    ids = [str(i) for i in owner_ids] + ["999999999", "x", "-1", "0" * 40]
    # Bodies are tried on fewer ids: what a body does to a route does not hang on the id.
    body_ids = {ids[0], "x"}

    tokens = {"anonymous": None, "intruder": intruder}
    jobs = []
    for template in paths:
        concrete = (
            [template]
            if "{" not in template
            else [re.sub(r"\{\w+\}", value, template) for value in ids]
        )
        for path in concrete:
            for who in tokens:
                jobs += [(who, method, template, path, None) for method in ("GET", "DELETE")]
                if "{" in template and not any(f"/{value}/" in path for value in body_ids):
                    continue
                jobs += [
                    (who, method, template, path, name)
                    for method in ("POST", "PUT", "PATCH")
                    for name in _bodies()
                ]

    local = threading.local()
    bodies = _bodies()

    def attempt(job) -> None:
        who, method, template, path, body_name = job
        if not hasattr(local, "sessions"):
            local.sessions = {name: requests.Session() for name in tokens}
            for name, token in tokens.items():
                if token:
                    local.sessions[name].headers["Authorization"] = f"Token {token}"
        body, content_type = bodies[body_name] if body_name else (None, None)
        response = local.sessions[who].request(
            method,
            front + path,
            data=body,
            headers={"Content-Type": content_type} if content_type else {},
            timeout=60,
            allow_redirects=False,
        )
        what = f"{who} {method} {path}" + (f" with {body_name} body" if body_name else "")
        _check(response, template, what)
        assert marker not in response.text, f"{what} leaked"
        if body_name == "deep":
            assert response.status_code in (400, 404, 405, 413), what
        if body_name == "oversized":
            assert response.status_code == 413 or "chunk" in path, what

    # A few at a time, as an attacker would; daphne and nginx serve them concurrently.
    with ThreadPoolExecutor(max_workers=6) as pool:
        list(pool.map(attempt, jobs))
    tried = len(jobs)
    assert tried > 300
    # Whatever was sent, the owner's rows are as they were.
    assert _owner_fingerprint(owner.pk) == before
