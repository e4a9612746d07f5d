"""Writes of the connectors: connect, sync, refresh, disconnect.

Tasks and views call these; they run as the connection's user (the caller
enters user_context) except where a docstring says otherwise.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from apps.connectors.base import (
    ApiSession,
    ConnectorError,
    NotConfigured,
    TokenRevoked,
    TokenSet,
    provider_app,
)
from apps.connectors.models import Connection
from apps.connectors.registry import connector_for
from apps.core import advisory_locks
from apps.core.feed import publish
from apps.core.queueing import queue_after_commit
from apps.core.sealing import SealBroken
from apps.lake.pipeline import records_store
from apps.privacy.audit import audit_record
from apps.stream.deadletters import dead_letter_record
from apps.stream.outbound import TRANSIENT_ERRORS, OutboundError

logger = logging.getLogger(__name__)

# A token this close to its expiry is refreshed before a sync uses it: a
# page fetched with it may take a while.
REFRESH_MARGIN = timedelta(minutes=2)
# The beat task refreshes every 30 minutes what expires within 35: a token
# never lapses between two runs, with 5 minutes to spare for a slow queue.
REFRESH_AHEAD = timedelta(minutes=35)
SYNC_OPERATION = "connector.sync"


class SyncBusy(ConnectorError):
    """Another worker is syncing this connection right now."""


class ConnectionUnavailable(ConnectorError):
    """The connection is not active (needs re-consent or disconnected)."""


@dataclass(slots=True)
class SyncResult:
    pages: int = 0
    written: int = 0
    duplicate: int = 0
    quarantined: int = 0
    notes: list[str] = field(default_factory=list)  # what was skipped, and why


def _status_publish(conn: Connection, message: str = "") -> None:
    publish(
        conn.user_id,
        {
            "type": "connector.status",
            "data": {
                "connection_id": conn.pk,
                "provider": conn.provider,
                "status": conn.status,
                "message": message,
                "last_sync_at": conn.last_sync_at.isoformat() if conn.last_sync_at else None,
            },
        },
    )


def connection_connect(
    *,
    user_id: int,
    provider: str,
    external_id: str,
    tokens: TokenSet,
    display_name: str = "",
    ip: str | None = None,
) -> Connection:
    """Record a consent: create or reactivate the user's connection with new tokens.

    Idempotent per (user, provider, account): connecting again keeps the cursor,
    so nothing already imported is fetched again. Audited as connector.consent.
    """
    connector = connector_for(provider)
    scopes = tokens.scopes if tokens.scopes is not None else list(connector.scopes)
    with transaction.atomic():
        conn, created = Connection.objects.select_for_update().get_or_create(
            user_id=user_id, provider=provider, external_id=external_id
        )
        conn.display_name = display_name[:200]
        conn.scopes = scopes
        conn.status = Connection.Status.ACTIVE
        conn.access_token = tokens.access_token
        if tokens.refresh_token:
            conn.refresh_token = tokens.refresh_token
        conn.token_expires_at = tokens.expires_at
        conn.last_error = ""
        conn.save()
        audit_record(
            action="connector.consent",
            user_id=user_id,
            actor_id=user_id,
            target=f"connection:{conn.pk}",
            detail={"provider": provider, "scopes": scopes, "new": created},
            ip=ip,
        )
    transaction.on_commit(lambda: _status_publish(conn, f"{connector.label} connected"))
    if connector.push_topics:
        from apps.connectors.tasks import ensure_push_subscriptions  # tasks import this module

        queue_after_commit(ensure_push_subscriptions, user_id, conn.pk)
    return conn


def _needs_reconsent(conn: Connection, reason: str) -> None:
    Connection.objects.filter(pk=conn.pk).update(
        status=Connection.Status.NEEDS_RECONSENT,
        access_token_sealed="",
        refresh_token_sealed="",
        last_error=reason,
    )
    conn.refresh_from_db()
    audit_record(
        action="connector.needs_reconsent",
        user_id=conn.user_id,
        target=f"connection:{conn.pk}",
        detail={"provider": conn.provider, "reason": reason},
    )
    transaction.on_commit(lambda: _status_publish(conn, reason))


def connection_token_refresh(
    *, connection_id: int, force: bool = False, ahead: timedelta = REFRESH_MARGIN
) -> bool:
    """Refresh the access token if it expires within ``ahead`` (or always with ``force``).

    Locks the connection row while it talks to the token endpoint, so two
    workers never spend one refresh token twice (several providers rotate it).
    Returns True if it refreshed. A revoked grant marks the connection
    needs_reconsent (and raises TokenRevoked); other failures raise.
    """
    revoked = ""
    with transaction.atomic():
        conn = Connection.objects.select_for_update().filter(pk=connection_id).first()
        if conn is None or conn.status != Connection.Status.ACTIVE:
            return False
        soon = timezone.now() + ahead
        if not force and (conn.token_expires_at is None or conn.token_expires_at > soon):
            return False
        connector = connector_for(conn.provider)
        try:
            refresh_token = conn.refresh_token
            if not refresh_token:
                raise TokenRevoked(f"{connector.label} gave no refresh token: connect it again")
            tokens = connector.refresh(
                refresh_token=refresh_token, app=provider_app(conn.provider), connection_id=conn.pk
            )
        except (TokenRevoked, SealBroken) as exc:
            # Marked inside the block (committed with it); raised after it.
            revoked = str(exc)
            _needs_reconsent(conn, revoked)
        else:
            conn.access_token = tokens.access_token
            if tokens.refresh_token:
                conn.refresh_token = tokens.refresh_token
            if tokens.scopes is not None:
                conn.scopes = tokens.scopes
            conn.token_expires_at = tokens.expires_at
            conn.save(
                update_fields=[
                    "access_token_sealed",
                    "refresh_token_sealed",
                    "scopes",
                    "token_expires_at",
                    "updated_at",
                ]
            )
    if revoked:
        raise TokenRevoked(revoked)
    return True


def connection_api(conn: Connection) -> ApiSession:
    """Calls as ``conn``'s user: the token refreshed first if it is about to
    expire, and again (once) when the provider answers 401."""
    connection_token_refresh(connection_id=conn.pk)
    conn.refresh_from_db()

    def refresh_now() -> str:
        connection_token_refresh(connection_id=conn.pk, force=True)
        conn.refresh_from_db()
        return conn.access_token

    return ApiSession(
        connector_for(conn.provider),
        connection_id=conn.pk,
        access_token=conn.access_token,
        app=provider_app(conn.provider),
        refresh=refresh_now,
        external_id=conn.external_id,
    )


def connection_sync(*, connection_id: int) -> SyncResult:
    """Fetch what is new since the stored cursor and store it, page by page.

    Idempotent: each page's records and the cursor after it commit together,
    and the lake dedupes by content hash, so a second sync adds nothing and a
    crashed one resumes after its last stored page. Holds a session advisory
    lock on the connection (SyncBusy if another worker has it). Transient
    provider errors and revocations are raised after being noted on the row.
    """
    conn = Connection.objects.filter(pk=connection_id).first()
    if conn is None:
        raise ConnectionUnavailable(f"connection {connection_id} does not exist")
    if conn.status != Connection.Status.ACTIVE:
        raise ConnectionUnavailable(
            f"{conn.provider} connection is {conn.get_status_display()}: connect it again first"
        )
    connector = connector_for(conn.provider)
    with advisory_locks.session_lock(advisory_locks.connection_sync_key(conn.pk)) as locked:
        if not locked:
            raise SyncBusy(f"{connector.label} is already syncing")
        return _sync_locked(conn, connector)


def _sync_locked(conn: Connection, connector: Any) -> SyncResult:
    result = SyncResult()
    notes: list[str] = []
    try:
        api = connection_api(conn)
        for page in connector.pages(api, dict(conn.cursor)):
            with transaction.atomic():
                stored = records_store(
                    user_id=conn.user_id, source=connector.source, records=page.records
                )
                Connection.objects.filter(pk=conn.pk).update(cursor=page.cursor)
            result.pages += 1
            result.written += stored.written
            result.duplicate += stored.duplicate
            result.quarantined += stored.quarantined
            notes += page.notes
            result.notes += page.notes
    except TokenRevoked as exc:
        conn.refresh_from_db()
        if conn.status == Connection.Status.ACTIVE:
            _needs_reconsent(conn, str(exc))
        raise
    except SealBroken as exc:
        _needs_reconsent(conn, str(exc))
        raise TokenRevoked(str(exc)) from None
    except (OutboundError, *TRANSIENT_ERRORS, NotConfigured) as exc:
        message = str(exc)
        Connection.objects.filter(pk=conn.pk).update(last_error=message[:2000])
        conn.refresh_from_db()
        transaction.on_commit(lambda: _status_publish(conn, message))
        raise
    now = timezone.now()
    Connection.objects.filter(pk=conn.pk).update(
        last_sync_at=now, last_error="", sync_notes=notes[:50]
    )
    conn.refresh_from_db()
    _status_publish(
        conn,
        f"{connector.label}: {result.written} new, {result.duplicate} already there"
        + (f"; {len(notes)} skipped" if notes else ""),
    )
    return result


def connection_sync_or_dead_letter(*, connection_id: int) -> SyncResult | None:
    """A sync as a task runs it: failures that retrying later may fix become a dead letter.

    Returns None when the work was dead-lettered or could not start.
    """
    try:
        return connection_sync(connection_id=connection_id)
    except (SyncBusy, ConnectionUnavailable, TokenRevoked) as exc:
        # Nothing to replay: busy means another sync does the work; the others
        # wait for the user (shown on the connections page).
        logger.info("sync of connection %s not run: %s", connection_id, exc)
        return None
    except (OutboundError, *TRANSIENT_ERRORS, NotConfigured) as exc:
        conn = Connection.objects.get(pk=connection_id)
        dead_letter_record(
            user_id=conn.user_id,
            provider=conn.provider,
            connection_id=conn.pk,
            operation=SYNC_OPERATION,
            payload={"connection_id": conn.pk, "cursor": conn.cursor},
            error=str(exc)[:2000],
            attempts=getattr(exc, "attempts", 1),
        )
        return None


def connection_disconnect(*, connection_id: int, actor_id: int | None = None) -> Connection:
    """End the push subscriptions and revoke the grant at the provider (best
    effort), forget the tokens, keep the cursor.

    Idempotent. The allauth social account goes too, so connecting again asks
    the provider for consent afresh; the cursor stays, so that reconnecting
    does not import again what was imported.
    """
    from allauth.socialaccount.models import SocialAccount

    from apps.connectors.push import connection_push_remove  # push builds on this module

    conn = Connection.objects.get(pk=connection_id)
    connector = connector_for(conn.provider)
    # Before the tokens go: Graph deletes a subscription only for its user.
    note = connection_push_remove(connection_id=conn.pk)
    try:
        access, refresh = conn.access_token, conn.refresh_token
    except SealBroken:
        access = refresh = ""
    if access or refresh:
        try:
            connector.revoke(
                access_token=access,
                refresh_token=refresh,
                app=provider_app(conn.provider),
                connection_id=conn.pk,
            )
        except (OutboundError, *TRANSIENT_ERRORS, NotConfigured) as exc:
            # The tokens are deleted here whatever the provider says; the user
            # can still remove the app in the provider's own settings.
            note = " ".join(
                filter(
                    None, [note, f"{connector.label} could not be told to revoke the access: {exc}"]
                )
            )
    with transaction.atomic():
        Connection.objects.filter(pk=conn.pk).update(
            status=Connection.Status.REVOKED,
            access_token_sealed="",
            refresh_token_sealed="",
            token_expires_at=None,
            last_error=note,
        )
        SocialAccount.objects.filter(
            user_id=conn.user_id, provider=conn.provider, uid=conn.external_id
        ).delete()
        audit_record(
            action="connector.disconnect",
            user_id=conn.user_id,
            actor_id=actor_id,
            target=f"connection:{conn.pk}",
            detail={"provider": conn.provider, "revoked_at_provider": not note},
        )
    conn.refresh_from_db()
    transaction.on_commit(lambda: _status_publish(conn, note or f"{connector.label} disconnected"))
    return conn


def connections_expiring(*, within: timedelta = REFRESH_AHEAD) -> list[tuple[int, int]]:
    """(user_id, connection_id) of active connections whose token expires within ``within``.

    Spans users: the caller runs it inside system_context().
    """
    limit = datetime.now(UTC) + within
    return list(
        Connection.objects.filter(
            status=Connection.Status.ACTIVE, token_expires_at__lte=limit
        ).values_list("user_id", "pk")
    )


def connections_active() -> list[tuple[int, int]]:
    """(user_id, connection_id) of every active connection (caller: system_context())."""
    return list(
        Connection.objects.filter(status=Connection.Status.ACTIVE).values_list("user_id", "pk")
    )


def replay_sync(letter: Any) -> None:
    """Dead-letter replay handler for connector.sync: the sync again, from its cursor."""
    connection_sync(connection_id=int(letter.payload["connection_id"]))
