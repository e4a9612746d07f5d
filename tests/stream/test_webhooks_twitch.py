"""Twitch EventSub webhooks against Twitch's own test vectors (twitch_api,
../shared/realdata) and deliveries signed the same way: genuine ones land
exactly once; forged, stale and replayed ones are refused, never with a 500."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from apps.lake.models import Event
from apps.stream.models import InboundDelivery, WebhookSubscription
from apps.stream.signing import SignatureRejected, twitch_verify
from tests.acting import as_user, count_of, one_of
from tests.stream.conftest import subscription_for

URL = "/api/webhooks/twitch/"
REALDATA = Path(
    os.environ.get(
        "DATAPUNK_REALDATA", Path(__file__).resolve().parents[2].parent / "shared" / "realdata"
    )
)
VECTORS = REALDATA / "twitch_api" / "src" / "eventsub"

pytestmark = pytest.mark.django_db


def vector(name: str) -> dict:
    path = VECTORS / name
    if not path.exists():
        pytest.fail(
            f"Twitch's test vectors are missing: {path} (see ../shared/realdata/SOURCES.md)"
        )
    return json.loads(path.read_text())


def meta(headers: dict[str, str]) -> dict[str, str]:
    return {"HTTP_" + name.upper().replace("-", "_"): value for name, value in headers.items()}


def sign(secret: str, message_id: str, timestamp: str, body: bytes) -> str:
    digest = hmac.new(
        secret.encode(), message_id.encode() + timestamp.encode() + body, hashlib.sha256
    )
    return "sha256=" + digest.hexdigest()


def fresh(real: dict, *, message_id: str | None = None, when: datetime | None = None) -> dict:
    """Twitch's vector with a current timestamp, signed with its secret as Twitch would."""
    headers = dict(real["headers"])
    headers["Twitch-Eventsub-Message-Id"] = message_id or headers["Twitch-Eventsub-Message-Id"]
    stamp = (when or datetime.now(UTC)).isoformat().replace("+00:00", "Z")
    headers["Twitch-Eventsub-Message-Timestamp"] = stamp
    headers["Twitch-Eventsub-Message-Signature"] = sign(
        real["secret"], headers["Twitch-Eventsub-Message-Id"], stamp, real["body"].encode()
    )
    return headers


def deliver(client, body: str | bytes, headers: dict[str, str]):
    data = body.encode() if isinstance(body, str) else body
    return client.post(URL, data=data, content_type="application/json", **meta(headers))


@pytest.fixture
def follow(owner):
    """The subscription of verify_request.json, as the Twitch connector registers it."""
    real = vector("verify_request.json")
    body = json.loads(real["body"])
    subscription_for(
        owner,
        provider="twitch",
        external_id=body["subscription"]["id"],
        secret=real["secret"],
        topic="channel.follow",
        status="enabled",  # its callback verification was answered
    )
    return real


@pytest.fixture
def challenge(owner):
    real = vector("verify_request_challenge.json")
    body = json.loads(real["body"])
    subscription_for(
        owner,
        provider="twitch",
        external_id=body["subscription"]["id"],
        secret=real["secret"],
        topic="channel.subscribe",
    )
    return real


@pytest.mark.parametrize("name", ["verify_request.json", "verify_request_challenge.json"])
def test_twitchs_own_signatures_verify_and_a_changed_byte_does_not(name):
    real = vector(name)
    headers = real["headers"]
    sent_at = datetime.fromisoformat(headers["Twitch-Eventsub-Message-Timestamp"])
    arguments = dict(
        secret=real["secret"],
        message_id=headers["Twitch-Eventsub-Message-Id"],
        timestamp=headers["Twitch-Eventsub-Message-Timestamp"],
        body=real["body"].encode(),
        signature=headers["Twitch-Eventsub-Message-Signature"],
    )
    assert twitch_verify(**arguments, now=sent_at + timedelta(seconds=1)) == sent_at
    with pytest.raises(SignatureRejected, match="does not match"):
        twitch_verify(
            **{**arguments, "body": arguments["body"].replace(b"}", b" }", 1)}, now=sent_at
        )
    with pytest.raises(SignatureRejected, match="does not match"):
        twitch_verify(**{**arguments, "secret": "secretabce"}, now=sent_at)
    with pytest.raises(SignatureRejected, match="10 minutes"):
        twitch_verify(**arguments, now=sent_at + timedelta(minutes=10, seconds=1))


