"""Secrets at rest, sealed with Fernet (AES-128-CBC + HMAC-SHA256): OAuth tokens
(apps.connectors), webhook and ingest HMAC secrets (apps.stream).

The key is settings.FIELD_ENCRYPTION_KEY (from the environment), never stored
with the data: a dump of the database alone reveals no secret. Secrets are
opened only where they are used (a provider call, a signature check).
"""

from __future__ import annotations

from functools import cache

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings


class SealBroken(Exception):
    """A sealed value cannot be opened: the key changed or the value was altered."""


@cache
def _fernet(key: str) -> Fernet:
    return Fernet(key.encode())


def seal(value: str) -> str:
    """Encrypt ``value``; the empty string stays empty (no token is no secret)."""
    if not value:
        return ""
    return _fernet(settings.FIELD_ENCRYPTION_KEY).encrypt(value.encode()).decode()


def unseal(sealed: str) -> str:
    if not sealed:
        return ""
    try:
        return _fernet(settings.FIELD_ENCRYPTION_KEY).decrypt(sealed.encode()).decode()
    except InvalidToken:
        raise SealBroken(
            "a stored secret cannot be opened with the current FIELD_ENCRYPTION_KEY"
        ) from None
