from django.contrib import admin

from apps.connectors.models import Connection


@admin.register(Connection)
class ConnectionAdmin(admin.ModelAdmin):
    list_display = (
        "user",
        "provider",
        "display_name",
        "status",
        "last_sync_at",
        "token_expires_at",
    )
    list_filter = ("provider", "status")
    search_fields = ("display_name", "external_id", "user__username")
    # The sealed tokens are never shown, even encrypted.
    exclude = ("access_token_sealed", "refresh_token_sealed")
    readonly_fields = (
        "user",
        "provider",
        "external_id",
        "scopes",
        "token_expires_at",
        "last_sync_at",
        "last_error",
        "created_at",
        "updated_at",
    )
