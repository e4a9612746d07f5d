"""Push subscriptions end to end: the connector subscribes at the fake provider,
the fake validates our callback over real HTTP (the live server, reached through
DATAPUNK_PUBLIC_URL as a reverse proxy would), the beat task renews, disconnect
and delete-my-data end them, lifecycle notifications resync; without an https
public URL nothing is subscribed and the connection polls."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.test import Client
from django.utils.html import escape

from apps.connectors import push as push_module
from apps.connectors.microsoft import SUBSCRIPTION_LIFETIME
from apps.connectors.models import Connection
from apps.connectors.services import connection_disconnect
from apps.connectors.tasks import push_subscription_event, webhook_subscriptions_maintain
from apps.lake.models import Event
from apps.privacy.tasks import run_user_data_delete
from apps.stream.models import WebhookSubscription
from tests.acting import as_user, count_of, one_of, refreshed
from tests.connectors.conftest import make_connection

pytestmark = pytest.mark.django_db(transaction=True)

PUBLIC = "https://dp.example.org"
GRAPH_TOPICS = {"me/events", "me/mailFolders('Inbox')/messages"}


@pytest.fixture
def queued(monkeypatch):
    """The push events the webhook views queue, to be run as the worker would
    (run in the request, a sync would keep Graph waiting past its timeout)."""
    calls: list[tuple] = []
    monkeypatch.setattr(push_subscription_event, "delay", lambda *args: calls.append(args))
    return calls


def run_queued(queued: list[tuple]) -> None:
    while queued:
        push_subscription_event(*queued.pop(0))


@pytest.fixture
def public(settings, live_server):
    settings.DATAPUNK_PUBLIC_URL = PUBLIC
    return live_server.url


def _subs(conn) -> dict[str, WebhookSubscription]:
    """The connection's subscriptions, read as its user."""
    with as_user(conn.user_id):
        return {s.topic: s for s in WebhookSubscription.objects.filter(connection_id=conn.pk)}


# -- Microsoft Graph -----------------------------------------------------------------
def test_graph_subscriptions_are_created_after_the_validation_handshake(owner, graph, public):
    graph.reach[PUBLIC] = public
    conn = make_connection(owner, "microsoft", graph)

    assert webhook_subscriptions_maintain() == 2

    made = list(graph.subscriptions.values())
    assert {s["resource"] for s in made} == GRAPH_TOPICS
    for subscription in made:
        assert subscription["changeType"] == "created,updated,deleted"
        assert subscription["notificationUrl"] == f"{PUBLIC}/api/webhooks/microsoft/"
        assert subscription["lifecycleNotificationUrl"] == subscription["notificationUrl"]
    # Graph posted its validationToken and got it back, as text/plain, before answering 201.
    assert graph.validations and all(
        v["status"] == 200
        and v["content_type"].startswith("text/plain")
        and v["body"] == v["token"]
        for v in graph.validations
    )
    rows = _subs(conn)
    assert set(rows) == GRAPH_TOPICS
    for row in rows.values():
        at_graph = graph.subscriptions[row.external_id]
        assert row.status == "enabled" and row.user_id == owner.pk
        assert row.secret == at_graph["clientState"]  # what Graph will send back
        assert row.expires_at > datetime.now(UTC) + SUBSCRIPTION_LIFETIME - timedelta(minutes=5)

    # A second run finds them live: nothing is made again.
    assert webhook_subscriptions_maintain() == 0
    assert len(graph.subscriptions) == 2


def test_a_failed_validation_leaves_no_subscription_and_says_why(owner, graph, public):
    # The public URL does not lead here (no reach): Graph's validation POST fails.
    conn = make_connection(owner, "microsoft", graph)

    assert webhook_subscriptions_maintain() == 0

    assert not graph.subscriptions and not _subs(conn)
    refreshed(conn)
    assert "Subscription validation request failed" in conn.push_error


