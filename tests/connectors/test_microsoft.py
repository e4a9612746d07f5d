"""Microsoft Graph end to end against the fake: delta pages, delta link, changes, removals, refresh."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from apps.connectors.microsoft import event_record, graph_time
from apps.connectors.models import Connection
from apps.connectors.tasks import sync_connection
from apps.lake.models import Event
from tests.acting import all_of, count_of, one_of, refreshed
from tests.connectors.conftest import make_connection

pytestmark = pytest.mark.django_db(transaction=True)


def _count(user, kind: str) -> int:
    return count_of(user, Event, kind=kind)


def test_a_full_sync_follows_next_links_and_stores_the_delta_link(owner, graph):
    conn = make_connection(owner, "microsoft", graph)

    sync_connection(owner.pk, conn.pk)

    assert _count(owner, "calendar.event") == 120
    assert _count(owner, "outlook.message") == 75
    refreshed(conn)
    assert "$deltatoken=120" in conn.cursor["calendar_link"]
    assert "$deltatoken=75" in conn.cursor["mail_link"]
    calendar_calls = [r for r in graph.data_calls() if "calendarView" in r.path]
    assert len(calendar_calls) == 3  # 50 + 50 + 20, pages of the asked size
    assert 'outlook.timezone="UTC"' in calendar_calls[0].headers["prefer"]
    event = all_of(owner, Event, "occurred_at", kind="calendar.event")[0]
    assert event.title == "Meeting 0" and event.text == "Room 0"
    assert event.occurred_at == datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
    assert event.ended_at == datetime(2026, 11, 2, 10, 0, tzinfo=UTC)
    mail = all_of(owner, Event, "occurred_at", kind="outlook.message")[0]
    assert mail.title == "Invoice 0" and mail.text == "Billing <billing@example.com>"


def test_a_second_sync_asks_for_changes_only_and_adds_nothing(owner, graph):
    conn = make_connection(owner, "microsoft", graph)
    sync_connection(owner.pk, conn.pk)
    total = count_of(owner, Event)
    calls = len(graph.data_calls())

    sync_connection(owner.pk, conn.pk)

    assert count_of(owner, Event) == total
    second = graph.data_calls()[calls:]
    assert len(second) == 2 and all("$deltatoken" in r.query for r in second)


def test_added_changed_and_removed_events_arrive_with_the_next_delta(owner, graph):
    conn = make_connection(owner, "microsoft", graph)
    sync_connection(owner.pk, conn.pk)
    first = graph.calendar.changes[0]

    graph.add_event()
    graph.update_event(first, subject="Meeting 0 (moved)")
    graph.remove_event(graph.calendar.changes[1])
    graph.add_message()
    sync_connection(owner.pk, conn.pk)

    assert _count(owner, "calendar.event") == 122  # one new, one new version of a changed one
    assert count_of(owner, Event, title="Meeting 0 (moved)") > 0
    removed = one_of(owner, Event, kind="calendar.event_removed")
    assert removed.data["@removed"] == {"reason": "deleted"}
    assert _count(owner, "outlook.message") == 76


def test_a_revoked_consent_marks_the_connection(owner, graph):
    conn = make_connection(owner, "microsoft", graph)
    graph.revoke_all()

    sync_connection(owner.pk, conn.pk)

    refreshed(conn)
    assert conn.status == Connection.Status.NEEDS_RECONSENT
    refresh = next(r for r in graph.log if r.path.endswith("/token"))
    assert refresh.form["scope"].split() == [
        "User.Read",
        "Calendars.Read",
        "Mail.ReadBasic",
        "offline_access",
    ]


def test_windows_time_zones_are_understood_and_unknown_ones_quarantined():
    moment = graph_time(
        {"dateTime": "2017-04-21T10:00:00.0000000", "timeZone": "Pacific Standard Time"}
    )
    assert moment.astimezone(UTC) == datetime(2017, 4, 21, 17, 0, tzinfo=UTC)
    with pytest.raises(ValueError, match="unknown time zone"):
        event_record(
            {"id": "x", "start": {"dateTime": "2017-04-21T10:00:00", "timeZone": "Mars Time"}}
        )


def test_an_expired_delta_token_is_a_full_resync_not_a_dead_letter(owner, graph):
    from apps.stream.models import DeadLetter

    conn = make_connection(owner, "microsoft", graph)
    sync_connection(owner.pk, conn.pk)
    graph.expire_delta_tokens()
    graph.add_event()
    graph.add_message()

    sync_connection(owner.pk, conn.pk)

    assert _count(owner, "calendar.event") == 121 and _count(owner, "outlook.message") == 76
    assert not count_of(owner, DeadLetter) > 0
    refreshed(conn)
    assert conn.last_error == "" and conn.status == Connection.Status.ACTIVE
    assert "generation=1" in conn.cursor["calendar_link"]
    assert "generation=1" in conn.cursor["mail_link"]
    assert any("read again in full" in note for note in conn.sync_notes)
    gone = [r for r in graph.log if r.query.get("generation") == "0" and "$deltatoken" in r.query]
    assert len(gone) == 2  # one 410 per resource, then the first query again

    sync_connection(owner.pk, conn.pk)  # and the new links work
    assert _count(owner, "calendar.event") == 121


def test_the_calendar_window_moves_on_so_events_far_ahead_keep_arriving(owner, graph, monkeypatch):
    from datetime import timedelta

    from apps.connectors import microsoft

    now = datetime.now(UTC)
    # An event 340 days ahead of today; the first sync ran 60 days ago, when
    # its window reached 365 days ahead of then: 25 days short of the event.
    far = now + timedelta(days=340)
    graph.add_event(
        subject="Far ahead",
        start={"dateTime": far.strftime("%Y-%m-%dT%H:%M:%S.0000000"), "timeZone": "UTC"},
        end={"dateTime": far.strftime("%Y-%m-%dT%H:%M:%S.0000000"), "timeZone": "UTC"},
    )
    conn = make_connection(owner, "microsoft", graph)
    monkeypatch.setattr(microsoft, "now_utc", lambda: now - timedelta(days=60))
    sync_connection(owner.pk, conn.pk)
    assert not count_of(owner, Event, title="Far ahead") > 0
    assert _count(owner, "calendar.event") == 120

    monkeypatch.setattr(microsoft, "now_utc", lambda: now)
    sync_connection(owner.pk, conn.pk)

    assert count_of(owner, Event, title="Far ahead") > 0
    assert _count(owner, "calendar.event") == 121  # the rest read again, stored once
    refreshed(conn)
    assert conn.cursor["calendar_window_from"] == now.strftime("%Y-%m-%dT%H:%M:%SZ")
