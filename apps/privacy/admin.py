from django.contrib import admin

from apps.privacy.models import AuditEntry, Export


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    """The audit log: searchable, never editable (the app role may not change it anyway)."""

    list_display = ("created_at", "action", "user_id", "actor_id", "target", "ip")
    list_filter = ("action", "created_at")
    # "=" for ids: searching 12 must not match 112.
    search_fields = ("action", "target", "=user_id", "=actor_id", "ip", "detail")
    date_hierarchy = "created_at"
    readonly_fields = ("created_at", "action", "user_id", "actor_id", "target", "detail", "ip")
    list_per_page = 100

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Export)
class ExportAdmin(admin.ModelAdmin):
    """Exports are the user's own; the admin only shows that they happened."""

    list_display = (
        "id",
        "user",
        "status",
        "tables_done",
        "tables_total",
        "rows_written",
        "created_at",
    )
    list_filter = ("status",)
    readonly_fields = [field.name for field in Export._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


# PII detection and masking registers its own models.
from apps.privacy.pii import admin as pii_admin  # noqa: E402,F401
