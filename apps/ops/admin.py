from django.contrib import admin, messages

from apps.ops.models import ArchiveRun, BackupRun


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows written by services only: the admin shows them, never edits them."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(BackupRun)
class BackupRunAdmin(ReadOnlyAdmin):
    list_display = (
        "started_at",
        "kind",
        "status",
        "label",
        "size_bytes",
        "repo_bytes",
        "uploads_files",
        "finished_at",
    )
    list_filter = ("status", "kind")
    search_fields = ("label", "error")

    def changelist_view(self, request, extra_context=None):
        # The repository's own word, above the log of runs: what /health/ready says.
        from apps.ops.selectors import backup_health

        health = backup_health()
        level = messages.SUCCESS if health.ok else messages.WARNING
        self.message_user(request, f"Backups: {health.detail}", level)
        return super().changelist_view(request, extra_context)


@admin.register(ArchiveRun)
class ArchiveRunAdmin(ReadOnlyAdmin):
    list_display = (
        "started_at",
        "status",
        "uploads_archived",
        "uploads_bytes",
        "uploads_kept",
        "quarantine_archived",
        "finished_at",
    )
    list_filter = ("status",)
