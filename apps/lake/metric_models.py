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
    # The double sums and means are computed from; ``value_text`` is the number as the
    # source wrote it, given back by the API and the export. Why a double and a text and
    # not one numeric column: a double's shortest text is not always the source's
    # ("0.40129898838885744" reads back as "0.4012989883888574"), numeric keeps the
    # digits but not the spelling ("1.0E-4" becomes 0.00010), sums over a numeric are
    # several times slower, and a binary COPY of numeric needs a Decimal per value. Null
    # when Datapunk computed the value (a sleep segment's minutes, a connector's double).
    value = models.FloatField()
    value_text = models.TextField(null=True, blank=True)  # noqa: DJ001 (None: no source text)
    unit = models.CharField(max_length=16)  # "count", "m", "bpm", "kg", "kcal", "min"
    stream = models.CharField(max_length=255)  # Fit's data stream name, or the file's kind
    entry = source_entry_field()  # None for a connector

    # The export writes ``value`` with ``value_text``'s digits (apps/privacy/exports.py).
    EXACT_NUMBER_FIELDS = {"value": "value_text"}

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
