from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _isolate_user_tables(sender, using: str = "default", **kwargs) -> None:
    from apps.privacy.rls import rls_apply

    rls_apply(using)


class PrivacyConfig(AppConfig):
    name = "apps.privacy"
    label = "privacy"

    def ready(self) -> None:
        # Sign-in audit entries; PII scans follow the lake's signals.
        from apps.privacy import receivers  # noqa: F401

        # After every migrate (and flush): tables any app added since are
        # put under row-level security before anything uses them.
        post_migrate.connect(_isolate_user_tables, sender=self, dispatch_uid="privacy-rls")
