"""The privacy API as a client sees it: masked by default, audited reveals, hostile input."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from apps.privacy.models import AuditEntry
from apps.privacy.pii.models import PiiFinding, RedactionPolicy
from apps.privacy.services import pii_scan_events
from tests.acting import as_user, count_of, one_of
from tests.privacy.factories import make_event

pytestmark = pytest.mark.django_db

TITLE = "Mail from maria.keller@example.org, card 4111 1111 1111 1111"


@pytest.fixture
def client_for():
    def login(user) -> APIClient:
        client = APIClient()
        client.force_login(user)
        return client

    return login


@pytest.fixture
def event(owner, scanner):
    event = make_event(owner, title=TITLE, data={"subject": TITLE})
    with as_user(owner):
        pii_scan_events(user_id=owner.pk, event_ids=[event.id])
    return event


def test_events_are_masked_by_default(client_for, owner, event):
    response = client_for(owner).get(f"/api/privacy/events/{event.id}/")
    assert response.status_code == 200
    body = response.json()
    assert body["title"] == "Mail from <EMAIL_ADDRESS>, card <CREDIT_CARD>"
    assert body["data"]["subject"] == body["title"]
    assert "maria" not in response.content.decode()


def test_reveal_returns_the_value_to_the_owner_and_is_audited(client_for, owner, event):
    response = client_for(owner).post(
        f"/api/privacy/events/{event.id}/reveal/", {"field": "data/subject"}, format="json"
    )
    assert response.status_code == 200
    assert response.json() == {"id": event.id, "field": "data/subject", "value": TITLE}
    entry = one_of(owner, AuditEntry, action="pii.reveal")
    assert (entry.user_id, entry.actor_id) == (owner.pk, owner.pk)
    assert entry.target == f"event:{event.id}.data/subject"
    assert entry.ip == "127.0.0.1"


def test_another_users_event_is_not_found(client_for, outsider, event):
    client = client_for(outsider)
    assert client.get(f"/api/privacy/events/{event.id}/").status_code == 404
    response = client.post(
        f"/api/privacy/events/{event.id}/reveal/", {"field": "title"}, format="json"
    )
    assert response.status_code == 404
    assert count_of(outsider, AuditEntry, action="pii.reveal") == 0
    assert count_of(event.user_id, AuditEntry, action="pii.reveal") == 0
    assert client.get(f"/api/privacy/findings/?event={event.id}").json()["count"] == 0


@pytest.mark.parametrize(
    "method, path, body",
    [
        ("get", "/api/privacy/findings/", None),
        ("get", "/api/privacy/policy/", None),
        ("put", "/api/privacy/policy/", {"high": "show", "medium": "show", "low": "show"}),
        ("get", "/api/privacy/events/{id}/", None),
        ("post", "/api/privacy/events/{id}/reveal/", {"field": "title"}),
    ],
)
def test_no_credentials_no_answer(method, path, body, event):
    response = getattr(APIClient(), method)(path.format(id=event.id), body, format="json")
    assert response.status_code in (401, 403)
    assert count_of(event.user_id, AuditEntry, action="pii.reveal") == 0
    assert count_of(event.user_id, RedactionPolicy) == 0


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"field": 3},
        {"field": ["title"]},
        {"field": "password"},
        {"field": "data/"},
        {"field": "data/missing"},
        {"field": "x" * 300},
    ],
)
def test_reveal_with_wrong_input_is_a_400(client_for, owner, event, body):
    response = client_for(owner).post(
        f"/api/privacy/events/{event.id}/reveal/", body, format="json"
    )
    assert response.status_code == 400
    assert count_of(owner, AuditEntry, action="pii.reveal") == 0


def test_a_reveal_the_service_refuses_answers_the_one_error_shape(client_for, owner, event):
    # The service's message for the user, as {"detail": ...} like every other 400
    # (apps/core/api_errors.py), not a field-error list of its own.
    response = client_for(owner).post(
        f"/api/privacy/events/{event.id}/reveal/", {"field": "data/missing"}, format="json"
    )
    assert response.status_code == 400
    assert response.json() == {"detail": f"Event {event.id} has no text field 'data/missing'."}


@pytest.mark.parametrize("event_id", ["0", "99999999999999999999999", "abc"])
def test_odd_event_ids_are_not_found(client_for, owner, event_id):
    client = client_for(owner)
    assert client.get(f"/api/privacy/events/{event_id}/").status_code == 404
    response = client.post(
        f"/api/privacy/events/{event_id}/reveal/", {"field": "title"}, format="json"
    )
    assert response.status_code == 404


def test_findings_list_names_spans_not_values(client_for, owner, outsider, event, scanner):
    theirs = make_event(outsider, text="other@example.com")
    with as_user(outsider):
        pii_scan_events(user_id=outsider.pk, event_ids=[theirs.id])
    body = client_for(owner).get("/api/privacy/findings/").json()
    # The e-mail and the card, in the title and again in data/subject.
    assert body["count"] == count_of(owner, PiiFinding) == 4
    assert {row["event_id"] for row in body["results"]} == {event.id}
    assert "maria" not in str(body)
    high = client_for(owner).get("/api/privacy/findings/?risk=high").json()
    assert {row["entity_type"] for row in high["results"]} == {"CREDIT_CARD"}


@pytest.mark.parametrize(
    "query", ["risk=secret", "event=abc", "event=-1", "event=99999999999999999999999"]
)
def test_findings_filters_with_wrong_types_are_a_400(client_for, owner, query):
    assert client_for(owner).get(f"/api/privacy/findings/?{query}").status_code == 400


def test_policy_defaults_update_and_audit(client_for, owner, outsider, event):
    client = client_for(owner)
    assert client.get("/api/privacy/policy/").json() == {
        "high": "mask",
        "medium": "mask",
        "low": "partial",
    }
    policy = {"high": "partial", "medium": "show", "low": "show"}
    response = client.put("/api/privacy/policy/", policy, format="json")
    assert response.status_code == 200
    assert client.get("/api/privacy/policy/").json() == policy
    assert count_of(owner, AuditEntry, action="pii.policy") == 1
    masked = client.get(f"/api/privacy/events/{event.id}/").json()["title"]
    assert masked == "Mail from maria.keller@example.org, card **** **** **** 1111"
    # The outsider's policy is their own.
    assert client_for(outsider).get("/api/privacy/policy/").json()["medium"] == "mask"


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"high": "show"},
        {"high": "reveal", "medium": "mask", "low": "mask"},
        {"high": 1, "medium": "mask", "low": "mask"},
        ["mask"],
    ],
)
def test_policy_with_wrong_input_is_a_400_and_changes_nothing(client_for, owner, body):
    response = client_for(owner).put("/api/privacy/policy/", body, format="json")
    assert response.status_code == 400
    assert count_of(owner, RedactionPolicy) == 0


def test_policy_page(client, owner, event):
    assert client.get("/privacy/pii/").status_code == 302  # sign in first
    client.force_login(owner)
    page = client.get("/privacy/pii/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-risk="high">2<' in html and 'data-risk="medium">2<' in html
    where = html[html.index('id="pii-where"') :]
    assert "exports" in where and "live feed" in where and "numbers" in where
    assert "maria" not in html
    response = client.post("/privacy/pii/", {"high": "hash", "medium": "mask", "low": "show"})
    assert response.status_code == 302
    assert one_of(owner, RedactionPolicy).high == "hash"
    assert "Saved: the API and exports" in client.get(response.url).content.decode()
    bad = client.post("/privacy/pii/", {"high": "nope", "medium": "mask", "low": "show"})
    assert bad.status_code == 200 and one_of(owner, RedactionPolicy).high == "hash"


def test_admin_lists_findings(client, make_user, event):
    admin = make_user("boss", is_staff=True, is_superuser=True)
    client.force_login(admin)
    assert client.get("/admin/privacy/piifinding/").status_code == 200
    assert client.get("/admin/privacy/piifinding/?risk__exact=high").status_code == 200
    assert client.get("/admin/privacy/redactionpolicy/").status_code == 200
    assert client.get("/admin/privacy/piiscanstate/").status_code == 200
