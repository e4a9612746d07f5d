# Models of this app arrive with its issue; they register here.

# --- outbound reliability (issue 7, connectors) ---------------------------------
from django.contrib import admin, messages  # noqa: E402

from apps.stream.deadletters import ReplayError, dead_letter_replay  # noqa: E402
from apps.stream.models import DeadLetter  # noqa: E402


@admin.register(DeadLetter)
class DeadLetterAdmin(admin.ModelAdmin):
    list_display = (
        "created_at",
        "user",
        "provider",
        "operation",
        "attempts",
        "replayed_at",
        "error",
    )
    list_filter = ("provider", "operation", ("replayed_at", admin.EmptyFieldListFilter))
    search_fields = ("error", "operation")
    readonly_fields = [f.name for f in DeadLetter._meta.fields]
    actions = ["replay"]

    @admin.action(description="Replay the selected dead letters")
    def replay(self, request, queryset) -> None:
        done = failed = 0
        for letter_id in queryset.order_by("pk").values_list("pk", flat=True):
            try:
                if dead_letter_replay(dead_letter_id=letter_id):
                    done += 1
                else:
                    failed += 1
            except ReplayError as exc:
                failed += 1
                self.message_user(request, str(exc), messages.WARNING)
        if done:
            self.message_user(request, f"{done} replayed.", messages.SUCCESS)
        if failed:
            self.message_user(
                request, f"{failed} failed again; see their replay error.", messages.ERROR
            )
