"""Scanning stored events: findings per field, idempotent, resumable; streams at write
time, imports by a queued backfill."""

from __future__ import annotations

import pytest
from django.db import connection

from apps.lake.models import Event
from apps.lake.signals import import_finished
from apps.privacy import services
from apps.privacy.fields import event_fields, field_value
from apps.privacy.pii.models import PiiFinding, PiiScanState
from apps.privacy.services import pii_scan_backfill, pii_scan_events
from tests.acting import all_of, as_user, count_of, one_of
from tests.privacy.factories import make_event

pytestmark = pytest.mark.django_db


def _findings(user) -> list[tuple[int, str, str, str]]:
    with as_user(user):
        return list(
            PiiFinding.objects.filter(user=user)
            .order_by("event_id", "field", "span_start")
            .values_list("event_id", "field", "entity_type", "risk")
        )


def test_findings_name_event_field_span_score_and_class(owner, scanner):
    event = make_event(
        owner,
        title="Mail from maria.keller@example.org",
        text="My card 4111 1111 1111 1111, ask Maria Keller",
        data={"header": "Gmail", "to": [{"name": "Tom Fischer", "phone": "+1 415 555 0132"}]},
    )
    with as_user(owner):
        result = pii_scan_events(user_id=owner.pk, event_ids=[event.id])
    assert result.events == 1
    rows = {
        (f.field, f.entity_type, f.risk): f for f in all_of(owner, PiiFinding, event_id=event.id)
    }
    assert set(rows) == {
        ("title", "EMAIL_ADDRESS", "medium"),
        ("text", "CREDIT_CARD", "high"),
        ("text", "PERSON", "low"),
        ("data/to/0/name", "PERSON", "low"),
        ("data/to/0/phone", "PHONE_NUMBER", "medium"),
    }
    card = rows[("text", "CREDIT_CARD", "high")]
    assert event.text[card.span_start : card.span_end] == "4111 1111 1111 1111"
    assert card.score == 1.0
    assert card.occurred_at == event.occurred_at
    assert result.findings == len(rows)


def test_data_paths_round_trip():
    event = {"title": "t", "data": {"a/b": [{"c~d": "x"}], "n": 3, "s": "t"}}
    fields = dict(event_fields(event))
    # Every string is listed, a repeat of the title too (each field has its own findings);
    # the number is not text.
    assert fields == {"title": "t", "data/a~1b/0/c~0d": "x", "data/s": "t"}
    assert field_value(event, "data/a~1b/0/c~0d") == "x"
    assert field_value(event, "data/n") is None
    assert field_value(event, "data/missing/0") is None
    # "²" passes str.isdigit() but not int(): not an index, not a 500.
    assert field_value({"data": {"lst": ["x"]}}, "data/lst/²") is None


def test_rescanning_replaces_findings(owner, scanner):
    event = make_event(owner, text="Reach me at someone@example.com")
    with as_user(owner):
        pii_scan_events(user_id=owner.pk, event_ids=[event.id])
        pii_scan_events(user_id=owner.pk, event_ids=[event.id, event.id])
    assert _findings(owner) == [(event.id, "text", "EMAIL_ADDRESS", "medium")]
    with as_user(owner):
        Event.objects.filter(id=event.id).update(text="Nothing here any more")
        pii_scan_events(user_id=owner.pk, event_ids=[event.id])
    assert _findings(owner) == []


def test_scanning_ignores_other_users_events(owner, outsider, scanner):
    theirs = make_event(outsider, text="call +1 415 555 0132")
    with as_user(owner):
        result = pii_scan_events(user_id=owner.pk, event_ids=[theirs.id])
    assert result.events == 0
    assert count_of(owner, PiiFinding) == 0


def test_backfill_is_resumable_and_idempotent(owner, outsider, scanner):
    events = [make_event(owner, text=f"user{i}@example.com", minutes=i) for i in range(7)]
    make_event(outsider, text="other@example.com")
    with as_user(owner):
        first = pii_scan_backfill(user_id=owner.pk, max_events=3, batch_size=2)
    assert (first.events, first.findings, first.more) == (3, 3, True)
    state = one_of(owner, PiiScanState)
    assert state.last_event_id == events[2].id
    with as_user(owner):
        rest = pii_scan_backfill(user_id=owner.pk)
    assert (rest.events, rest.more) == (4, False)
    assert [row[0] for row in _findings(owner)] == [e.id for e in events]
    # Nothing new: nothing to do. A rescan replaces, it does not double.
    with as_user(owner):
        assert pii_scan_backfill(user_id=owner.pk).events == 0
        again = pii_scan_backfill(user_id=owner.pk, rescan=True)
    assert again.events == 7
    assert count_of(owner, PiiFinding) == 7
    assert count_of(outsider, PiiFinding) == 0


