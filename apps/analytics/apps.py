from django.apps import AppConfig


class AnalyticsConfig(AppConfig):
    name = "apps.analytics"
    label = "analytics"

    def ready(self) -> None:
        # Receivers on the lake's signals (timeline series and geofences; semantic
        # search's backfill), and search's tasks registered with Celery
        # (autodiscovery only reads tasks.py).
        from apps.analytics import receivers, search_receivers, search_tasks  # noqa: F401
