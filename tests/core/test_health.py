import socket

import pytest


@pytest.mark.django_db
def test_live_answers_without_touching_services(client):
    response = client.get("/health/live")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.django_db
def test_ready_checks_database_extensions_redis_and_broker(client):
    response = client.get("/health/ready")
    body = response.json()
    assert response.status_code == 200, body
    assert body["checks"] == {
        "database": "ok",
        "postgis": "ok",
        "vector": "ok",
        "timescaledb": "ok",
        "redis": "ok",
        "broker": "ok",
    }


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.django_db
def test_ready_names_redis_when_it_does_not_answer(client, settings):
    dead = f"redis://127.0.0.1:{_closed_port()}/0"
    settings.REDIS_URL = dead
    from datapunk.celery import app

    app.conf.broker_url = dead
    try:
        response = client.get("/health/ready")
    finally:
        app.conf.broker_url = settings.CELERY_BROKER_URL
    body = response.json()
    assert response.status_code == 503
    assert body["failed"] == ["broker", "redis"]
    assert body["checks"]["redis"] == "fail"
    assert body["checks"]["database"] == "ok"


@pytest.mark.django_db
def test_ready_tells_no_hosts_users_or_paths(client, settings, caplog):
    secret_host = f"redis://:hunter2@127.0.0.1:{_closed_port()}/0"
    settings.REDIS_URL = secret_host
    response = client.get("/health/ready")
    assert response.status_code == 503
    text = response.content.decode()
    assert "127.0.0.1" not in text and "hunter2" not in text and "Error" not in text
    # The reason is logged for the operator.
    assert any("readiness check redis failed" in r.getMessage() for r in caplog.records)


@pytest.mark.django_db
def test_ready_names_a_missing_extension(client, django_db_blocker):
    from django.db import connection

    from apps.core.db.roles import table_owner

    with table_owner(), connection.cursor() as cursor:  # DDL: the owner's
        # CASCADE: analytics_embedding's vector column depends on it. The test's
        # transaction is rolled back at its end, which brings the column back too.
        cursor.execute("DROP EXTENSION vector CASCADE")
    try:
        response = client.get("/health/ready")
    finally:
        with table_owner(), connection.cursor() as cursor:
            cursor.execute("CREATE EXTENSION vector")
    assert response.status_code == 503
    assert response.json()["failed"] == ["vector"]


@pytest.mark.django_db
def test_metrics_are_for_staff(client, make_user):
    client.get("/health/live")
    assert client.get("/metrics").status_code == 403
    client.force_login(make_user("plain"))
    assert client.get("/metrics").status_code == 403
    client.force_login(make_user("operator", is_staff=True))
    response = client.get("/metrics")
    assert response.status_code == 200
    assert b"django_http_requests_total_by_view_transport_method_total" in response.content


@pytest.mark.django_db
def test_metrics_for_a_scraper_with_the_token(client, settings):
    settings.METRICS_TOKEN = "scrape-me-0123456789"
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 403
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer scrape-me").status_code == 403
    response = client.get("/metrics", HTTP_AUTHORIZATION="Bearer scrape-me-0123456789")
    assert response.status_code == 200


@pytest.mark.django_db
def test_no_token_configured_admits_no_bearer(client, settings):
    settings.METRICS_TOKEN = ""
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer ").status_code == 403


@pytest.mark.django_db
def test_database_backend_names_missing_extensions_before_migrating(monkeypatch):
    from django.core.exceptions import ImproperlyConfigured
    from django.db import connection

    from apps.core.dbbackend import base

    monkeypatch.setitem(
        base.REQUIRED_EXTENSIONS, "datapunk_no_such_extension", "postgresql-17-nothing"
    )
    with pytest.raises(ImproperlyConfigured) as error:
        connection.prepare_database()
    assert "lacks the extension(s) datapunk_no_such_extension" in str(error.value)
    assert "postgresql-17-nothing" in str(error.value)


def test_ready_shows_the_backup_details_to_operators_only(client, make_user, settings):
    anonymous = client.get("/health/ready").json()["backup"]
    assert set(anonymous) == {"status"}
    client.force_login(make_user("operator", is_staff=True))
    staff = client.get("/health/ready").json()["backup"]
    assert {"status", "last_good_label", "last_good_age_seconds", "last_good_size_bytes"} == set(
        staff
    )
