"""Fixtures of the connector tests: fake providers, configured apps, connections."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from django.conf import settings as django_settings

from apps.connectors.models import Connection
from apps.stream.ratelimit import redis_client
from tests.acting import as_user
from tests.connectors.fakes.base import CLIENT_ID, CLIENT_SECRET, FakeProvider
from tests.connectors.fakes.discord import FakeDiscord
from tests.connectors.fakes.google import FakeGoogle
from tests.connectors.fakes.graph import FakeGraph
from tests.connectors.fakes.spotify import FakeSpotify
from tests.connectors.fakes.twitch import FakeTwitch


@pytest.fixture(autouse=True)
def _clean_outbound_state() -> Iterator[None]:
    """Rate buckets and breakers live in Redis: each test starts with none."""

    def clean() -> None:
        client = redis_client(django_settings.REDIS_URL)
        for pattern in ("datapunk:rate:*", "datapunk:breaker:*"):
            keys = list(client.scan_iter(pattern))
            if keys:
                client.delete(*keys)

    clean()
    yield
    clean()


@pytest.fixture
def fast_outbound(settings):
    """Retries and breaker on a test's time scale; generous rate limits."""
    settings.DATAPUNK_OUTBOUND = {
        "attempts": 3,
        "backoff_base": 0.01,
        "backoff_max": 0.05,
        "retry_after_max": 5.0,
        "rate_wait_max": 10.0,
        "breaker_threshold": 5,
        "breaker_timeout": 1.0,
        "timeout": 5.0,
    }
    settings.DATAPUNK_RATE_LIMITS = {
        "default": {"provider": (1000.0, 1000.0), "connection": (1000.0, 1000.0)}
    }
    return settings


def point_at(settings, provider: str, fake: FakeProvider) -> None:
    settings.CONNECTOR_BASE_URLS = {**settings.CONNECTOR_BASE_URLS, provider: fake.url}
    settings.SOCIALACCOUNT_PROVIDERS = {
        **settings.SOCIALACCOUNT_PROVIDERS,
        provider: {"APPS": [{"client_id": CLIENT_ID, "secret": CLIENT_SECRET}]},
    }


@pytest.fixture
def spotify(fast_outbound) -> Iterator[FakeSpotify]:
    with FakeSpotify(plays=120, saved=130, playlists=3) as fake:
        point_at(fast_outbound, "spotify", fake)
        yield fake


def make_connection(user, provider: str, fake: FakeProvider, **extra) -> Connection:
    """A connection as connecting leaves it, with tokens the fake issued (written as ``user``)."""
    access, refresh = fake.issue_tokens()
    conn = Connection(
        user=user,
        provider=provider,
        external_id=extra.pop("external_id", f"{provider}-account-{user.pk}"),
        token_expires_at=extra.pop("token_expires_at", datetime.now(UTC) + timedelta(hours=1)),
        **extra,
    )
    conn.access_token = access
    conn.refresh_token = refresh
    with as_user(user):
        conn.save()
    return conn


@pytest.fixture
def graph(fast_outbound) -> Iterator[FakeGraph]:
    with FakeGraph(events=120, messages=75) as fake:
        point_at(fast_outbound, "microsoft", fake)
        yield fake


@pytest.fixture
def twitch(fast_outbound) -> Iterator[FakeTwitch]:
    with FakeTwitch(follows=250) as fake:
        point_at(fast_outbound, "twitch", fake)
        yield fake


@pytest.fixture
def google(fast_outbound) -> Iterator[FakeGoogle]:
    with FakeGoogle(activities=130, sessions=45, heart_points=2500) as fake:
        point_at(fast_outbound, "google", fake)
        yield fake


@pytest.fixture
def discord(fast_outbound) -> Iterator[FakeDiscord]:
    with FakeDiscord(guilds=230) as fake:
        point_at(fast_outbound, "discord", fake)
        yield fake