def test_the_beat_task_renews_what_expires_within_two_days(owner, graph, public):
    graph.reach[PUBLIC] = public
    conn = make_connection(owner, "microsoft", graph)
    webhook_subscriptions_maintain()
    events = _subs(conn)["me/events"]
    soon = datetime.now(UTC) + timedelta(hours=20)
    with as_user(owner):
        WebhookSubscription.objects.filter(pk=events.pk).update(expires_at=soon)
    calls = len(graph.log)

    assert webhook_subscriptions_maintain() == 1

    patches = [r for r in graph.log[calls:] if r.method == "PATCH"]
    assert [r.path for r in patches] == [f"/v1.0/subscriptions/{events.external_id}"]
    refreshed(events)
    assert events.expires_at > soon + timedelta(days=5)
    assert graph.subscriptions[events.external_id]["expirationDateTime"].startswith(
        events.expires_at.strftime("%Y-%m-%dT%H:%M:%S")
    )


def test_a_subscription_graph_lost_is_made_again_when_renewal_is_404(owner, graph, public):
    graph.reach[PUBLIC] = public
    conn = make_connection(owner, "microsoft", graph)
    webhook_subscriptions_maintain()
    old = _subs(conn)["me/events"]
    del graph.subscriptions[old.external_id]
    with as_user(owner):
        WebhookSubscription.objects.filter(pk=old.pk).update(
            expires_at=datetime.now(UTC) + timedelta(hours=1)
        )

    webhook_subscriptions_maintain()

    refreshed(old)
    assert (old.status, old.revoked_reason) == ("revoked", "gone at the provider")
    new = one_of(
        owner, WebhookSubscription, connection_id=conn.pk, topic="me/events", status="enabled"
    )
    assert new.external_id in graph.subscriptions


def test_disconnect_deletes_the_subscriptions_at_graph(owner, graph, public):
    graph.reach[PUBLIC] = public
    conn = make_connection(owner, "microsoft", graph)
    webhook_subscriptions_maintain()
    ids = {s.external_id for s in _subs(conn).values()}

    with as_user(owner):  # as the disconnect view runs it, in the request's user context
        connection_disconnect(connection_id=conn.pk, actor_id=owner.pk)

    deletes = {r.path.rsplit("/", 1)[1] for r in graph.log if r.method == "DELETE"}
    assert deletes == ids
    assert not graph.subscriptions and not _subs(conn)


def test_delete_my_data_ends_the_subscriptions_first(owner, graph, public):
    graph.reach[PUBLIC] = public
    make_connection(owner, "microsoft", graph)
    webhook_subscriptions_maintain()
    assert len(graph.subscriptions) == 2

    run_user_data_delete(owner.pk, owner.pk)

    assert not graph.subscriptions
    assert count_of(owner, WebhookSubscription) == 0


def test_a_redelivered_change_lands_once_and_brings_a_sync(owner, graph, public, queued):
    graph.reach[PUBLIC] = public
    conn = make_connection(owner, "microsoft", graph)
    webhook_subscriptions_maintain()
    events = _subs(conn)["me/events"]
    change = graph.change_notification(events.external_id)

    first, again = graph.notify(change), graph.notify(change)

    assert (first.status_code, again.status_code) == (202, 202)  # Graph retries a non-2XX
    assert count_of(owner, Event, kind="microsoft.event_created") == 1
    # The notification brought the sync forward (queued once, for the first
    # delivery): the calendar and mail were read.
    assert [args[3] for args in queued] == ["changed"]
    run_queued(queued)
    refreshed(conn)
    assert conn.last_sync_at is not None
    assert count_of(owner, Event, kind="calendar.event") == 120


