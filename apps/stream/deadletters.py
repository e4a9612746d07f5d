"""Dead letters: outbound work that failed after its last retry, and its replay.

An app registers a replay handler per operation name (connectors register
"connector.sync" in their AppConfig.ready); replaying a dead letter runs that
handler as the letter's user.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from django.db import transaction
from django.utils import timezone

from apps.core.db.context import user_context
from apps.stream.models import DeadLetter

logger = logging.getLogger(__name__)

ReplayHandler = Callable[[DeadLetter], None]
_HANDLERS: dict[str, ReplayHandler] = {}


class ReplayError(Exception):
    """A dead letter cannot be replayed; the message says why."""


def replay_handler_register(operation: str, handler: ReplayHandler) -> None:
    _HANDLERS[operation] = handler


def dead_letter_record(
    *,
    user_id: int,
    provider: str,
    operation: str,
    error: str,
    attempts: int,
    connection_id: int | None = None,
    payload: dict[str, Any] | None = None,
) -> DeadLetter:
    """Keep one failed work item. Not idempotent: each failure is one letter."""
    return DeadLetter.objects.create(
        user_id=user_id,
        provider=provider,
        connection_id=connection_id,
        operation=operation,
        payload=payload or {},
        error=error,
        attempts=attempts,
    )


def dead_letter_replay(*, dead_letter_id: int) -> bool:
    """Run a dead letter's work again as its user; True if it succeeded.

    Claims the letter first (replayed_at set only if still unset), so two
    admins clicking at once replay it once. A failed replay releases the claim,
    counts the attempt and keeps the new error on the letter.
    """
    letter = DeadLetter.objects.filter(pk=dead_letter_id).first()
    if letter is None:
        raise ReplayError(f"dead letter {dead_letter_id} does not exist")
    handler = _HANDLERS.get(letter.operation)
    if handler is None:
        raise ReplayError(f"nothing knows how to replay {letter.operation!r}")
    claimed = DeadLetter.objects.filter(pk=letter.pk, replayed_at__isnull=True).update(
        replayed_at=timezone.now()
    )
    if not claimed:
        raise ReplayError(f"dead letter {letter.pk} was already replayed")
    try:
        with user_context(letter.user_id):
            handler(letter)
    except Exception as exc:
        logger.info("replay of dead letter %s failed: %s", letter.pk, exc)
        with transaction.atomic():
            DeadLetter.objects.filter(pk=letter.pk).update(
                replayed_at=None, attempts=letter.attempts + 1, replay_error=str(exc)[:2000]
            )
        return False
    DeadLetter.objects.filter(pk=letter.pk).update(replay_error="")
    return True
