"""Health measurements as a time series (steps, distance, heart rate, weight, sleep...).

One row per measurement of one stream: Google Fit writes the same quantity in
several streams (a device's raw stream, ``derived:...:merge_step_deltas``,
``...:estimated_steps``), and all of them are kept; readers pick one stream per
metric (apps/lake/metrics.py) instead of summing overlapping ones.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from timescale.db.models.fields import TimescaleDateTimeField

# models.py imports this module at its end, once source_entry_field is defined.
from apps.lake.models import source_entry_field


class HealthMetric(models.Model):
    """One measurement over [start, end] (end = start for an instant). Written with COPY only."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    metric = models.CharField(max_length=64)  # "steps", "distance", "heart_rate", ...
    start = TimescaleDateTimeField(interval="30 days")
    end = models.DateTimeField()
    value = models.FloatField()
    unit = models.CharField(max_length=16)  # "count", "m", "bpm", "kg", "kcal", "min"
    stream = models.CharField(max_length=255)  # Fit's data stream name, or the file's kind
    entry = source_entry_field()  # None for a connector

    class Meta:
        constraints = [
            # The same stream's measurement of the same span: one row, whichever file it came from.
            models.UniqueConstraint(
                fields=["user", "metric", "stream", "start", "end"], name="lake_metric_dedupe"
            )
        ]

    def __str__(self) -> str:
        return (
            f"{self.metric} {self.value} {self.unit} at {self.start:%Y-%m-%d %H:%M} ({self.stream})"
        )
