"""The owner's pages: their own values marked, high-risk ones masked with a reveal button;
"mask on screen" masks everything; the API keeps the masking policy (on_screen.py)."""

from __future__ import annotations

import pytest
from django.template import Context, Template

from apps.analytics.search.services import embeddings_backfill
from apps.lake.models import Event
from apps.privacy.models import AuditEntry
from apps.privacy.pii.on_screen import MARKS_KEY, Mark
from apps.privacy.services import pii_scan_events
from tests.acting import as_user, one_of
from tests.privacy.factories import make_event

pytestmark = pytest.mark.django_db

TITLE = "Mail from maria.keller@example.org to Tom Fischer"
TEXT = "card 4111 1111 1111 1111, server 192.168.178.1"
EMAIL_MARK = (
    '<mark class="pii pii-medium" data-entity="EMAIL_ADDRESS" '
    'title="EMAIL_ADDRESS (medium risk)">maria.keller@example.org</mark>'
)
NAME_MARK = (
    '<mark class="pii pii-low" data-entity="PERSON" title="PERSON (low risk)">Tom Fischer</mark>'
)


@pytest.fixture
def mail(owner, scanner):
    event = make_event(
        owner,
        title=TITLE,
        text=TEXT,
        data={"to": [{"email": "maria.keller@example.org"}], "kcal": 14.16169065485398},
    )
    with as_user(owner):
        pii_scan_events(user_id=owner.pk, event_ids=[event.id])
    return event


def _card_button(event_id: int, field: str, start: int, end: int) -> str:
    return (
        f'<button type="button" class="pii-reveal" data-event="{event_id}" '
        f'data-field="{field}" data-start="{start}" data-end="{end}">reveal</button>'
    )


def test_timeline_shows_values_marked_and_the_card_masked(client, owner, mail):
    client.force_login(owner)
    page = client.get("/timeline/").content.decode()
    assert EMAIL_MARK in page and NAME_MARK in page
    assert '<mark class="pii pii-medium" data-entity="IP_ADDRESS"' in page
    assert "192.168.178.1</mark>" in page
    assert "4111" not in page
    # "card " is 5 characters, the card number the next 19.
    assert "&lt;CREDIT_CARD&gt;</span> " + _card_button(mail.id, "text", 5, 24) in page
    assert 'src="/static/js/pii_reveal.js"' in page
    # The dashboard's recent events read the same way.
    assert EMAIL_MARK in client.get("/").content.decode()


def test_event_detail_marks_data_and_leaves_numbers_alone(client, owner, mail, make_user):
    client.force_login(owner)
    page = client.get(f"/events/{mail.id}/").content.decode()
    assert EMAIL_MARK in page and NAME_MARK in page
    assert (
        '<tr data-field="data/to/0/email"><th><code>to/0/email</code></th><td>' + EMAIL_MARK in page
    )
    assert '<tr data-field="data/kcal"><th><code>kcal</code></th><td>14.16169065485398</td>' in page
    assert "4111" not in page
    outsider = make_user("outsider")
    client.force_login(outsider)
    assert client.get(f"/events/{mail.id}/").status_code == 404
    assert client.get("/events/99999999999999999999/").status_code == 404


def test_the_api_keeps_the_masking_policy(client, owner, mail):
    client.force_login(owner)
    event = client.get(f"/api/privacy/events/{mail.id}/").json()
    assert event["title"] == "Mail from <EMAIL_ADDRESS> to T** F******"
    assert event["text"] == "card <CREDIT_CARD>, server <IP_ADDRESS>"
    listed = client.get("/api/events/").json()
    assert "maria" not in str(listed) and "4111" not in str(listed)


def test_reveal_of_the_masked_card_is_audited(client, owner, mail):
    client.force_login(owner)
    response = client.post(
        f"/api/privacy/events/{mail.id}/reveal/", {"field": "text"}, content_type="application/json"
    )
    assert response.status_code == 200
    assert response.json()["value"][5:24] == "4111 1111 1111 1111"
    entry = one_of(owner, AuditEntry, action="pii.reveal")
    assert entry.target == f"event:{mail.id}.text"


def test_mask_on_screen_masks_every_finding_on_pages(client, owner, mail):
    client.force_login(owner)
    response = client.post("/settings/", {"form": "mask-on-screen", "mask_on_screen": "on"})
    assert response.status_code == 302
    page = client.get("/timeline/").content.decode()
    assert "maria.keller" not in page and "Tom Fischer" not in page and "4111" not in page
    assert "&lt;EMAIL_ADDRESS&gt;</span> " + _card_button(mail.id, "title", 10, 34) in page
    assert "&lt;PERSON&gt;</span> " + _card_button(mail.id, "title", 38, 49) in page
    # The settings row it created has no zone yet: the browser is still asked for one.
    assert "js/time_zone.js" in page
    assert 'name="mask_on_screen" checked' in client.get("/settings/").content.decode()

    client.post("/settings/", {"form": "mask-on-screen"})  # the box unticked
    assert EMAIL_MARK in client.get("/timeline/").content.decode()


def test_a_changed_text_masks_the_whole_field_of_a_high_risk_finding(client, owner, mail):
    changed = "card 5555 5555 5555 4444 now"
    with as_user(owner):
        Event.objects.filter(id=mail.id).update(text=changed)
    client.force_login(owner)
    page = client.get(f"/events/{mail.id}/").content.decode()
    assert "5555" not in page
    assert _card_button(mail.id, "text", 0, len(changed)) in page


def test_search_page_shows_values_marked(client, owner, mail):
    with as_user(owner):
        embeddings_backfill(user_id=owner.pk)
    client.force_login(owner)
    page = client.get("/search/", {"q": "mail to Tom"}).content.decode()
    assert f'data-event="{mail.id}"' in page
    assert EMAIL_MARK in page and "4111" not in page


def _render(event: dict, field: str, max_chars: int) -> str:
    template = Template("{% load pii_marks %}{% pii_field event field max_chars %}")
    return template.render(Context({"event": event, "field": field, "max_chars": max_chars}))


def test_shortening_never_cuts_a_finding_and_text_is_escaped():
    event = {
        "id": 7,
        "title": "<b>Hi</b> maria@example.org and more",
        MARKS_KEY: {"title": [Mark(10, 27, "EMAIL_ADDRESS", "medium", masked=False)]},
    }
    assert _render(event, "title", 12) == (
        "&lt;b&gt;Hi&lt;/b&gt; "
        '<mark class="pii pii-medium" data-entity="EMAIL_ADDRESS" '
        'title="EMAIL_ADDRESS (medium risk)">maria@example.org</mark>…'
    )
    assert _render(event, "title", 5) == "&lt;b&gt;Hi…"
    assert _render(event, "title", 0).endswith("</mark> and more")
    masked = {**event, MARKS_KEY: {"title": [Mark(10, 27, "EMAIL_ADDRESS", "medium", masked=True)]}}
    assert "maria" not in _render(masked, "title", 0)
