"""The live feed speaks only of committed state (a failed member's rollback included)."""

import pytest
from django.db import connection

from apps.lake import services
from apps.lake.models import Import, ImportEntry
from tests.acting import count_of, takeout_import

from .conftest import make_zip, records_json

pytestmark = pytest.mark.django_db


def test_a_failed_member_is_published_outside_its_transaction(owner, tmp_path, monkeypatch):
    published: list[tuple[str, bool]] = []

    def spy(user_id, message):
        # The test runs in one transaction of its own: a savepoint means a block of the code.
        published.append((message["type"], bool(connection.savepoint_ids)))

    monkeypatch.setattr(services, "publish", spy)
    monkeypatch.setattr(services, "REPORT_INTERVAL", 0)  # every report reaches the feed
    latin1 = '{"Browser History": [{"title": "Caf\xe9", "url": "https://x.org", "time_usec": 1}]}'
    path = make_zip(
        tmp_path / "mixed.zip",
        {
            "Takeout/Chrome/History.json": latin1.encode("latin-1"),
            "Takeout/Location History/Records.json": records_json(5),
        },
    )
    run = takeout_import(owner, path)
    assert run.status == Import.Status.DONE
    assert count_of(owner, ImportEntry, import_run=run, status=ImportEntry.Status.FAILED) == 1
    assert published, "nothing was published"
    assert [kind for kind, in_block in published if in_block] == []
