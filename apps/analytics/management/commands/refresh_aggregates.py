from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from apps.analytics.aggregates import aggregates_refresh
from apps.core.db.context import system_context, user_context


class Command(BaseCommand):
    help = "Recompute the daily series (events, media minutes, distance) for one user or all."

    def add_arguments(self, parser):
        parser.add_argument("--user", help="username (default: every user)")

    def handle(self, *args, user: str | None = None, **options):
        if user is None:
            with system_context():
                aggregates_refresh()
            self.stdout.write("refreshed the daily series for every user")
            return
        with system_context():
            found = get_user_model().objects.filter(username=user).first()
        if found is None:
            raise CommandError(f"no user named {user!r}")
        with user_context(found.pk):
            aggregates_refresh(user_id=found.pk)
        self.stdout.write(f"refreshed the daily series of {user}")