@pytest.mark.parametrize("event", ["missed", "reauthorizationRequired", "subscriptionRemoved"])
def test_lifecycle_notifications_resync_and_keep_the_subscription(
    owner, graph, public, queued, event
):
    graph.reach[PUBLIC] = public
    conn = make_connection(owner, "microsoft", graph)
    webhook_subscriptions_maintain()
    events = _subs(conn)["me/events"]
    calls = len(graph.log)

    response = graph.lifecycle(events.external_id, event)

    assert response.status_code == 202
    assert count_of(owner, Event, kind__startswith="microsoft.") == 0
    assert [args[3] for args in queued] == [event]
    run_queued(queued)
    since = graph.log[calls:]
    # Resync: the delta queries ran.
    assert any("calendarView/delta" in r.path for r in since)
    refreshed(conn)
    assert conn.last_sync_at is not None
    live = one_of(
        owner, WebhookSubscription, connection_id=conn.pk, topic="me/events", status="enabled"
    )
    if event == "reauthorizationRequired":
        assert [r.path for r in since if r.method == "PATCH"] == [
            f"/v1.0/subscriptions/{events.external_id}"
        ]
        assert live.pk == events.pk
    elif event == "subscriptionRemoved":
        refreshed(events)
        assert events.status == "revoked"
        assert live.pk != events.pk and live.external_id in graph.subscriptions
    else:
        assert live.pk == events.pk


# -- Twitch EventSub -----------------------------------------------------------------
def test_twitch_subscribes_with_an_app_token_and_answers_the_challenge(owner, twitch, public):
    twitch.reach[PUBLIC] = public
    conn = make_connection(owner, "twitch", twitch, external_id=twitch.user_id)

    assert webhook_subscriptions_maintain() == 2

    creates = [r for r in twitch.log if r.path == "/helix/eventsub/subscriptions"]
    assert len(creates) == 2
    tokens = [r for r in twitch.log if r.form.get("grant_type") == "client_credentials"]
    assert len(tokens) == 1  # one app access token for the run
    for request in creates:
        assert request.headers["authorization"][7:] in twitch.app_tokens
        assert request.json["transport"]["method"] == "webhook"
        assert request.json["transport"]["callback"] == f"{PUBLIC}/api/webhooks/twitch/"
        assert request.json["condition"] == {"broadcaster_user_id": twitch.user_id}
    rows = _subs(conn)
    assert set(rows) == {"stream.online", "stream.offline"}
    assert {r.status for r in rows.values()} == {"pending"}

    twitch.send_verifications()

    assert [v["ok"] for v in twitch.verifications] == [True, True]
    client = Client()
    client.force_login(owner)
    page = client.get("/connections/").content.decode()
    assert page.count("Twitch EventSub for") == 2 and "does not expire" in page
    assert {r.status for r in _subs(conn).values()} == {"enabled"}
    assert {s["status"] for s in twitch.eventsub.values()} == {"enabled"}


def test_a_twitch_subscription_never_verified_is_made_again_after_an_hour(owner, twitch, public):
    twitch.reach[PUBLIC] = public
    conn = make_connection(owner, "twitch", twitch, external_id=twitch.user_id)
    webhook_subscriptions_maintain()
    twitch.unverified.clear()  # the challenge was lost
    stale = _subs(conn)["stream.online"]
    with as_user(owner):
        WebhookSubscription.objects.filter(pk=stale.pk).update(
            created_at=datetime.now(UTC) - timedelta(hours=2)
        )

    assert webhook_subscriptions_maintain() == 1

    refreshed(stale)
    assert (stale.status, stale.revoked_reason) == ("revoked", "never verified")
    assert stale.external_id not in twitch.eventsub  # deleted there first (no 409)
    fresh = one_of(
        owner, WebhookSubscription, connection_id=conn.pk, topic="stream.online", status="pending"
    )
    twitch.send_verifications()
    refreshed(fresh)
    assert fresh.status == "enabled"


