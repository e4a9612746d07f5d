from django.apps import AppConfig


class AnalyticsConfig(AppConfig):
    name = "apps.analytics"
    label = "analytics"

    def ready(self) -> None:
        # Semantic search: receivers on the lake's signals, and its tasks registered
        # with Celery (autodiscovery only reads tasks.py).
        from apps.analytics import search_receivers, search_tasks  # noqa: F401
        # Timeline, series and geofences: receivers on the lake's signals.
        from apps.analytics import receivers  # noqa: F401
