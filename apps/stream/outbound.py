"""Every call Datapunk makes to a provider's API goes through ``outbound_call``.

It takes a token from the provider's and the connection's rate-limit buckets,
asks the provider's circuit breaker, and retries what may succeed later
(connection errors, 5xx, 429) with exponential backoff and jitter, honouring
Retry-After. What cannot succeed by retrying (4xx) is raised at once. After
the last attempt it raises ``GaveUp``; the caller decides where the work goes
(connector syncs put it in the dead-letter table).
"""

from __future__ import annotations

import email.utils
import logging
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import requests
from django.conf import settings

from apps.stream import ratelimit
from apps.stream.breaker import CircuitBreaker, CircuitOpen
from apps.stream.ratelimit import Bucket, RateLimited

logger = logging.getLogger(__name__)

__all__ = [
    "CircuitOpen",
    "ClientError",
    "GaveUp",
    "OutboundError",
    "RateLimited",
    "Unauthorized",
    "outbound_call",
]


class OutboundError(Exception):
    """A call to a provider failed; the message is written for the user."""

    status: int | None = None


class ClientError(OutboundError):
    """The provider refused the request (4xx): retrying the same will not help."""

    def __init__(self, message: str, *, status: int, body: str) -> None:
        super().__init__(message)
        self.status = status
        self.body = body


class Unauthorized(ClientError):
    """401: the access token is expired or revoked."""


class GaveUp(OutboundError):
    """Every attempt failed with an error that might have passed."""

    def __init__(self, message: str, *, attempts: int, status: int | None = None) -> None:
        super().__init__(message)
        self.attempts = attempts
        self.status = status


# Errors a sync may meet that are about the moment, not the request: the work
# is worth keeping (dead letter) and replaying later.
TRANSIENT_ERRORS = (GaveUp, CircuitOpen, RateLimited)


@dataclass(frozen=True, slots=True)
class OutboundPolicy:
    attempts: int = 5
    backoff_base: float = 1.0  # seconds before the 2nd attempt; doubles each time
    backoff_max: float = 60.0
    retry_after_max: float = 120.0  # a longer Retry-After gives up instead of blocking a worker
    rate_wait_max: float = 120.0
    breaker_threshold: int = 5
    breaker_timeout: float = 60.0
    timeout: float = 20.0  # per HTTP request

    @classmethod
    def from_settings(cls) -> OutboundPolicy:
        return cls(**getattr(settings, "DATAPUNK_OUTBOUND", {}))


def buckets_for(provider: str, connection_key: str | None) -> list[Bucket]:
    limits: Mapping[str, Any] = getattr(settings, "DATAPUNK_RATE_LIMITS", {})
    own = limits.get(provider) or limits.get("default") or {}
    rate, capacity = own.get("provider", (10.0, 10.0))
    buckets = [Bucket(f"datapunk:rate:{provider}", float(rate), float(capacity))]
    if connection_key is not None:
        rate, capacity = own.get("connection", (rate, capacity))
        buckets.append(
            Bucket(f"datapunk:rate:{provider}:{connection_key}", float(rate), float(capacity))
        )
    return buckets


def breaker_for(provider: str, policy: OutboundPolicy) -> CircuitBreaker:
    return CircuitBreaker(provider, policy.breaker_threshold, policy.breaker_timeout)


def retry_after_seconds(value: str | None) -> float | None:
    """Retry-After as seconds: either a number of seconds or an HTTP date."""
    if not value:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return max((moment - datetime.now(UTC)).total_seconds(), 0.0)


def backoff_seconds(attempt: int, policy: OutboundPolicy) -> float:
    """Exponential backoff with "equal jitter": half fixed, half random.

    Jitter spreads the retries of many workers that failed together; the fixed
    half keeps a minimum pause so a struggling provider gets some rest.
    """
    ceiling = min(policy.backoff_max, policy.backoff_base * 2 ** (attempt - 1))
    return ceiling / 2 + random.uniform(0, ceiling / 2)


def _short(text: str, limit: int = 300) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def outbound_call(
    *,
    provider: str,
    connection_key: str | None,
    method: str,
    url: str,
    headers: Mapping[str, str] | None = None,
    params: Mapping[str, Any] | None = None,
    data: Mapping[str, Any] | None = None,
    json: Any = None,
    auth: tuple[str, str] | None = None,
    policy: OutboundPolicy | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> requests.Response:
    """One HTTP call to ``provider``, rate limited, guarded and retried.

    Not idempotent in itself: retry only calls that are (GET, token refresh).
    Raises ClientError/Unauthorized (4xx), CircuitOpen, RateLimited or GaveUp.
    """
    policy = policy or OutboundPolicy.from_settings()
    buckets = buckets_for(provider, connection_key)
    breaker = breaker_for(provider, policy)
    last_error = ""
    last_status: int | None = None
    for attempt in range(1, policy.attempts + 1):
        breaker.allow()
        ratelimit.take(buckets, max_wait=policy.rate_wait_max, sleep=sleep)
        wait: float | None = None
        try:
            response = requests.request(
                method,
                url,
                headers=dict(headers or {}),
                params=params,
                data=data,
                json=json,
                auth=auth,
                timeout=policy.timeout,
                allow_redirects=False,
            )
        except requests.RequestException as exc:
            breaker.failure()
            last_error, last_status = f"{provider} unreachable: {exc.__class__.__name__}", None
        else:
            status = response.status_code
            if status < 400:
                breaker.success()
                return response
            last_status = status
            last_error = f"{provider} answered {status}: {_short(response.text)}"
            wait = retry_after_seconds(response.headers.get("Retry-After"))
            if status == 429:
                # The provider's limit is per app: hold every worker back, not just this one.
                ratelimit.pause(
                    buckets, wait if wait is not None else backoff_seconds(attempt, policy)
                )
            elif status >= 500:
                breaker.failure()
            else:
                breaker.success()  # the provider is up; it refuses this request
                error_class = Unauthorized if status == 401 else ClientError
                raise error_class(last_error, status=status, body=response.text)
            if wait is not None and wait > policy.retry_after_max:
                raise GaveUp(
                    f"{last_error} (asked to wait {wait:.0f} s)", attempts=attempt, status=status
                )
        if attempt == policy.attempts:
            break
        delay = backoff_seconds(attempt, policy)
        if wait is not None:
            # Retry-After is the provider's own word: never earlier than it.
            delay = max(delay, wait) if last_status != 429 else wait
        logger.info(
            "%s: attempt %s failed (%s); retrying in %.2f s", provider, attempt, last_error, delay
        )
        if last_status != 429:
            sleep(delay)
        # After a 429 the bucket itself is paused: take() waits exactly as long.
    raise GaveUp(
        f"{last_error} (after {policy.attempts} attempts)",
        attempts=policy.attempts,
        status=last_status,
    )
