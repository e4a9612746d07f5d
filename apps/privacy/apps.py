from django.apps import AppConfig


class PrivacyConfig(AppConfig):
    name = "apps.privacy"
    label = "privacy"

    def ready(self) -> None:
        # PII scans follow the lake's signals.
        from apps.privacy import receivers  # noqa: F401
