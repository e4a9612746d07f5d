"""With the broker down, a request whose row is stored answers 503 (or says so), never 500."""

from __future__ import annotations

import pytest
from kombu.exceptions import OperationalError

from .conftest import make_connection

pytestmark = pytest.mark.django_db


@pytest.fixture
def broker_down(monkeypatch):
    def refuse(*args, **kwargs):
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    from apps.connectors.tasks import sync_connection
    from apps.lake.tasks import run_takeout_import

    monkeypatch.setattr(run_takeout_import, "delay", refuse)
    monkeypatch.setattr(sync_connection, "delay", refuse)


def test_sync_now_says_it_was_not_queued(client, owner, spotify, broker_down):
    conn = make_connection(owner, "spotify", spotify)
    client.force_login(owner)

    response = client.post(f"/connections/{conn.pk}/sync/", follow=True)

    assert response.status_code == 200
    assert "not queued: the task queue is unavailable" in response.content.decode()