def test_a_crash_mid_backfill_keeps_committed_batches(owner, scanner, monkeypatch):
    events = [make_event(owner, text=f"user{i}@example.com", minutes=i) for i in range(6)]
    real = services._findings_for
    calls = {"n": 0}

    def crash_on_second_batch(**kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("worker killed")
        return real(**kwargs)

    monkeypatch.setattr(services, "_findings_for", crash_on_second_batch)
    with as_user(owner), pytest.raises(RuntimeError):
        pii_scan_backfill(user_id=owner.pk, batch_size=2)
    state = one_of(owner, PiiScanState)
    assert state.last_event_id == events[1].id
    assert count_of(owner, PiiFinding) == 2
    monkeypatch.setattr(services, "_findings_for", real)
    with as_user(owner):
        assert pii_scan_backfill(user_id=owner.pk, batch_size=2).events == 4
    assert count_of(owner, PiiFinding) == 6


def _connection_user() -> str | None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('datapunk.user_id', true)")
        return cursor.fetchone()[0]


def test_stream_writes_are_scanned_before_the_feed_sees_them(owner, scanner):
    from datetime import UTC, datetime

    from apps.core.db.context import user_context
    from apps.lake.pipeline import feed_events, records_store
    from apps.lake.takeout.records import EventRecord

    record = EventRecord(
        kind="sms.message",
        occurred_at=datetime(2026, 11, 30, 9, 0, tzinfo=UTC),
        title="Text from +44 20 7946 0958",
    )
    with user_context(owner.pk):
        result = records_store(user_id=owner.pk, source="webhook", records=[record])
        # In the storing transaction already: findings, and a masked feed entry.
        assert _findings(owner) == [(result.event_ids[0], "title", "PHONE_NUMBER", "medium")]
        (shown,) = feed_events(user_id=owner.pk, source="webhook", stored=result.stored_events)
    assert shown["title"] == "Text from <PHONE_NUMBER>"


def test_import_signal_runs_the_backfill_in_the_users_context(
    owner, scanner, eager_celery, django_capture_on_commit_callbacks, monkeypatch
):
    make_event(owner, text="IBAN DE89 3704 0044 0532 0130 00")
    seen = []
    real = services.pii_scan_backfill

    def spy(**kwargs):
        seen.append(_connection_user())
        return real(**kwargs)

    monkeypatch.setattr("apps.privacy.tasks.pii_scan_backfill", spy)
    with django_capture_on_commit_callbacks(execute=True):
        import_finished.send(sender=None, user_id=owner.pk, import_id=1)
    assert seen == [str(owner.pk)]
    assert [row[2] for row in _findings(owner)] == ["IBAN_CODE"]


def test_a_broker_outage_does_not_fail_the_sender(
    owner, django_capture_on_commit_callbacks, monkeypatch
):
    attempts = []

    def down(*args, **kwargs):
        attempts.append(args)
        raise ConnectionError("broker down")

    monkeypatch.setattr("apps.privacy.tasks.pii_scan_user.delay", down)
    with django_capture_on_commit_callbacks(execute=True):
        responses = import_finished.send(sender=None, user_id=owner.pk, import_id=1)
    assert attempts == [(owner.pk,)]  # the scan was asked for, the broker refused it
    assert responses  # and the import's signal went out all the same


def test_a_contacts_name_is_a_person_whatever_the_model_says(owner, scanner):
    contact = make_event(
        owner,
        kind="contacts.contact",
        title="Ana Demo",
        data={"properties": {"FN": [{"value": "Ana Demo"}], "N": [{"value": "Demo;Ana;;;"}]}},
    )
    note = make_event(owner, kind="keep.note", title="Ana Demo")
    with as_user(owner):
        pii_scan_events(user_id=owner.pk, event_ids=[contact.id, note.id])
    assert _findings(owner) == [
        (contact.id, "data/properties/FN/0/value", "PERSON", "low"),
        (contact.id, "data/properties/N/0/value", "PERSON", "low"),
        (contact.id, "title", "PERSON", "low"),
    ]


def test_the_ip_address_spotify_logs_with_each_stream_is_pii(owner, scanner):
    stream = make_event(
        owner,
        kind="spotify.play",
        title="Song 1",
        data={"ip_addr": "198.51.100.7", "platform": "android", "ms_played": 1000},
    )
    unknown = make_event(owner, kind="spotify.play", title="Song 2", data={"ip_addr": "unknown"})
    with as_user(owner):
        pii_scan_events(user_id=owner.pk, event_ids=[stream.id, unknown.id])
    assert _findings(owner) == [(stream.id, "data/ip_addr", "IP_ADDRESS", "medium")]
