"""Signature schemes of inbound requests, as pure functions (no database).

Ingest (ours): ``X-Datapunk-Signature: sha256=HEX`` where HEX is
HMAC-SHA256(secret, timestamp + "." + body) and ``X-Datapunk-Timestamp`` is
Unix seconds. Twitch EventSub: ``sha256=`` HMAC-SHA256(secret, message id +
timestamp + body). Both refuse times outside a window, so a captured request
cannot be replayed later; replays inside the window are refused by
InboundDelivery.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime, timedelta

# Twitch's documented limit; we use the same for our own signed requests.
REPLAY_WINDOW = timedelta(minutes=10)


class SignatureRejected(Exception):
    """A signed request that must not be processed; ``status`` is the HTTP answer."""

    def __init__(self, message: str, status: int = 403):
        super().__init__(message)
        self.message = message
        self.status = status


def _hex_hmac(secret: str, *parts: bytes) -> str:
    digest = hmac.new(secret.encode(), digestmod=hashlib.sha256)
    for part in parts:
        digest.update(part)
    return digest.hexdigest()


def signature_digest(header: str) -> str | None:
    """The hex digest of a ``sha256=HEX`` header, normalised once (surrounding
    white space dropped), or None for another form. Both the check and the
    replay guard use this value, so a padded copy of a request is the same
    request, not a new one."""
    scheme, separator, digest = header.strip().partition("=")
    if scheme != "sha256" or not separator:
        return None
    return digest.strip()


def _matches(expected_hex: str, header: str) -> bool:
    digest = signature_digest(header)
    if digest is None:
        return False
    return hmac.compare_digest(expected_hex.encode(), digest.encode())


def _check_window(moment: datetime, now: datetime) -> None:
    if abs(now - moment) > REPLAY_WINDOW:
        raise SignatureRejected(
            "The request's timestamp is more than 10 minutes away from now; "
            "it is stale or replayed (check the sender's clock)."
        )


def ingest_signature(*, secret: str, timestamp: str, body: bytes) -> str:
    """The header value a client sends: ``sha256=`` + hex HMAC over timestamp.body."""
    return "sha256=" + _hex_hmac(secret, timestamp.encode(), b".", body)


def ingest_verify(
    *, secret: str, timestamp: str, body: bytes, signature: str, now: datetime
) -> None:
    """Raise SignatureRejected unless ``signature`` signs ``timestamp``.``body`` recently."""
    try:
        moment = datetime.fromtimestamp(int(timestamp), tz=UTC)
    except (ValueError, OverflowError, OSError):
        raise SignatureRejected(
            "X-Datapunk-Timestamp must be Unix seconds (a whole number).", status=401
        ) from None
    if not _matches(_hex_hmac(secret, timestamp.encode(), b".", body), signature):
        raise SignatureRejected("The signature does not match the body and timestamp.")
    _check_window(moment, now)


def twitch_verify(
    *, secret: str, message_id: str, timestamp: str, body: bytes, signature: str, now: datetime
) -> datetime:
    """Check a Twitch EventSub delivery; return its timestamp (UTC)."""
    expected = _hex_hmac(secret, message_id.encode(), timestamp.encode(), body)
    if not _matches(expected, signature):
        raise SignatureRejected("The Twitch-Eventsub-Message-Signature does not match.")
    try:
        moment = datetime.fromisoformat(timestamp)
    except ValueError:
        raise SignatureRejected("Twitch-Eventsub-Message-Timestamp is not a time.") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    _check_window(moment, now)
    return moment.astimezone(UTC)