def test_the_real_delivery_as_captured_is_stale_today(client, owner, follow):
    # Genuine signature, sent in 2021: refused for its age, not for its signature.
    response = deliver(client, follow["body"], follow["headers"])
    assert response.status_code == 403
    assert "10 minutes" in response.json()["detail"]
    assert count_of(owner, Event) == 0


def test_a_follow_lands_once_even_when_delivered_twice(client, owner, follow):
    headers = fresh(follow)

    first = deliver(client, follow["body"], headers)
    second = deliver(client, follow["body"], headers)

    assert first.status_code == 204
    # Twitch redelivers anything answered otherwise than 2XX: acknowledged, not stored again.
    assert second.status_code == 204
    event = one_of(owner, Event)
    assert event.user_id == owner.pk and event.source == "twitch"
    assert event.kind == "twitch.channel_follow"
    assert event.title == "testFromUser followed testBroadcaster"
    assert event.url == "https://www.twitch.tv/44429626"
    assert event.data["event"]["user_id"] == "28408015"
    assert event.data["_provenance"]["connector"] == "twitch.eventsub"
    assert count_of(owner, InboundDelivery, channel="twitch") == 1


def test_the_same_follow_under_a_new_message_id_is_still_one_event(client, owner, follow):
    moment = datetime.now(UTC)
    assert (
        deliver(client, follow["body"], fresh(follow, message_id="a", when=moment)).status_code
        == 204
    )
    assert (
        deliver(client, follow["body"], fresh(follow, message_id="b", when=moment)).status_code
        == 204
    )
    assert count_of(owner, Event) == 1


def test_the_verification_challenge_is_answered_raw_and_enables_the_subscription(
    client, owner, challenge
):
    response = deliver(client, challenge["body"], fresh(challenge))

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    assert response.content == b"11535768-497e-14ec-8197-ba2cb5341a01"
    assert one_of(owner, WebhookSubscription).status == "enabled"
    assert count_of(owner, Event) == 0


def test_revocation_marks_the_subscription(client, owner, follow):
    body = json.loads(follow["body"])
    body["subscription"]["status"] = "authorization_revoked"
    raw = json.dumps(body)
    headers = fresh({**follow, "body": raw})
    headers["Twitch-Eventsub-Message-Type"] = "revocation"

    assert deliver(client, raw, headers).status_code == 204

    subscription = one_of(owner, WebhookSubscription)
    assert (subscription.status, subscription.revoked_reason) == (
        "revoked",
        "authorization_revoked",
    )
    assert count_of(owner, Event) == 0


@pytest.mark.parametrize(
    ("forge", "status"),
    [
        ("signature of another body", 403),
        ("wrong secret", 403),
        ("stale by 11 minutes", 403),
        ("from the future", 403),
        ("signature without prefix", 403),
        ("unknown subscription", 403),
        ("no signature header", 401),
        ("no message id", 401),
        ("timestamp changed after signing", 403),
        ("not json", 400),
        ("unknown message type", 400),
    ],
)
def test_forged_and_stale_deliveries_are_refused(client, owner, follow, forge, status):
    body = follow["body"]
    headers = fresh(follow)
    if forge == "signature of another body":
        body = body.replace("testFromUser", "mallory")
    elif forge == "wrong secret":
        headers["Twitch-Eventsub-Message-Signature"] = sign(
            "guess",
            headers["Twitch-Eventsub-Message-Id"],
            headers["Twitch-Eventsub-Message-Timestamp"],
            body.encode(),
        )
    elif forge == "stale by 11 minutes":
        headers = fresh(follow, when=datetime.now(UTC) - timedelta(minutes=11))
    elif forge == "from the future":
        headers = fresh(follow, when=datetime.now(UTC) + timedelta(minutes=11))
    elif forge == "signature without prefix":
        headers["Twitch-Eventsub-Message-Signature"] = headers["Twitch-Eventsub-Message-Signature"][
            7:
        ]
    elif forge == "unknown subscription":
        body = body.replace(
            "ae2ff348-e102-16be-a3eb-6830c1bf38d2", "00000000-0000-0000-0000-000000000000", 1
        )
        headers = fresh({**follow, "body": body})
    elif forge == "no signature header":
        del headers["Twitch-Eventsub-Message-Signature"]
    elif forge == "no message id":
        del headers["Twitch-Eventsub-Message-Id"]
    elif forge == "timestamp changed after signing":
        headers["Twitch-Eventsub-Message-Timestamp"] = datetime.now(UTC).isoformat()
    elif forge == "not json":
        body = "{nope"
    elif forge == "unknown message type":
        headers["Twitch-Eventsub-Message-Type"] = "surprise"

    response = deliver(client, body, headers)

    assert response.status_code == status, response.content
    assert response.json()["detail"]
    assert count_of(owner, Event) == 0
    assert count_of(owner, InboundDelivery) == 0


