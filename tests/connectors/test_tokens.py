"""Tokens: sealed at rest, refreshed on demand and by beat, revocation asks for consent."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import connection as db

from apps.connectors.models import Connection
from apps.connectors.tasks import refresh_expiring_tokens, sync_connection
from apps.core.feed import feed_group
from apps.lake.models import Event
from apps.privacy.models import AuditEntry
from tests.acting import as_user, count_of, refreshed
from tests.connectors.conftest import make_connection

pytestmark = pytest.mark.django_db(transaction=True)


def _table_dump(table: str, user) -> str:
    """The table as pg_dump would write it, of the rows ``user`` may read."""
    with as_user(user), db.cursor() as cursor:
        copy_sql = f"COPY (SELECT * FROM {table}) TO STDOUT"
        with cursor.cursor.copy(copy_sql) as copy:
            return b"".join(bytes(chunk) for chunk in copy).decode()


def test_a_dump_of_the_tables_holds_no_usable_token(owner, spotify):
    conn = make_connection(owner, "spotify", spotify)
    access, refresh = conn.access_token, conn.refresh_token
    sync_connection(owner.pk, conn.pk)  # a sync refreshes nothing yet, but reads the tokens

    dump = _table_dump("connectors_connection", owner)
    assert str(conn.pk) in dump and "spotify" in dump
    assert access not in dump and refresh not in dump
    assert access[3:12] not in dump  # no fragment of it either
    assert _table_dump("socialaccount_socialtoken", owner) == ""
    # What is stored opens only with the key.
    refreshed(conn)
    assert conn.access_token == access


def test_an_expired_token_is_refreshed_before_the_sync(owner, spotify):
    conn = make_connection(owner, "spotify", spotify, token_expires_at=datetime.now(UTC))
    old_access, old_refresh = conn.access_token, conn.refresh_token
    spotify.expire_all()

    sync_connection(owner.pk, conn.pk)

    refreshed(conn)
    assert conn.access_token != old_access
    assert conn.refresh_token == old_refresh  # Spotify sent none: the old one is kept
    assert conn.token_expires_at > datetime.now(UTC) + timedelta(minutes=50)
    tokens = [r for r in spotify.log if r.path == "/api/token"]
    assert [r.form["grant_type"] for r in tokens] == ["refresh_token"]
    assert count_of(owner, Event) == 274


def test_a_token_that_expires_mid_sync_is_refreshed_once(owner, spotify):
    conn = make_connection(owner, "spotify", spotify)  # looks valid for an hour...
    spotify.expire_all()  # ...but the provider says otherwise: 401

    sync_connection(owner.pk, conn.pk)

    assert len([r for r in spotify.log if r.path == "/api/token"]) == 1
    assert count_of(owner, Event) == 274


def test_a_revoked_grant_marks_the_connection_and_tells_the_user(owner, spotify, client):
    conn = make_connection(owner, "spotify", spotify)
    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(feed_group(owner.pk), channel)
    spotify.revoke_all()

    sync_connection(owner.pk, conn.pk)

    refreshed(conn)
    assert conn.status == Connection.Status.NEEDS_RECONSENT
    assert conn.access_token_sealed == "" and conn.refresh_token_sealed == ""
    assert "connect it again" in conn.last_error
    assert not count_of(owner, Event) > 0
    message = async_to_sync(layer.receive)(channel)["message"]
    assert message["type"] == "connector.status"
    assert message["data"]["status"] == "needs_reconsent"
    assert count_of(owner, AuditEntry, action="connector.needs_reconsent") == 1
    client.force_login(owner)
    page = client.get("/connections/").content.decode()
    assert "needs your consent again" in page


def test_beat_refreshes_the_tokens_that_expire_within_35_minutes(
    owner, outsider, spotify, eager_celery
):
    soon = make_connection(
        owner, "spotify", spotify, token_expires_at=datetime.now(UTC) + timedelta(minutes=34)
    )
    later = make_connection(
        outsider, "spotify", spotify, token_expires_at=datetime.now(UTC) + timedelta(minutes=40)
    )
    soon_token, later_token = soon.access_token, later.access_token

    assert refresh_expiring_tokens() == 1

    refreshed(soon)
    refreshed(later)
    assert soon.access_token != soon_token
    assert soon.token_expires_at > datetime.now(UTC) + timedelta(minutes=50)
    assert later.access_token == later_token


def test_the_beat_schedule_is_written_by_migrate():
    from django_celery_beat.models import PeriodicTask

    task = PeriodicTask.objects.get(task="apps.connectors.tasks.refresh_expiring_tokens")
    assert task.enabled and task.interval.every == 30 and task.interval.period == "minutes"
    assert PeriodicTask.objects.filter(task="apps.connectors.tasks.sync_all_connections").exists()
