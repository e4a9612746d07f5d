"""The lake: everything imported, as events, location points and visits.

Event and LocationPoint are TimescaleDB hypertables. TimescaleDB requires the
time column in every unique index, so their duplicate keys include it, and
django-timescaledb drops the single-column primary key Django creates (``id``
stays as a sequence-filled column the ORM can still address).
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.gis.db import models as gis
from django.db import models
from timescale.db.models.fields import TimescaleDateTimeField

from apps.core.jobs import Job

# Month-sized chunks: a person's history spans years, not billions of rows a
# day, and fewer, fuller chunks compress and scan better.
CHUNK_INTERVAL = "30 days"


class Import(Job):
    """One import run over one archive set (one or several parts).

    Done: every member was read (some may have failed, see the entries); failed:
    the archive set was rejected and nothing of it kept.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="imports"
    )
    # [{"path": str, "name": str, "size": int, "sha256": str}] in import order.
    parts = models.JSONField(default=list)
    fingerprint = models.CharField(
        max_length=64, help_text="sha256 over the parts' sha256s", db_index=True
    )
    bytes_total = models.BigIntegerField(default=0)
    bytes_done = models.BigIntegerField(default=0)
    members_total = models.IntegerField(default=0)
    members_done = models.IntegerField(default=0)
    records_written = models.BigIntegerField(default=0)
    records_duplicate = models.BigIntegerField(default=0)
    records_quarantined = models.BigIntegerField(default=0)
    task_id = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        names = ", ".join(part["name"] for part in self.parts) or "(no parts)"
        return f"Import {self.pk} of {names} [{self.status}]"

    @property
    def progress(self) -> float:
        return self.bytes_done / self.bytes_total if self.bytes_total else 0.0


class ImportEntry(models.Model):
    """One member of an archive part, with where its import got to."""

    class Status(models.TextChoices):
        PENDING = "pending"
        RUNNING = "running"
        DONE = "done"
        SKIPPED = "skipped"  # no parser knows this member: recorded, not an error
        FAILED = "failed"  # the member could not be read; its rows were rolled back

    import_run = models.ForeignKey(Import, on_delete=models.CASCADE, related_name="entries")
    # The import's user again: every lake row carries its owner (row-level security).
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    part = models.PositiveIntegerField(default=0, help_text="index into Import.parts")
    path = models.TextField()
    product = models.CharField(max_length=64, blank=True)
    size = models.BigIntegerField(default=0)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    # Number of parser records already committed: a resumed run skips them.
    checkpoint = models.BigIntegerField(default=0)
    records_written = models.BigIntegerField(default=0)
    records_duplicate = models.BigIntegerField(default=0)
    records_quarantined = models.BigIntegerField(default=0)
    error = models.TextField(blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["import_run", "part", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["import_run", "part", "path"], name="lake_entry_unique_member"
            )
        ]
        verbose_name_plural = "import entries"

    def __str__(self) -> str:
        return f"{self.path} [{self.status}]"


class Quarantine(models.Model):
    """An item that could not be imported, with why, so nothing is lost silently."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    entry = models.ForeignKey(
        ImportEntry,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="quarantine_items",
    )
    source = models.CharField(max_length=32, default="takeout")
    reason = models.TextField()
    excerpt = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = "quarantine"

    def __str__(self) -> str:
        return self.reason[:80]


def source_entry_field() -> models.ForeignKey:
    """The archive member a row came from (None for streams); rows are rolled back by it.

    No constraint and no index: a hypertable row must not pin an entry, and
    the rare rollback may scan rather than slow every insert.
    """
    return models.ForeignKey(
        ImportEntry,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,
        related_name="+",
    )


class Event(models.Model):
    """Anything that happened at a moment, from any source."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    source = models.CharField(max_length=32)  # "takeout", "spotify", ...
    kind = models.CharField(max_length=64)  # "youtube.watch", "chrome.visit", ...
    occurred_at = TimescaleDateTimeField(interval=CHUNK_INTERVAL)
    ended_at = models.DateTimeField(null=True, blank=True)
    title = models.TextField(blank=True)
    text = models.TextField(blank=True)
    url = models.TextField(blank=True)
    location = gis.PointField(geography=True, srid=4326, null=True, blank=True)
    data = models.JSONField(default=dict, blank=True)
    content_hash = models.BinaryField(max_length=16)
    entry = source_entry_field()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "content_hash", "occurred_at"], name="lake_event_dedupe"
            )
        ]
        indexes = [
            models.Index(fields=["user", "kind", "-occurred_at"], name="lake_event_user_kind")
        ]

    def __str__(self) -> str:
        return f"{self.kind} at {self.occurred_at:%Y-%m-%d %H:%M}: {self.title[:60]}"


