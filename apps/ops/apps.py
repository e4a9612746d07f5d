from django.apps import AppConfig
from django.db.models.signals import post_migrate


class OpsConfig(AppConfig):
    name = "apps.ops"
    label = "ops"
    verbose_name = "Operations (backups, archive policies)"

    def ready(self) -> None:
        from apps.core.health import warning_check_register
        from apps.ops import metrics  # noqa: F401  registers the Prometheus gauges
        from apps.ops.selectors import backup_report

        warning_check_register("backup", backup_report)

        # The beat schedule is written by code after every migrate (idempotent).
        post_migrate.connect(_ensure_schedule, sender=self, dispatch_uid="ops-schedule")


def _ensure_schedule(sender: AppConfig, using: str = "default", **kwargs) -> None:
    from apps.ops.services import schedule_ensure

    schedule_ensure(using=using)
