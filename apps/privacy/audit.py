"""The one way to write the audit log."""

from __future__ import annotations

from typing import Any

from apps.privacy.context import system_context
from apps.privacy.models import AuditEntry


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
