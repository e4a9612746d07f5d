"""The connectors' periodic tasks, written into django-celery-beat's tables.

Written after every migrate (idempotent), so a fresh install and an upgraded
one get the same schedule without a step to remember; editing a schedule in
the admin lasts until the next migrate.
"""

from __future__ import annotations

from typing import Any

# name -> (task, every N minutes)
SCHEDULES = {
    # Tokens expiring within 35 minutes are refreshed by this run.
    "connectors: refresh expiring tokens": ("apps.connectors.tasks.refresh_expiring_tokens", 30),
    "connectors: sync every connection": ("apps.connectors.tasks.sync_all_connections", 15),
    # Graph subscriptions live under 7 days and are renewed two days ahead.
    "connectors: keep webhook subscriptions": (
        "apps.connectors.tasks.webhook_subscriptions_maintain",
        60,
    ),
}


def schedules_install() -> None:
    """Create or update the periodic tasks above. Idempotent."""
    from django_celery_beat.models import IntervalSchedule, PeriodicTask

    for name, (task, minutes) in SCHEDULES.items():
        interval, _ = IntervalSchedule.objects.get_or_create(
            every=minutes, period=IntervalSchedule.MINUTES
        )
        PeriodicTask.objects.update_or_create(
            name=name, defaults={"task": task, "interval": interval, "enabled": True}
        )


def schedules_install_after_migrate(sender: Any, **kwargs: Any) -> None:
    schedules_install()