class LocationPoint(models.Model):
    """One raw position fix. Millions per person: written with COPY only."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    recorded_at = TimescaleDateTimeField(interval=CHUNK_INTERVAL)
    point = gis.PointField(geography=True, srid=4326)
    accuracy_m = models.FloatField(null=True, blank=True)
    altitude_m = models.FloatField(null=True, blank=True)
    velocity_mps = models.FloatField(null=True, blank=True)
    heading_deg = models.FloatField(null=True, blank=True)
    source = models.CharField(max_length=32, blank=True)
    data = models.JSONField(null=True, blank=True)
    entry = source_entry_field()

    class Meta:
        constraints = [
            # Same user, same instant, same spot: the same fix, whichever file it came from.
            models.UniqueConstraint(
                fields=["user", "recorded_at", "point"], name="lake_point_dedupe"
            )
        ]

    def __str__(self) -> str:
        return f"{self.recorded_at:%Y-%m-%d %H:%M:%S} {self.point.y:.7f},{self.point.x:.7f}"


class Place(models.Model):
    """A place the user visited or saved, keyed by Google's place id where there is one."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    place_id = models.CharField(max_length=255)
    name = models.TextField(blank=True)
    address = models.TextField(blank=True)
    semantic_type = models.CharField(max_length=64, blank=True)
    location = gis.PointField(geography=True, srid=4326, null=True, blank=True)
    data = models.JSONField(default=dict, blank=True)
    # The member that first stored the place: a failed member removes the places it
    # created that nothing else uses (later members only add facts to a place).
    entry = source_entry_field()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "place_id"], name="lake_place_unique")
        ]

    def __str__(self) -> str:
        return self.name or self.address or self.place_id


class Visit(models.Model):
    """A stay at a place (semantic location history, on-device timeline)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    place = models.ForeignKey(
        Place, null=True, blank=True, on_delete=models.SET_NULL, related_name="visits"
    )
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    location = gis.PointField(geography=True, srid=4326, null=True, blank=True)
    confidence = models.FloatField(null=True, blank=True)
    data = models.JSONField(default=dict, blank=True)
    content_hash = models.BinaryField(max_length=16)
    entry = source_entry_field()

    class Meta:
        ordering = ["-started_at"]
        constraints = [
            models.UniqueConstraint(fields=["user", "content_hash"], name="lake_visit_dedupe")
        ]
        indexes = [models.Index(fields=["user", "-started_at"], name="lake_visit_user_time")]

    def __str__(self) -> str:
        return f"visit {self.started_at:%Y-%m-%d %H:%M} {self.place or ''}"


class Upload(models.Model):
    """A resumable chunked upload of one archive part (see api/views.py)."""

    class Status(models.TextChoices):
        RECEIVING = "receiving"
        # Every byte arrived; a worker hashes the file (run_upload_verify), because
        # the digest kept while receiving was lost (chunks through another process).
        VERIFYING = "verifying"
        COMPLETE = "complete"  # checksum verified, handed to an import

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="uploads"
    )
    filename = models.CharField(max_length=255)
    size = models.BigIntegerField()
    sha256 = models.CharField(max_length=64)
    received = models.BigIntegerField(default=0)
    # The sha256 of the received bytes, computed while they arrived; blank when
    # not known (apps/lake/uploads.py: a worker then hashes the file).
    received_sha256 = models.CharField(max_length=64, blank=True, default="")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.RECEIVING)
    # Why the last verification refused the data (for the client that polls).
    problem = models.TextField(blank=True, default="")
    import_run = models.ForeignKey(
        Import, null=True, blank=True, on_delete=models.SET_NULL, related_name="uploads"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.filename} ({self.received}/{self.size})"


from apps.lake.metric_models import HealthMetric  # noqa: E402, F401  (registers the model)
