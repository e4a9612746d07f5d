"""Secrets kept at rest (webhook secrets, ingest HMAC secrets): Fernet with FIELD_ENCRYPTION_KEY.

A database dump holds only the sealed form; whoever lacks the key from the
environment cannot use it. Secrets are sealed here and opened only where a
signature is checked.
"""

from __future__ import annotations

from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings


class SealBroken(Exception):
    """A sealed value cannot be opened: another key, or the value was altered."""


@lru_cache(maxsize=4)
def _fernet(key: str) -> Fernet:
    return Fernet(key.encode())


def seal(secret: str) -> str:
    return _fernet(settings.FIELD_ENCRYPTION_KEY).encrypt(secret.encode()).decode()


def unseal(sealed: str) -> str:
    try:
        return _fernet(settings.FIELD_ENCRYPTION_KEY).decrypt(sealed.encode()).decode()
    except InvalidToken:
        raise SealBroken("a stored secret cannot be opened with FIELD_ENCRYPTION_KEY") from None
