"""Delete my data: every row of the user in every app, their files, their
connector tokens; an audit entry stays.

The tables are found in the catalog (every table with a ``user_id`` column,
as for row-level security), so a table another app adds is emptied of the
user's rows without touching this module; its rows must carry ``user_id``
(the house rule): a row that points at the user's data without it is not
found (and a foreign key to a removed row stops the deletion, rolled back whole). Deleting by ``user_id`` works on
TimescaleDB hypertables too (the rows go from every chunk, compressed or not).

Connectors plug in through the ``user_data_deleting`` signal: a receiver
revokes the user's tokens at the provider (and records
``audit_connector_consent(granted=False)``); the token rows themselves go with
the rest. The user's allauth social accounts (and so their tokens) are removed
here as well. Other apps that keep files remove them in a receiver too.
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.dispatch import Signal

from apps.core import advisory_locks
from apps.privacy.audit import audit_record
from apps.privacy.rls import APPEND_ONLY_TABLES, user_owned_tables

logger = logging.getLogger(__name__)


class DeletionBlocked(Exception):
    """Something is writing the user's rows right now; the message says what."""


@contextmanager
def _imports_held(user_id: int) -> Iterator[None]:
    """Hold the advisory lock of each of the user's imports for the block, so
    none runs (or starts: the import task takes the same lock first) while
    their rows go. Raises DeletionBlocked when one is running elsewhere."""
    from apps.lake.models import Import

    with ExitStack() as held:
        for import_id in Import.objects.filter(user_id=user_id).values_list("pk", flat=True):
            if not held.enter_context(
                advisory_locks.session_lock(advisory_locks.IMPORT_RUN, import_id)
            ):
                raise DeletionBlocked(
                    f"import {import_id} is running; delete your data when it has finished"
                )
        yield


def running_import(user_id: int) -> str | None:
    """Why a deletion cannot start now, or None."""
    try:
        with _imports_held(user_id):
            return None
    except DeletionBlocked as exc:
        return str(exc)


# Sent with ``user_id`` inside the user's context, before any row goes. Receivers
# revoke what lives outside the database (provider tokens, files). A receiver
# that fails is logged and named in the audit entry; the deletion goes on.
user_data_deleting = Signal()


def deletion_order(cursor, tables: list[str]) -> list[str]:
    """``tables`` with those that point at others first, so no foreign key ever
    dangles, even one that is not deferred (Django's are; one made with raw SQL
    may not be). Cycles are left to deferred constraints."""
    cursor.execute(
        """
        SELECT conrelid::regclass::text, confrelid::regclass::text FROM pg_constraint
        WHERE contype = 'f' AND conrelid <> confrelid
        """
    )
    wanted = set(tables)
    pointed_at: dict[str, set[str]] = {table: set() for table in tables}
    for source, target in cursor.fetchall():
        if source in wanted and target in wanted:
            pointed_at[source].add(target)
    remaining = list(tables)
    ordered: list[str] = []
    while remaining:
        free = [t for t in remaining if not any(t in pointed_at[o] for o in remaining)]
        for table in free or remaining[:]:
            ordered.append(table)
            remaining.remove(table)
    return ordered


def user_files(user_id: int) -> list[Path]:
    """Folders holding the user's files: uploaded archive parts, export zips."""
    return [Path(settings.UPLOAD_DIR) / str(user_id), Path(settings.EXPORT_DIR) / str(user_id)]


def user_data_delete(
    *,
    user_id: int,
    actor_id: int | None = None,
    ip: str | None = None,
    delete_account: bool = False,
) -> dict[str, int]:
    """Remove every row ``user_id`` owns, in one transaction; returns rows removed per table.

    Call inside ``user_context(user_id)``: row-level security then guarantees
    that not one row of another user can go, whatever a table holds.
    Idempotent (a second run removes nothing). Locks the user's imports (their
    advisory locks) for the duration; raises DeletionBlocked, removing nothing,
    when one of them is running. The audit log keeps its
    entries, and gains ``delete.finished`` with the counts. With
    ``delete_account`` the account itself goes too (sign-in, tokens, e-mail).
    """
    failed_receivers = []
    for receiver, result in user_data_deleting.send_robust(sender=None, user_id=user_id):
        if isinstance(result, Exception):
            logger.error("user_data_deleting receiver %r failed: %s", receiver, result)
            failed_receivers.append(f"{getattr(receiver, '__qualname__', receiver)}: {result}")
    counts: dict[str, int] = {}
    with _imports_held(user_id), transaction.atomic(), connection.cursor() as cursor:
        # From the catalog, like the row-level security: a table made without a
        # model is emptied too. The audit log stays (append-only).
        tables = [t for t in user_owned_tables(cursor) if t not in APPEND_ONLY_TABLES]
        for table in deletion_order(cursor, tables):
            cursor.execute(
                f"DELETE FROM {connection.ops.quote_name(table)} WHERE user_id = %s", [user_id]
            )
            counts[table] = cursor.rowcount
        counts.update(_delete_social_accounts(user_id))
        if delete_account:
            removed, _ = get_user_model().objects.filter(pk=user_id).delete()
            counts["auth_user (and account rows)"] = removed
        folders = user_files(user_id)

        def remove_files() -> None:
            for folder in folders:
                shutil.rmtree(folder, ignore_errors=True)

        transaction.on_commit(remove_files)
    audit_record(
        action="delete.finished",
        user_id=user_id,
        actor_id=actor_id,
        target="account" if delete_account else "data",
        detail={
            "rows": {table: n for table, n in counts.items() if n},
            "failed_receivers": failed_receivers,
        },
        ip=ip,
    )
    return counts


def _delete_social_accounts(user_id: int) -> dict[str, int]:
    """Connector identities from allauth (their OAuth tokens cascade)."""
    from django.apps import apps

    if not apps.is_installed("allauth.socialaccount"):
        return {}
    from allauth.socialaccount.models import SocialAccount

    removed, per_model = SocialAccount.objects.filter(user_id=user_id).delete()
    return {f"allauth {label}": n for label, n in per_model.items()} if removed else {}
