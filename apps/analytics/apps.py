from django.apps import AppConfig


class AnalyticsConfig(AppConfig):
    name = "apps.analytics"
    label = "analytics"

    def ready(self) -> None:
        # Receivers on the lake's signals (timeline series and geofences; semantic
        # search's backfill), and search's tasks registered with Celery
        # (autodiscovery only reads tasks.py).
        from apps.analytics import receivers  # noqa: F401
        from apps.analytics.search import receivers as search_receivers  # noqa: F401
        from apps.analytics.search import tasks as search_tasks  # noqa: F401
