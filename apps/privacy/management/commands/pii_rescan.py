"""manage.py pii_rescan [--user NAME]: redo the PII scan of users whose findings are
of an older scanner version, removing what the current version does not confirm."""

from __future__ import annotations

import time

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from apps.core.db.context import user_context
from apps.privacy.services import pii_rescan_outdated, scanner_version


class Command(BaseCommand):
    help = "Rescan users whose PII findings are of an older scanner version (resumable)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--user", help="username (default: every user)")

    def handle(self, *args, user: str | None, **options) -> None:
        users = get_user_model().objects.order_by("pk")
        if user is not None:
            users = users.filter(username=user)
            if not users.exists():
                raise CommandError(f"No user named {user!r}.")
        self.stdout.write(f"Scanner version {scanner_version()}.")
        for owner in users:
            name = owner.get_username()
            started = time.monotonic()

            def progress(events: int, name: str = name) -> None:
                self.stdout.write(f"  {name}: {events} events rescanned")

            with user_context(owner.pk):
                result = pii_rescan_outdated(user_id=owner.pk, progress=progress)
            if result is None:
                self.stdout.write(f"{name}: up to date.")
                continue
            self.stdout.write(
                f"{name}: rescanned {result.events} events in {time.monotonic() - started:.1f} s; "
                f"findings {result.findings_before} -> {result.findings_after}."
            )
        self.stdout.write("Done.")
