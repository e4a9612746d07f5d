"""Outbound calls: token buckets, the breaker and retries, against real Redis and a local server."""

from __future__ import annotations

import socket
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from apps.stream import ratelimit
from apps.stream.breaker import CircuitBreaker, CircuitOpen
from apps.stream.outbound import (
    ClientError,
    GaveUp,
    OutboundPolicy,
    Unauthorized,
    backoff_seconds,
    outbound_call,
    retry_after_seconds,
)
from apps.stream.ratelimit import Bucket, RateLimited
from tests.connectors.conftest import _clean_outbound_state  # noqa: F401 - autouse fixture
from tests.connectors.fakes.spotify import FakeSpotify

POLICY = OutboundPolicy(
    attempts=3, backoff_base=0.01, backoff_max=0.02, breaker_threshold=3, breaker_timeout=0.3
)


@pytest.fixture
def fake():
    with FakeSpotify() as server:
        yield server


def _call(fake, path="/v1/me", token=None, sleep=time.sleep, policy=POLICY):
    token = token or fake.issue_tokens()[0]
    return outbound_call(
        provider="unit",
        connection_key="1",
        method="GET",
        url=fake.url + path,
        headers={"Authorization": f"Bearer {token}"},
        policy=policy,
        sleep=sleep,
    )


def test_a_bucket_gives_its_burst_then_tokens_at_its_rate():
    bucket = [Bucket("datapunk:rate:test-a", rate=10.0, capacity=3.0)]
    for _ in range(3):
        ratelimit.take(bucket, max_wait=0)
    with pytest.raises(RateLimited) as waited:
        ratelimit.take(bucket, max_wait=0)
    assert 0.05 < waited.value.wait <= 0.1
    started = time.monotonic()
    ratelimit.take(bucket, max_wait=1)
    assert time.monotonic() - started >= 0.05


def test_a_call_takes_from_every_bucket_or_from_none():
    wide = Bucket("datapunk:rate:test-wide", rate=1.0, capacity=5.0)
    narrow = Bucket("datapunk:rate:test-narrow", rate=0.1, capacity=1.0)
    ratelimit.take([wide, narrow], max_wait=0)
    with pytest.raises(RateLimited):
        ratelimit.take([wide, narrow], max_wait=0)
    for _ in range(4):  # the refused call took nothing from the wide bucket
        ratelimit.take([wide], max_wait=0)


def test_a_pause_empties_the_bucket_for_that_long():
    bucket = [Bucket("datapunk:rate:test-pause", rate=100.0, capacity=100.0)]
    ratelimit.pause(bucket, 0.5)
    with pytest.raises(RateLimited) as waited:
        ratelimit.take(bucket, max_wait=0)
    assert 0.4 < waited.value.wait <= 0.52


def test_the_breaker_opens_half_opens_for_one_probe_and_closes():
    breaker = CircuitBreaker("test-breaker", threshold=2, timeout=0.3)
    breaker.allow()
    breaker.failure()
    breaker.allow()  # one failure is not enough
    breaker.failure()
    with pytest.raises(CircuitOpen):
        breaker.allow()
    time.sleep(0.35)
    breaker.allow()  # the probe
    with pytest.raises(CircuitOpen):
        breaker.allow()  # only one at a time
    breaker.success()
    assert breaker.state() == "closed"
    breaker.allow()


def test_a_success_resets_the_count_of_failures():
    breaker = CircuitBreaker("test-reset", threshold=2, timeout=5)
    breaker.failure()
    breaker.success()
    breaker.failure()
    breaker.allow()  # one failure since the success: still below the threshold
    assert breaker.state() == "closed"


def test_retry_after_is_read_as_seconds_or_as_a_date():
    assert retry_after_seconds("7") == 7
    assert retry_after_seconds("1.5") == 1.5
    later = format_datetime(datetime.now(UTC) + timedelta(seconds=30), usegmt=True)
    assert 28 <= retry_after_seconds(later) <= 30
    assert retry_after_seconds("soon") is None and retry_after_seconds(None) is None


def test_backoff_doubles_with_jitter_within_its_ceiling():
    policy = OutboundPolicy(backoff_base=1.0, backoff_max=8.0)
    for attempt, ceiling in [(1, 1), (2, 2), (3, 4), (4, 8), (6, 8)]:
        delays = [backoff_seconds(attempt, policy) for _ in range(50)]
        assert all(ceiling / 2 <= d <= ceiling for d in delays)
        assert len(set(delays)) > 1


def test_5xx_is_retried_honouring_retry_after_then_succeeds(fake):
    fake.fail_next(2, 503, {"Retry-After": "0.2"})
    slept: list[float] = []

    response = _call(fake, sleep=lambda s: (slept.append(s), time.sleep(s)))

    assert response.status_code == 200
    assert [r.status for r in fake.data_calls()] == [503, 503, 200]
    assert slept == [0.2, 0.2]


def test_a_client_error_is_not_retried(fake):
    # Since February 2026 Spotify answers the old tracks route of a playlist with
    # 403 (the fake follows): a client error, tried once.
    with pytest.raises(ClientError) as error:
        _call(fake, path="/v1/playlists/nope/tracks")
    assert error.value.status == 403 and len(fake.data_calls()) == 1
    with pytest.raises(Unauthorized):
        _call(fake, token="not-a-token")


def test_after_the_last_attempt_it_gives_up_and_the_breaker_counts(fake):
    fake.fail_next(3, 500)
    with pytest.raises(GaveUp) as gave_up:
        _call(fake)
    assert gave_up.value.attempts == 3 and "500" in str(gave_up.value)
    with pytest.raises(CircuitOpen):
        _call(fake)
    assert len(fake.data_calls()) == 3


def test_an_unreachable_provider_gives_up_with_a_message():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(GaveUp, match="unreachable"):
        outbound_call(
            provider="unit-down",
            connection_key=None,
            method="GET",
            url=f"http://127.0.0.1:{port}/",
            policy=POLICY,
        )


def test_a_long_retry_after_gives_up_instead_of_blocking_a_worker(fake):
    fake.fail_next(1, 429, {"Retry-After": "3600"})
    with pytest.raises(GaveUp, match="asked to wait 3600 s"):
        _call(fake)
