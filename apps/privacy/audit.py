"""The one way to write the audit log, and the names of what it records.

Action names (``AuditEntry.action``); other apps add theirs here:

==================== ==================================================================
``login``            a user signed in (any way: form, allauth); ip of the request
``login.failed``     a sign-in was refused; ``detail.username`` as typed, ``user_id``
                     when that name is an account
``logout``           a user signed out
``api.token``        an API token authenticated a request; at most once per token per
                     hour (``TOKEN_USE_INTERVAL``); ``detail.token`` is a digest, never
                     the key
``admin.add`` /      a staff user changed something in the admin; ``actor_id`` is the
``admin.change`` /   staff user, ``user_id`` the owner of the object (its ``user_id``, or
``admin.delete``     the account itself), ``target`` ``app.model:pk``
``admin.access.opened`` a staff user opened an access to ``user_id``'s rows in the admin
                     (None: every user's, a superuser's); ``detail.reason`` as they gave it
                     (apps/privacy/admin_access.py)
``admin.access.request`` one admin request under that access; ``target`` its path
``admin.access.closed`` the access ended (``detail.why``: ended, expired, replaced)
``export.requested`` / ``export.finished`` / ``export.failed`` / ``export.downloaded``
                     the user's export (apps/privacy/exports.py)
``delete.requested`` / ``delete.finished``
                     delete-my-data; the finished entry counts the rows removed per table
``connector.consent`` / ``connector.revoke``
                     a connector was granted or lost access (``audit_connector_consent``;
                     connectors call it)
``reveal``           a masked field was shown to its owner (the PII work)
==================== ==================================================================
"""

from __future__ import annotations

import hashlib
import logging
from typing import Any

from django.core.cache import cache
from django.http import HttpRequest

from apps.core.db.context import system_context
from apps.privacy.models import AuditEntry

logger = logging.getLogger(__name__)

# One "api.token" entry per token per hour is enough to know a token is in use,
# without an entry per request.
TOKEN_USE_INTERVAL = 3600


def audit_record(
    *,
    action: str,
    user_id: int | None,
    actor_id: int | None = None,
    target: str = "",
    detail: dict[str, Any] | None = None,
    ip: str | None = None,
) -> AuditEntry:
    """Append one entry. Not idempotent on purpose: every call is one event.

    Written in the system context: the entry may be about someone other than
    the connection's user (a failed login, an admin's action), and reading
    back its id (RETURNING) is subject to the read policy.
    """
    with system_context():
        return AuditEntry.objects.create(
            action=action,
            user_id=user_id,
            actor_id=actor_id,
            target=target,
            detail=detail or {},
            ip=ip,
        )


def request_ip(request: HttpRequest | None) -> str | None:
    """The peer address of ``request``. Forwarded-for headers are not trusted:
    anyone can send them; a proxy in front should set REMOTE_ADDR."""
    if request is None:
        return None
    return request.META.get("REMOTE_ADDR") or None


def audit_token_use(*, token_key: str, user_id: int, request: HttpRequest | None) -> bool:
    """Record that an API token was used, at most once per TOKEN_USE_INTERVAL per
    token (claimed in the cache, so concurrent requests record it once).
    Returns whether an entry was written."""
    digest = hashlib.sha256(token_key.encode()).hexdigest()[:16]
    try:
        first = cache.add(f"privacy:token-used:{digest}", 1, TOKEN_USE_INTERVAL)
    except Exception:  # the cache (Redis) is down: record it rather than fail the request
        logger.warning("token use audit: cache unavailable", exc_info=True)
        first = True
    if not first:
        return False
    audit_record(
        action="api.token",
        user_id=user_id,
        actor_id=user_id,
        target=request.path if request is not None else "",
        detail={"token": digest},
        ip=request_ip(request),
    )
    return True


def audit_connector_consent(
    *,
    user_id: int,
    provider: str,
    granted: bool,
    scopes: list[str] | None = None,
    request: HttpRequest | None = None,
) -> AuditEntry:
    """What a connector calls when the user grants (``granted=True``) or withdraws
    a provider's access, including revocation by delete-my-data."""
    return audit_record(
        action="connector.consent" if granted else "connector.revoke",
        user_id=user_id,
        actor_id=user_id,
        target=f"connector:{provider}",
        detail={"scopes": list(scopes or [])},
        ip=request_ip(request),
    )
