"""Deeply nested JSON is a 400 everywhere, never a RecursionError 500."""

import pytest

from apps.core.middleware import json_depth_exceeds

pytestmark = pytest.mark.django_db


def test_depth_counts_brackets_outside_strings_only():
    assert json_depth_exceeds(b"[" * 65 + b"]" * 65, 64)
    assert not json_depth_exceeds(b"[" * 64 + b"]" * 64, 64)
    assert not json_depth_exceeds(b'{"a": "' + b"[" * 1000 + b'"}', 64)
    assert not json_depth_exceeds(b'{"a": "\\"[[[[", "b": [1, {"c": []}]}', 4)
    assert json_depth_exceeds(b'{"a": "\\"", "b": [[[[]]]]}', 3)


@pytest.mark.parametrize("path", ["/api/imports/", "/api/uploads/", "/accounts/login/"])
def test_deep_nesting_is_400_on_any_route(client, owner, path):
    client.force_login(owner)
    response = client.post(path, b"[" * 100_000, content_type="application/json")
    assert response.status_code == 400
    assert "nested too deeply" in response.json()["detail"]


@pytest.mark.parametrize("content_type", ["text/plain", "", "application/x-ndjson"])
@pytest.mark.parametrize("path", ["/api/ingest/events/", "/api/imports/"])
def test_deep_nesting_is_400_whatever_the_content_type_says(client, owner, path, content_type):
    client.force_login(owner)
    response = client.post(path, b"[" * 100_000, content_type=content_type)
    assert response.status_code == 400
    assert "nested too deeply" in response.json()["detail"]


def test_deep_nesting_is_400_without_credentials(client):
    response = client.post("/api/imports/", b"[" * 100_000, content_type="application/json")
    assert response.status_code == 400


def test_a_recursion_error_from_any_parser_is_400(client, owner, monkeypatch, settings):
    # Below the guard's limit but above what the parser manages (a parser with
    # its own recursion limit): the safety net still answers 400.
    settings.DATAPUNK_MAX_JSON_DEPTH = 10**6
    client.force_login(owner)
    response = client.post("/api/imports/", b"[" * 100_000, content_type="application/json")
    assert response.status_code == 400


def test_a_json_body_over_the_limit_is_413(client, owner, settings):
    settings.DATAPUNK_MAX_REQUEST_BYTES = settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    client.force_login(owner)
    response = client.post(
        "/api/imports/", b'{"uploads": [' + b"1," * 1000 + b"1]}", content_type="application/json"
    )
    assert response.status_code == 413
