"""How an ingest request proves whose it is: an API key, or an HMAC signature.

DRF tokens and the browser session (views list them too) also work; the two
here exist so a device can hold a credential that can only ingest.
"""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.utils import timezone
from rest_framework import exceptions
from rest_framework.authentication import (
    BaseAuthentication,
    SessionAuthentication,
    get_authorization_header,
)
from rest_framework.request import Request

from apps.core.db.context import system_context
from apps.core.sealing import SealBroken
from apps.stream.bodies import BodyTooLarge, read_capped_body
from apps.stream.models import IngestKey
from apps.stream.services import api_key_hash, remembered_ingest_keys
from apps.stream.signing import SignatureRejected, ingest_verify, signature_digest

# A batch of MAX_BATCH events with some text each fits well below this.
INGEST_MAX_BYTES = 1024 * 1024


class PayloadTooLarge(exceptions.APIException):
    status_code = 413
    default_detail = f"The request body is larger than {INGEST_MAX_BYTES} bytes."
    default_code = "payload_too_large"


def ingest_body(request: Request) -> bytes:
    try:
        return read_capped_body(request._request, INGEST_MAX_BYTES)
    except BodyTooLarge:
        raise PayloadTooLarge() from None


def _owner(key: IngestKey | None, message: str) -> tuple[AbstractBaseUser, IngestKey]:
    if key is None or not key.user.is_active:
        raise exceptions.AuthenticationFailed(message)
    return key.user, key


def _key_by(field: str, value: str) -> IngestKey | None:
    """The key whose ``field`` is ``value``: remembered once found (a script sending
    single events was four round trips per request here); the storing
    transaction refuses a key rotated or deleted since (events_ingest_group)."""
    key = remembered_ingest_keys.get((field, value))
    if key is None:
        # Keys are looked up across users: whose key it is, is what we learn here.
        with system_context():
            key = IngestKey.objects.select_related("user").filter(**{field: value}).first()
        if key is not None and key.user.is_active:
            remembered_ingest_keys.put((field, value), key)
    return key


def _note_key(request: Request, key: IngestKey) -> None:
    request._request.ingest_key_id = key.key_id  # type: ignore[attr-defined]


class IngestKeyAuthentication(BaseAuthentication):
    """``Authorization: Bearer dpk_...``: the API key shown when the key was made."""

    def authenticate(self, request: Request) -> tuple[AbstractBaseUser, IngestKey] | None:
        words = get_authorization_header(request).split()
        if not words or words[0].lower() != b"bearer":
            return None
        if len(words) != 2:
            raise exceptions.AuthenticationFailed("Authorization must be: Bearer <ingest API key>.")
        api_key = words[1].decode("latin-1")
        key = _key_by("key_hash", api_key_hash(api_key))
        request._request.ingest_connector = "ingest.api"  # type: ignore[attr-defined]
        user, key = _owner(key, "This ingest API key is not valid (it may have been rotated).")
        _note_key(request, key)
        return user, key

    def authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="datapunk-ingest"'


class IngestSignatureAuthentication(BaseAuthentication):
    """``X-Datapunk-Key`` (key id), ``X-Datapunk-Timestamp`` (Unix seconds) and
    ``X-Datapunk-Signature: sha256=HEX``, HEX = HMAC-SHA256(secret, timestamp + "." + body)."""

    def authenticate(self, request: Request) -> tuple[AbstractBaseUser, IngestKey] | None:
        key_id = request.META.get("HTTP_X_DATAPUNK_KEY")
        if key_id is None:
            return None
        timestamp = request.META.get("HTTP_X_DATAPUNK_TIMESTAMP", "")
        signature = request.META.get("HTTP_X_DATAPUNK_SIGNATURE", "")
        if not timestamp or not signature:
            raise exceptions.AuthenticationFailed(
                "A signed request needs X-Datapunk-Timestamp and X-Datapunk-Signature."
            )
        user, key = _owner(_key_by("key_id", key_id), "Unknown X-Datapunk-Key.")
        try:
            secret = key.secret
        except SealBroken:
            raise exceptions.AuthenticationFailed(
                "This key's secret cannot be read on this server; make a new key."
            ) from None
        try:
            ingest_verify(
                secret=secret,
                timestamp=timestamp,
                body=ingest_body(request),
                signature=signature,
                now=timezone.now(),
            )
        except SignatureRejected as exc:
            raise exceptions.AuthenticationFailed(exc.message) from None
        request._request.ingest_connector = "ingest.hmac"  # type: ignore[attr-defined]
        # The signature names this request: the same one again is a replay.
        request._request.ingest_replay_guard = signature_digest(signature)  # type: ignore[attr-defined]
        _note_key(request, key)
        return user, key

    def authenticate_header(self, request: Request) -> str:
        return 'Datapunk-HMAC realm="datapunk-ingest"'


class IngestSessionAuthentication(SessionAuthentication):
    """The browser's session (a page's fetch()), CSRF-checked on Django's request.

    DRF checks CSRF on its own request, whose POST parses the body with the view's
    parsers; this view has none (it reads its body itself), so a JSON POST from a page
    was answered 415. Django's request has an empty POST for JSON and reads the token
    from the X-CSRFToken header, as for any view.
    """

    def enforce_csrf(self, request: Request) -> None:
        # Typed for DRF's request; CSRFCheck is Django's middleware and takes Django's.
        super().enforce_csrf(request._request)  # type: ignore[arg-type]
