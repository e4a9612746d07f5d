"""redact_event_payloads: what a serialized event looks like after the owner's policy."""

from __future__ import annotations

import pytest

from apps.privacy.fields import value_digest
from apps.privacy.pii.models import RedactionPolicy
from apps.privacy.redaction import partial_mask, redact_event_payloads
from apps.privacy.selectors import event_payload_of
from apps.privacy.services import pii_scan_events
from tests.acting import as_user
from tests.privacy.factories import make_event

pytestmark = pytest.mark.django_db

TITLE = "Mail from maria.keller@example.org to Tom Fischer"
TEXT = "card 4111 1111 1111 1111, server 192.168.178.1"


@pytest.fixture
def scanned(owner, scanner):
    event = make_event(
        owner,
        title=TITLE,
        text=TEXT,
        data={"title": TITLE, "to": [{"email": "maria.keller@example.org"}], "n": 1},
    )
    with as_user(owner):
        pii_scan_events(user_id=owner.pk, event_ids=[event.id])
    return event


def _page(owner, event) -> dict:
    with as_user(owner):
        return event_payload_of(user_id=owner.pk, event_id=event.id)


def test_default_policy_masks_high_and_medium_everywhere(owner, scanned):
    with as_user(owner):
        [masked] = redact_event_payloads(user_id=owner.pk, payloads=[_page(owner, scanned)])
        assert masked["title"] == "Mail from <EMAIL_ADDRESS> to T** F******"
        assert masked["text"] == "card <CREDIT_CARD>, server <IP_ADDRESS>"
        # The copy of the title and the address inside data are masked as well.
        assert masked["data"]["title"] == masked["title"]
        assert masked["data"]["to"][0]["email"] == "<EMAIL_ADDRESS>"
        assert masked["data"]["n"] == 1
        assert "maria" not in str(masked) and "4111" not in str(masked)


def test_the_input_is_not_modified(owner, scanned):
    with as_user(owner):
        page = [_page(owner, scanned)]
        redact_event_payloads(user_id=owner.pk, payloads=page)
        assert page[0]["title"] == TITLE


def test_policy_show_partial_and_hash(owner, scanned):
    with as_user(owner):
        RedactionPolicy.objects.create(user=owner, high="partial", medium="hash", low="show")
        [masked] = redact_event_payloads(user_id=owner.pk, payloads=[_page(owner, scanned)])
        digest = value_digest(user_id=owner.pk, value="maria.keller@example.org")
        assert masked["title"] == f"Mail from <EMAIL_ADDRESS:{digest}> to Tom Fischer"
        assert masked["text"].startswith("card **** **** **** 1111, server <IP_ADDRESS:")
        RedactionPolicy.objects.filter(user=owner).update(high="show", medium="show", low="show")
        [shown] = redact_event_payloads(user_id=owner.pk, payloads=[_page(owner, scanned)])
        assert shown["title"] == TITLE and shown["text"] == TEXT


def test_hash_is_stable_per_user_and_differs_across_users(owner, outsider):
    with as_user(owner):
        a = value_digest(user_id=owner.pk, value="x@example.com")
        assert a == value_digest(user_id=owner.pk, value="x@example.com")
        assert a != value_digest(user_id=outsider.pk, value="x@example.com")


@pytest.mark.parametrize(
    "entity, value, expected",
    [
        ("EMAIL_ADDRESS", "jane.doe@example.com", "j***@example.com"),
        ("CREDIT_CARD", "4012-8888-8888-1881", "****-****-****-1881"),
        ("US_SSN", "078-05-1123", "***-**-1123"),
        ("PERSON", "David Johnson", "D**** J******"),
        ("USERNAME", "@datapunk_dev", "@d***********"),
        ("IP_ADDRESS", "192.168.0.1", "192.***.*.*"),
        ("PHONE_NUMBER", "123", "***"),
    ],
)
def test_partial_masks(entity, value, expected):
    assert partial_mask(entity, value) == expected


def test_one_query_per_page(owner, scanner, django_assert_num_queries):
    with as_user(owner):
        events = [
            make_event(owner, text=f"write to user{i}@example.com", minutes=i) for i in range(40)
        ]
        pii_scan_events(user_id=owner.pk, event_ids=[e.id for e in events])
        page = [_page(owner, e) for e in events]
        with django_assert_num_queries(1):
            masked = redact_event_payloads(user_id=owner.pk, payloads=page)
        assert {m["text"] for m in masked} == {"write to <EMAIL_ADDRESS>"}


def test_changed_text_fails_closed(owner, scanned):
    with as_user(owner):
        page = _page(owner, scanned)
        page["title"] = page["title"][:20]  # a serializer that cuts titles
        page["text"] = "card 4111 1111 1111 1112 and more"  # text no longer what was scanned
        [masked] = redact_event_payloads(user_id=owner.pk, payloads=[page])
        assert masked["title"] == "<REDACTED>"
        assert masked["text"] == "<REDACTED>"


def test_other_users_findings_never_apply(owner, outsider, scanned):
    page = _page(owner, scanned)
    with as_user(outsider):
        assert redact_event_payloads(user_id=outsider.pk, payloads=[page]) == [page]


def test_payloads_without_findings_or_ids_pass_through(owner):
    with as_user(owner):
        page = [{"id": 10**12, "title": "x"}, {"title": "no id"}]
        assert redact_event_payloads(user_id=owner.pk, payloads=page) == page
        assert redact_event_payloads(user_id=owner.pk, payloads=[]) == []


def test_ids_written_as_strings_are_masked_too(owner, scanned):
    with as_user(owner):
        page = _page(owner, scanned)
        page["id"] = str(page["id"])
        [masked] = redact_event_payloads(user_id=owner.pk, payloads=[page])
        assert "<EMAIL_ADDRESS>" in masked["title"]