def test_twitch_notifications_land_once_and_revocation_is_recorded(owner, twitch, public, queued):
    twitch.reach[PUBLIC] = public
    conn = make_connection(owner, "twitch", twitch, external_id=twitch.user_id)
    webhook_subscriptions_maintain()
    twitch.send_verifications()
    online = _subs(conn)["stream.online"]
    event = {
        "id": "9001",
        "broadcaster_user_id": twitch.user_id,
        "broadcaster_user_login": "twitchdev",
        "broadcaster_user_name": "TwitchDev",
        "type": "live",
        "started_at": "2026-12-04T18:00:00Z",
    }

    first = twitch.notify(online.external_id, event, message_id="msg-1")
    again = twitch.notify(online.external_id, event, message_id="msg-1")

    assert (first.status_code, again.status_code) == (204, 204)
    assert count_of(owner, Event, kind="twitch.stream_online") == 1

    # Too many failed deliveries: Twitch revokes; the connector subscribes again.
    assert twitch.revoke(online.external_id, "notification_failures_exceeded").status_code == 204
    run_queued(queued)
    refreshed(online)
    assert (online.status, online.revoked_reason) == ("revoked", "notification_failures_exceeded")
    again_made = one_of(
        owner, WebhookSubscription, connection_id=conn.pk, topic="stream.online", status="pending"
    )
    assert again_made.external_id in twitch.eventsub

    # The user took the authorization back: not made again.
    offline = _subs(conn)["stream.offline"]
    twitch.revoke(offline.external_id, "authorization_revoked")
    run_queued(queued)
    assert (
        count_of(
            owner,
            WebhookSubscription,
            connection_id=conn.pk,
            topic="stream.offline",
            status__in=("pending", "enabled"),
        )
        == 0
    )


def test_twitch_disconnect_deletes_with_the_app_token(owner, twitch, public):
    twitch.reach[PUBLIC] = public
    conn = make_connection(owner, "twitch", twitch, external_id=twitch.user_id)
    webhook_subscriptions_maintain()
    twitch.send_verifications()

    with as_user(owner):  # as the disconnect view runs it, in the request's user context
        connection_disconnect(connection_id=conn.pk, actor_id=owner.pk)

    deletes = [r for r in twitch.log if r.method == "DELETE"]
    assert len(deletes) == 2
    assert all(r.headers["authorization"][7:] in twitch.app_tokens for r in deletes)
    assert not twitch.eventsub and not _subs(conn)
    refreshed(conn)
    assert conn.status == Connection.Status.REVOKED and conn.last_error == ""


# -- no public HTTPS address: polling --------------------------------------------------
@pytest.mark.parametrize("url", ["", "http://dp.example.org"])
def test_without_a_public_https_url_nothing_is_subscribed_and_the_page_says_polling(
    owner, graph, twitch, settings, url
):
    settings.DATAPUNK_PUBLIC_URL = url
    make_connection(owner, "microsoft", graph)
    make_connection(owner, "twitch", twitch, external_id=twitch.user_id)

    assert webhook_subscriptions_maintain() == 0

    assert not [r for r in graph.log if "subscriptions" in r.path]
    assert not [r for r in twitch.log if "eventsub" in r.path]
    assert count_of(owner, WebhookSubscription) == 0
    client = Client()
    client.force_login(owner)
    page = client.get("/connections/").content.decode()
    assert "Microsoft Graph change notifications are off" in page
    assert "Twitch EventSub are off" in page
    assert "polls every 15 minutes" in page
    assert push_module.polling_reason() in page


def test_the_page_shows_each_subscription_state_and_expiry(owner, graph, public):
    graph.reach[PUBLIC] = public
    conn = make_connection(owner, "microsoft", graph)
    webhook_subscriptions_maintain()
    client = Client()
    client.force_login(owner)

    page = client.get("/connections/").content.decode()

    for row in _subs(conn).values():
        assert f'data-subscription="{escape(row.topic)}"' in page
        assert f"expires {row.expires_at:%Y-%m-%d %H:%M} UTC" in page
    assert page.count(": Enabled, expires") == 2
