"""Precision: values are not text, a card is a card, nothing inside a number is PII;
every string of an event is scanned; masking touches only the spans found; the
rescan removes what the current scanner does not confirm (issues #15 and #22 item 4)."""

from __future__ import annotations

import json

import pytest
from django.core.management import call_command

from apps.core.db.context import user_context
from apps.privacy.pii.models import PiiFinding
from apps.privacy.pii.text_shapes import card_shaped, is_value_not_text
from apps.privacy.redaction import redact_event_payloads
from apps.privacy.selectors import event_payload_of
from apps.privacy.services import pii_scan_events
from tests.privacy.factories import make_event

# Shapes from a Google Fit export (calories, distance, speed, coordinates) and other
# Takeout values: none of them is text.
VALUES = [
    "14.16169065485398",
    "152.68501967488913",
    "-0.0000123",
    "1.5e-07",
    "52.520008, 13.404954",
    "geo:52.52,13.40",
    "2024-03-05T12:34:56.789Z",
    "2024-03-05 12:34:56+01:00",
    "01:02:03.5",
    "PT1H2M3.5S",
    "3600s",
    "d41d8cd98f00b204e9800998ecf8427e",
    "0xDEADBEEF",
    "123e4567-e89b-12d3-a456-426614174000",
    "1,234,567.89",
    "1577836800000",
    "16169065485398",
    "v10.4.3",
    "ChIJN1t_tDeuEmsRUsoyG83frY4",
]


@pytest.mark.parametrize("value", VALUES)
def test_values_are_not_text(value, scanner):
    assert is_value_not_text(value)
    assert scanner.scan_text(value) == []


@pytest.mark.parametrize(
    "text",
    [
        "Calories (kcal) 14.16169065485398 burnt",
        "distance 152.68501967488913 m, speed 4111111111111111.5",
        "order 1234567890123456789012 shipped",  # 22 digits: no card is that long
        "ref 4111111111111112",  # fails Luhn
        "ref 9111111111111111",  # Luhn-valid, no issuer starts with 9
        "ref 4111 11111 1111 111",  # not a card's grouping
        "call +1 415 555 2671",  # an NHS checksum by chance; no NHS context
    ],
)
def test_numbers_that_are_not_cards_are_not_found_as_high_risk(text, scanner):
    assert [f for f in scanner.scan_text(text) if f.risk == "high"] == []


@pytest.mark.parametrize(
    "text, value",
    [
        ("card 4111 1111 1111 1111 exp 09/27", "4111 1111 1111 1111"),
        ("card 4111-1111-1111-1111.", "4111-1111-1111-1111"),
        ("amex 3782 822463 10005", "3782 822463 10005"),
        ("pay 5555555555554444 now", "5555555555554444"),
        ("4111111111111111", "4111111111111111"),
    ],
)
def test_cards_in_their_usual_groupings_are_found(text, value, scanner):
    [card] = [f for f in scanner.scan_text(text) if f.entity_type == "CREDIT_CARD"]
    assert text[card.start : card.end] == value


def test_card_shape_checks_length_prefix_and_luhn():
    assert card_shaped("4111111111111111")
    assert not card_shaped("4111111111111112")
    assert not card_shaped("9111111111111111")
    assert not card_shaped("411111111111")


def test_a_long_text_is_scanned_to_its_end(scanner):
    text = "word " * 9_000 + "write to late.reader@example.org please"
    [found] = scanner.scan_text(text)
    assert text[found.start : found.end] == "late.reader@example.org"


@pytest.mark.django_db
def test_pii_after_many_strings_is_found_and_masked(owner, scanner):
    """#22 item 4: the 200th string and beyond were never scanned."""
    data = {"items": [f"line {n}" for n in range(400)]}
    data["items"][350] = "reach me at hidden.late@example.org"
    data["items"][390] = "card 4111 1111 1111 1111"
    with user_context(owner.pk):
        event = make_event(owner, title="big", data=data)
        pii_scan_events(user_id=owner.pk, event_ids=[event.id])
        fields = set(PiiFinding.objects.values_list("field", "entity_type"))
        [masked] = redact_event_payloads(
            user_id=owner.pk, payloads=[event_payload_of(user_id=owner.pk, event_id=event.id)]
        )
    assert fields == {("data/items/350", "EMAIL_ADDRESS"), ("data/items/390", "CREDIT_CARD")}
    assert masked["data"]["items"][350] == "reach me at <EMAIL_ADDRESS>"
    assert masked["data"]["items"][390] == "card <CREDIT_CARD>"
    assert masked["data"]["items"][349] == "line 349"


@pytest.mark.django_db
def test_masking_changes_only_spans_found_never_numbers(owner, scanner):
    data = {
        "Calories (kcal)": "14.16169065485398",
        "kcal": 14.16169065485398,
        "note": "mail anna@example.org",
        "again": "anna@example.org wrote 4111111111111111.5",
    }
    with user_context(owner.pk):
        event = make_event(owner, title="Fit day", data=data)
        pii_scan_events(user_id=owner.pk, event_ids=[event.id])
        payload = event_payload_of(user_id=owner.pk, event_id=event.id)
        [masked] = redact_event_payloads(user_id=owner.pk, payloads=[payload])
    assert masked["data"]["Calories (kcal)"] == "14.16169065485398"
    assert json.dumps(masked["data"]["kcal"]) == "14.16169065485398"
    assert masked["data"]["note"] == "mail <EMAIL_ADDRESS>"
    assert masked["data"]["again"] == "<EMAIL_ADDRESS> wrote 4111111111111111.5"
    assert set(masked["data"]) == set(data)  # jsonb orders keys its own way


@pytest.mark.django_db
def test_rescan_removes_findings_the_new_version_does_not_confirm(owner, scanner):
    with user_context(owner.pk):
        fit = make_event(owner, title="Fit", data={"Calories (kcal)": "14.16169065485398"})
        mail = make_event(owner, title="mail anna@example.org")
        pii_scan_events(user_id=owner.pk, event_ids=[mail.id])
        # What version 1 stored: a "card" in the digits after the decimal point.
        PiiFinding.objects.create(
            user=owner,
            event_id=fit.id,
            occurred_at=fit.occurred_at,
            field="data/Calories (kcal)",
            entity_type="CREDIT_CARD",
            risk="high",
            span_start=3,
            span_end=17,
            score=1.0,
            value_digest="0" * 16,
            scanner_version="1",
        )
        # Redaction already refuses to mask a number, whatever is stored.
        [before] = redact_event_payloads(
            user_id=owner.pk, payloads=[event_payload_of(user_id=owner.pk, event_id=fit.id)]
        )
        assert before["data"]["Calories (kcal)"] == "14.16169065485398"
    call_command("pii_rescan", user=owner.username)
    with user_context(owner.pk):
        left = list(PiiFinding.objects.values_list("event_id", "entity_type", "scanner_version"))
    assert left == [(mail.id, "EMAIL_ADDRESS", "3")]
