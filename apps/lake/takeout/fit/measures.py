"""Fit's data types as health metrics (apps/lake/metrics.py): which metric, which unit.

A Fit data point holds one value per field of its data type
(``com.google.heart_rate.summary``: average, max, min). A type named here
gives each field its metric; any other numeric type keeps its own name as the
metric (``com.google.step_count.cadence``, ``com.google.hydration``...), one
metric per field (``<type>.<field number>`` when it has several), so nothing
Fit wrote is dropped.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

from ..jsonstream import NumberText
from ..records import MetricRecord

DATA_TYPE_METRICS: dict[str, tuple[tuple[str, str], ...]] = {
    "com.google.step_count.delta": (("steps", "count"),),
    "com.google.distance.delta": (("distance", "m"),),
    "com.google.calories.expended": (("calories", "kcal"),),
    "com.google.active_minutes": (("active_minutes", "min"),),
    "com.google.heart_minutes": (("heart_points", "count"),),
    "com.google.heart_rate.bpm": (("heart_rate", "bpm"),),
    "com.google.heart_rate.summary": (
        ("heart_rate", "bpm"),
        ("heart_rate_max", "bpm"),
        ("heart_rate_min", "bpm"),
    ),
    "com.google.weight": (("weight", "kg"),),
    "com.google.weight.summary": (("weight", "kg"), ("weight_max", "kg"), ("weight_min", "kg")),
    "com.google.height": (("height", "m"),),
    "com.google.speed": (("speed", "m/s"),),
    "com.google.calories.bmr": (("bmr", "kcal/day"),),
    "com.google.sleep.segment": (("sleep_stage", "stage"),),
    "com.google.activity.segment": (("activity_type", "type"),),
    "com.google.step_count.cadence": (("cadence", "steps/min"),),
    "com.google.power.sample": (("power", "W"),),
}
# Sessions' aggregates name the type of a summary ("com.google.heart_minutes.summary").
SUMMARY_SUFFIX = ".summary"
# com.google.sleep.segment's stages: 1 awake, 2 sleep, 3 out of bed, 4 light, 5 deep, 6 REM.
ASLEEP_STAGES = frozenset({2, 4, 5, 6})


# A JSON number as jsonstream reads it exactly: an int (its text is str(int)) or the
# NumberText of one with a fraction or an exponent. A double (read by another reader)
# has lost the file's text.
NUMBER_TYPES = (int, NumberText, float)


def is_number(value: Any) -> bool:
    return type(value) in NUMBER_TYPES


def number_text(value: int | float | NumberText) -> str | None:
    """The source's text of a number read by jsonstream (None for a double)."""
    return value if type(value) is NumberText else str(value) if type(value) is int else None


def metrics_of(
    data_type: str, values: list[Any], start: datetime, end: datetime, stream: str
) -> Iterator[MetricRecord]:
    """One MetricRecord per numeric field of a point of ``data_type``; unset fields none."""
    known = DATA_TYPE_METRICS.get(data_type)
    for index, value in enumerate(values):
        if type(value) not in NUMBER_TYPES:
            continue
        if known is not None and index < len(known):
            metric, unit = known[index]
        else:
            metric = data_type if len(values) == 1 else f"{data_type}.{index}"
            unit = ""
        yield MetricRecord(
            metric[:64], start, end, float(value), unit, stream, text=number_text(value)
        )
    if data_type == "com.google.sleep.segment" and values and values[0] in ASLEEP_STAGES:
        minutes = (end - start) / timedelta(minutes=1)
        yield MetricRecord("sleep_minutes", start, end, minutes, "min", stream)
