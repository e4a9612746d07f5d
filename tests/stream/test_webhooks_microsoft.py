"""Microsoft Graph change notifications: the validation handshake, the
clientState check, and each change stored once however often Graph retries."""

from __future__ import annotations

import json

import pytest

from apps.lake.models import Event
from apps.stream.models import WebhookSubscription
from tests.acting import as_user, count_of, one_of
from tests.stream.conftest import subscription_for

URL = "/api/webhooks/microsoft/"
pytestmark = pytest.mark.django_db


def notification(
    subscription_id="sub-1", client_state="state-of-sub-1", etag='W/"CQAAAB"', **extra
):
    # The notification documented at learn.microsoft.com/graph/change-notifications-delivery-webhooks.
    return {
        "id": "lsgTZMr9KwAAA",
        "subscriptionId": subscription_id,
        "subscriptionExpirationDateTime": "2026-12-03T18:23:45.9356913Z",
        "clientState": client_state,
        "changeType": "created",
        "resource": "Users/7a2b/Events/AAMkAGUw",
        "tenantId": "84bd8158-6d4d-4958-8b9f-9d6445542f95",
        "resourceData": {
            "@odata.type": "#Microsoft.Graph.Event",
            "@odata.id": "Users/7a2b/Events/AAMkAGUw",
            "@odata.etag": etag,
            "id": "AAMkAGUw",
        },
        **extra,
    }


def deliver(client, *notifications, body=None):
    data = body if body is not None else json.dumps({"value": list(notifications)})
    return client.post(URL, data=data, content_type="application/json")


@pytest.fixture
def subscription(owner):
    return subscription_for(
        owner,
        provider="microsoft",
        external_id="sub-1",
        secret="state-of-sub-1",
        topic="me/events",
        status="enabled",  # Graph validated the callback before it answered the creation
    )


def test_the_validation_token_is_echoed_as_plain_text(client):
    token = "Validation: Testing client application reachability for subscription Request-Id: 95f0"
    response = client.post(
        f"{URL}?validationToken={token.replace(' ', '+')}", data=b"", content_type="text/plain"
    )
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    assert response.content.decode() == token


def test_a_change_lands_once_even_when_graph_delivers_it_twice(client, owner, subscription):
    first = deliver(client, notification())
    second = deliver(client, notification())

    assert first.status_code == 202 and first.json() == {"written": 1, "duplicate": 0}
    assert second.status_code == 202 and second.json() == {"written": 0, "duplicate": 1}
    event = one_of(owner, Event)
    assert (event.user_id, event.source, event.kind) == (
        owner.pk,
        "microsoft",
        "microsoft.event_created",
    )
    assert "clientState" not in event.data["notification"]  # the shared secret is not stored
    assert event.data["_provenance"]["connector"] == "graph.webhook"

    # A later change of the same item (a new etag) is a new event.
    assert deliver(client, notification(etag='W/"CQAAAC"')).json()["written"] == 1


@pytest.mark.parametrize(
    "forge", ["wrong clientState", "no clientState", "unknown subscription", "one bad among good"]
)
def test_forged_notifications_are_refused_and_nothing_is_stored(client, subscription, forge):
    bad = {
        "wrong clientState": notification(client_state="guess"),
        "no clientState": {k: v for k, v in notification().items() if k != "clientState"},
        "unknown subscription": notification(subscription_id="sub-unknown"),
        "one bad among good": notification(client_state="guess", etag="other"),
    }[forge]
    others = [notification()] if forge == "one bad among good" else []

    response = deliver(client, *others, bad)

    assert response.status_code == 403
    assert count_of(subscription.user_id, Event) == 0


@pytest.mark.parametrize("body", ["{nope", "[]", '{"value": "x"}', '{"value": [{"id": 1}]}'])
def test_bodies_that_are_not_notifications_are_refused(client, body):
    response = deliver(client, body=body)
    assert response.status_code == 400
    assert response.json()["detail"]


def test_subscription_removed_marks_it_revoked(client, subscription):
    removed = {
        "subscriptionId": "sub-1",
        "clientState": "state-of-sub-1",
        "lifecycleEvent": "subscriptionRemoved",
        "tenantId": "84bd8158",
    }
    assert deliver(client, removed).status_code == 202
    assert one_of(subscription.user_id, WebhookSubscription).status == "revoked"
    assert count_of(subscription.user_id, Event) == 0


def test_oversized_bodies_are_refused(client, subscription):
    assert deliver(client, body="x" * (1024 * 1024 + 1)).status_code == 413


@pytest.mark.parametrize(("status", "answer"), [("revoked", 410), ("pending", 403)])
def test_a_revoked_or_unconfirmed_subscription_stores_nothing(client, subscription, status, answer):
    with as_user(subscription.user_id):
        WebhookSubscription.objects.filter(pk=subscription.pk).update(status=status)
    notification = {
        "subscriptionId": "sub-1",
        "clientState": "state-of-sub-1",
        "changeType": "created",
        "resource": "Users/u/Events/AAMkAG1",
        "tenantId": "84bd8158",
    }
    response = deliver(client, notification)
    assert response.status_code == answer
    assert status in response.json()["detail"]
    assert count_of(subscription.user_id, Event) == 0
