"""Admin for PII findings, scan cursors and masking policies (imported by admin.py)."""

from django.contrib import admin

from apps.privacy.pii.models import PiiFinding, PiiScanState, RedactionPolicy


@admin.register(PiiFinding)
class PiiFindingAdmin(admin.ModelAdmin):
    """Read-only: findings are written by the scanner, and name spans, never values."""

    list_display = ("event_id", "user", "field", "entity_type", "risk", "score", "occurred_at")
    list_filter = ("risk", "entity_type")
    search_fields = ("user__username", "entity_type", "field", "=event_id")
    list_select_related = ("user",)
    date_hierarchy = "occurred_at"

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(PiiScanState)
class PiiScanStateAdmin(admin.ModelAdmin):
    list_display = ("user", "last_event_id", "events_scanned", "findings_stored", "updated_at")
    search_fields = ("user__username",)
    readonly_fields = ("updated_at",)


@admin.register(RedactionPolicy)
class RedactionPolicyAdmin(admin.ModelAdmin):
    list_display = ("user", "high", "medium", "low", "updated_at")
    search_fields = ("user__username",)