def test_oversized_bodies_and_other_methods_are_refused(client, owner, follow):
    headers = fresh(follow)
    assert deliver(client, b"{" + b" " * (256 * 1024) + b"}", headers).status_code == 413
    assert client.get(URL).status_code == 405


def test_a_stream_going_live_uses_its_own_start_time(client, owner):
    secret = "s3cret-for-stream-online"
    subscription_for(
        owner,
        provider="twitch",
        external_id="sub-online",
        secret=secret,
        topic="stream.online",
        status="enabled",
    )
    # The payload documented for stream.online (dev.twitch.tv/docs/eventsub/eventsub-reference).
    body = json.dumps(
        {
            "subscription": {
                "id": "sub-online",
                "type": "stream.online",
                "version": "1",
                "status": "enabled",
                "condition": {"broadcaster_user_id": "1337"},
            },
            "event": {
                "id": "9001",
                "broadcaster_user_id": "1337",
                "broadcaster_user_login": "cool_user",
                "broadcaster_user_name": "Cool_User",
                "type": "live",
                "started_at": "2020-10-11T10:11:12.123Z",
            },
        }
    )
    stamp = datetime.now(UTC).isoformat()
    headers = {
        "Twitch-Eventsub-Message-Id": "m-online",
        "Twitch-Eventsub-Message-Timestamp": stamp,
        "Twitch-Eventsub-Message-Type": "notification",
        "Twitch-Eventsub-Message-Signature": sign(secret, "m-online", stamp, body.encode()),
    }
    assert deliver(client, body, headers).status_code == 204
    event = one_of(owner, Event)
    assert (event.kind, event.title) == ("twitch.stream_online", "Cool_User went live")
    assert event.occurred_at == datetime(2020, 10, 11, 10, 11, 12, 123000, tzinfo=UTC)


def test_the_subscription_secret_is_sealed_at_rest(owner, follow):
    from django.db import connection

    with as_user(owner), connection.cursor() as cursor:
        cursor.execute("SELECT secret_sealed FROM stream_webhooksubscription")
        (sealed,) = cursor.fetchone()
    assert follow["secret"] not in sealed
    assert one_of(owner, WebhookSubscription).secret == follow["secret"]


def test_a_secret_sealed_with_another_key_refuses_instead_of_failing(
    client, owner, follow, settings
):
    from cryptography.fernet import Fernet

    settings.FIELD_ENCRYPTION_KEY = Fernet.generate_key().decode()
    response = deliver(client, follow["body"], fresh(follow))
    assert response.status_code == 403
    assert count_of(owner, Event) == 0


def test_old_message_ids_are_forgotten_after_the_window(client, owner, follow):
    from django.utils import timezone

    from apps.stream.services import inbound_deliveries_prune

    assert deliver(client, follow["body"], fresh(follow)).status_code == 204
    assert inbound_deliveries_prune() == 0  # still inside the window
    with as_user(owner):
        InboundDelivery.objects.update(received_at=timezone.now() - timedelta(hours=2))
    assert inbound_deliveries_prune() == 1


@pytest.mark.parametrize(("status", "answer"), [("revoked", 410), ("pending", 403)])
def test_a_revoked_or_unverified_subscription_stores_nothing(client, owner, follow, status, answer):
    with as_user(owner):
        WebhookSubscription.objects.update(status=status)
    response = deliver(client, follow["body"], fresh(follow))
    assert response.status_code == answer
    assert status in response.json()["detail"]
    assert count_of(owner, Event) == 0
    assert count_of(owner, InboundDelivery) == 0


def test_a_subscription_type_too_long_for_an_event_type_is_a_clear_400(client, owner, follow):
    body = json.loads(follow["body"])
    body["subscription"]["type"] = "channel." + "x" * 70
    raw = json.dumps(body)
    response = deliver(client, raw, fresh({**follow, "body": raw}))
    assert response.status_code == 400
    assert "subscription.type" in response.json()["detail"]
    assert count_of(owner, Event) == 0
    assert count_of(owner, InboundDelivery) == 0
