from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _isolate_user_tables(sender, using: str = "default", **kwargs) -> None:
    # ``flush`` sends post_migrate too, without a migration plan: emptying tables
    # adds none and keeps their policies, so there is nothing to apply (and the
    # test runner flushes after every transactional test).
    if "plan" not in kwargs:
        return
    from apps.privacy.rls import rls_apply

    rls_apply(using)


class PrivacyConfig(AppConfig):
    name = "apps.privacy"
    label = "privacy"

    def ready(self) -> None:
        # Sign-in audit entries; PII scans follow the lake's signals.
        from apps.core.feed import register_message_types
        from apps.lake.hooks import PiiGuard, pii_guard_install
        from apps.privacy import receivers  # noqa: F401
        from apps.privacy.pii.preload import pii_model_loading
        from apps.privacy.redaction import partially_masked_texts, redact_event_payloads
        from apps.privacy.services import pii_scan_new_events

        # The lake's PII guard: streams are scanned as they are stored, and
        # what the lake shows (feed, quarantine) is masked.
        pii_guard_install(
            PiiGuard(
                scan_new_events=pii_scan_new_events,
                mask_event_payloads=redact_event_payloads,
                mask_texts=partially_masked_texts,
                model_loading=pii_model_loading,
            )
        )

        # Export progress, and the end of a delete-my-data.
        register_message_types("export.progress", "export.finished", "delete.finished")

        # After every migrate: tables any app added since are put under
        # row-level security before anything uses them.
        post_migrate.connect(_isolate_user_tables, sender=self, dispatch_uid="privacy-rls")
