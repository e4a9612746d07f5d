"""Under row-level security a task acts only on its own user's connection and letters."""

from __future__ import annotations

import pytest

from apps.connectors.models import Connection
from apps.connectors.tasks import sync_connection
from apps.core.db.context import system_context, user_context
from apps.lake.models import Event
from apps.stream.models import DeadLetter
from tests.acting import refreshed
from tests.connectors.conftest import make_connection

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_task_given_another_users_connection_does_nothing(owner, outsider, spotify, settings):
    settings.DATAPUNK_OUTBOUND = {**settings.DATAPUNK_OUTBOUND, "attempts": 1}
    conn = make_connection(owner, "spotify", spotify)

    sync_connection(outsider.pk, conn.pk)  # a forged or mistaken pair

    assert spotify.data_calls() == []
    with system_context():
        assert not Event.objects.exists()
        refreshed(conn)
        assert conn.last_sync_at is None

    spotify.fail_next(1, 500)
    sync_connection(owner.pk, conn.pk)  # the owner's own: runs, fails once, dead letter

    with user_context(outsider.pk):
        assert Connection.objects.count() == 0 and DeadLetter.objects.count() == 0
    with user_context(owner.pk):
        assert Connection.objects.count() == 1 and DeadLetter.objects.count() == 1
