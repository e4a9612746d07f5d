"""The test suite runs as the app does: under RLS, with no user context unless a test enters one."""

import datetime as dt

import pytest
from django.db import connection

from apps.core.db.context import current_user_id, in_system_context
from apps.core.db.roles import APP_ROLE
from apps.lake.models import Event
from apps.lake.takeout.records import EventRecord
from tests.acting import as_user, store_records, system_context_reason

pytestmark = pytest.mark.django_db


def _a_note(user) -> None:
    when = dt.datetime(2024, 5, 1, 12, tzinfo=dt.UTC)
    store_records(user, [EventRecord(kind="keep.note", occurred_at=when, title="mine")])


def test_a_test_starts_as_the_app_role_with_no_user(owner):
    _a_note(owner)
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_user::text")
        assert cursor.fetchone()[0] == APP_ROLE
    assert current_user_id() is None and not in_system_context()
    assert not Event.objects.exists()  # the note is there, but no one is asking as its owner
    with as_user(owner):
        assert list(Event.objects.values_list("title", flat=True)) == ["mine"]


@pytest.mark.system_context(reason="checks what the marker gives")
def test_the_marker_gives_every_users_rows(owner, outsider):
    _a_note(owner)
    _a_note(outsider)
    assert in_system_context()
    assert Event.objects.count() == 2


@pytest.mark.parametrize(
    "marker",
    [
        pytest.mark.system_context,
        pytest.mark.system_context(reason=" "),
        pytest.mark.system_context(""),
    ],
)
def test_the_marker_without_a_reason_is_refused(marker):
    with pytest.raises(ValueError, match="needs reason="):
        system_context_reason(marker.mark)


def test_the_reason_is_read_as_keyword_or_argument():
    assert system_context_reason(pytest.mark.system_context(reason="why").mark) == "why"
    assert system_context_reason(pytest.mark.system_context("why").mark) == "why"
