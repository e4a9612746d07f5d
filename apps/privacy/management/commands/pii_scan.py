"""manage.py pii_scan --user NAME [--rescan]: scan a user's events for PII now."""

from __future__ import annotations

import time

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from apps.core.db.context import user_context
from apps.privacy.services import pii_scan_backfill


class Command(BaseCommand):
    help = "Scan a user's stored events for PII (resumes where the last scan stopped)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--user", required=True, help="username")
        parser.add_argument("--rescan", action="store_true", help="start over from the first event")

    def handle(self, *args, user: str, rescan: bool, **options) -> None:
        owner = get_user_model().objects.filter(username=user).first()
        if owner is None:
            raise CommandError(f"No user named {user!r}.")
        started = time.monotonic()
        with user_context(owner.pk):
            result = pii_scan_backfill(user_id=owner.pk, rescan=rescan)
        elapsed = time.monotonic() - started
        self.stdout.write(
            f"Scanned {result.events} events of {user} in {elapsed:.1f} s: "
            f"{result.findings} findings."
        )
