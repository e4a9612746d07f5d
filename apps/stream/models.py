# This app's tables arrive with its issue (see ../shared/DESIGN.md).

# --- outbound reliability (issue 7, connectors) ---------------------------------
from django.conf import settings  # noqa: E402
from django.db import models  # noqa: E402


class DeadLetter(models.Model):
    """Outbound work that failed after its last retry, kept to be replayed.

    ``operation`` names a handler registered in apps.stream.deadletters (e.g.
    "connector.sync"); ``payload`` is what it needs to run again.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="dead_letters"
    )
    provider = models.CharField(max_length=40)
    # The connector's Connection, by id: the stream app does not depend on connectors.
    connection_id = models.BigIntegerField(null=True, blank=True)
    operation = models.CharField(max_length=80)
    payload = models.JSONField(default=dict, blank=True)
    error = models.TextField()
    attempts = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    replayed_at = models.DateTimeField(null=True, blank=True)
    # What the last replay said when it failed again (empty once it succeeded).
    replay_error = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["user", "replayed_at"])]

    def __str__(self) -> str:
        return f"{self.operation} {self.provider} ({self.created_at:%Y-%m-%d %H:%M})"
