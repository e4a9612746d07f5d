"""Fit's measurements stored as events move into lake_healthmetric (#16).

Imports before this one wrote every Fit data point (``fit.steps``,
``fit.distance``, ``fit.heart_rate``, ``fit.weight``, ``fit.data_point``), every
row of the daily and interval CSVs (``fit.daily_metrics``, ``fit.interval``) as
an event, and the Google connector its heart rate (``fit.heart_rate``). Each
such event becomes the measurements an import makes of it now
(apps/lake/takeout/fit/), in the same stream, tagged with the same archive
member, and is deleted; an event that holds anything else than numbers (a
food's map value, a CSV cell that is no number) stays as it is. Sessions stay
events; their aggregates are added as measurements of ``fit.sessions``.

Every event is accounted for: ``move_fit_events`` returns how many were seen,
moved and kept, and how many measurements were new or already stored
(tests/lake/test_fit_events_migration.py reconciles them).

The conversion is copied here, not imported: a migration must not change when
the parsers do.
"""

from __future__ import annotations

import datetime as dt
import json
import zoneinfo
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import migrations

POINT_KINDS = ("fit.steps", "fit.distance", "fit.heart_rate", "fit.weight", "fit.data_point")
CSV_KINDS = ("fit.daily_metrics", "fit.interval")
# The Google connector's heart rate (source "google") came from Fit's merged stream;
# named as Takeout's All Data file of that stream is, so both store a beat once.
CONNECTOR_HEART_RATE = "derived_com.google.heart_rate.bpm_com.google.android.gms_merge_heart_rate_bpm"

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
ASLEEP_STAGES = frozenset({2, 4, 5, 6})
CSV_METRICS: dict[str, tuple[str, str]] = {
    "move minutes count": ("active_minutes", "min"),
    "calories (kcal)": ("calories", "kcal"),
    "distance (m)": ("distance", "m"),
    "heart points": ("heart_points", "count"),
    "heart minutes": ("heart_minutes", "min"),
    "average heart rate (bpm)": ("heart_rate", "bpm"),
    "max heart rate (bpm)": ("heart_rate_max", "bpm"),
    "min heart rate (bpm)": ("heart_rate_min", "bpm"),
    "average speed (m/s)": ("speed", "m/s"),
    "max speed (m/s)": ("speed_max", "m/s"),
    "min speed (m/s)": ("speed_min", "m/s"),
    "step count": ("steps", "count"),
    "average weight (kg)": ("weight", "kg"),
    "max weight (kg)": ("weight_max", "kg"),
    "min weight (kg)": ("weight_min", "kg"),
}

Row = tuple[str, dt.datetime, dt.datetime, float, str, str]  # metric, start, end, value, unit, stream


class Keep(Exception):
    """This event holds more than numbers: it stays an event."""


@dataclass
class MoveReport:
    events: int = 0  # fit.* measurement events seen
    moved: int = 0  # deleted, their measurements stored
    kept: int = 0  # left as events (not only numbers)
    measurements: int = 0  # measurements made of the moved events and the sessions
    new: int = 0  # of those, stored anew
    already_stored: int = 0  # of those, the same stream's measurement was there
    sessions: int = 0  # session events whose aggregates were added


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _from_ns(value: Any) -> dt.datetime:
    seconds, nanos = divmod(int(value), 1_000_000_000)
    return dt.datetime.fromtimestamp(seconds, tz=dt.UTC) + dt.timedelta(microseconds=nanos // 1000)


def _of_type(data_type: str, values: list, start, end, stream: str) -> Iterator[Row]:
    known = DATA_TYPE_METRICS.get(data_type)
    for index, value in enumerate(values):
        if value is None:
            continue
        if not _number(value):
            raise Keep
        if known is not None and index < len(known):
            metric, unit = known[index]
        else:
            metric, unit = (data_type if len(values) == 1 else f"{data_type}.{index}"), ""
        yield metric[:64], start, end, float(value), unit, stream
    if data_type == "com.google.sleep.segment" and values and values[0] in ASLEEP_STAGES:
        yield "sleep_minutes", start, end, (end - start) / dt.timedelta(minutes=1), "min", stream


def _point_values(data: dict) -> list:
    raw = data.get("fitValue")
    if raw is None:
        raw = data.get("value")
        if not isinstance(raw, list) or not all(isinstance(v, dict) for v in raw):
            # The Takeout parser put the plain value(s) under "value".
            return raw if isinstance(raw, list) else [raw]
    values = []
    for entry in raw:
        cell = entry.get("value", entry) if isinstance(entry, dict) else None
        if not isinstance(cell, dict):
            raise Keep
        for key in ("fpVal", "intVal", "stringVal", "mapVal"):
            if key in cell:
                values.append(cell[key])
                break
        else:
            values.append(None)
    return values


def _point_rows(source: str, title: str, occurred_at, ended_at, data: dict) -> list[Row]:
    data_type = data.get("dataTypeName") or title
    if not isinstance(data_type, str) or not data_type:
        raise Keep
    if source == "google" and "dataSource" not in data:
        stream = CONNECTOR_HEART_RATE
        data_type = data_type if "." in data_type else "com.google.heart_rate.bpm"
    else:
        stream = str(data.get("dataSource") or "")
    if not stream:
        raise Keep
    start = _from_ns(data["startTimeNanos"]) if "startTimeNanos" in data else occurred_at
    end = _from_ns(data["endTimeNanos"]) if "endTimeNanos" in data else (ended_at or start)
    return list(_of_type(data_type, _point_values(data), start, max(start, end), stream))


def _column(column: str) -> tuple[str, str]:
    name = column.strip().casefold()
    if name in CSV_METRICS:
        return CSV_METRICS[name]
    if name.endswith(")") and " (" in name:
        head, _, unit = name[:-1].rpartition(" (")
        return head, unit[:16]
    return name, ""


def _is_time(text: str) -> bool:
    try:
        dt.time.fromisoformat(text.strip())
        return True
    except ValueError:
        return False


def _csv_rows(kind: str, start, end, data: dict, zone) -> list[Row]:
    if kind == "fit.daily_metrics":
        day = dt.date.fromisoformat(str(data.get("_day")))
        start = dt.datetime.combine(day, dt.time(), zone)
        end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), zone)
        stream = "fit.daily_metrics"
    else:
        stream = "fit.intervals"
    if data.get("_extra"):
        raise Keep
    rows: list[Row] = []
    for column, cell in data.items():
        if column.startswith("_") or column == "date" or not isinstance(cell, str):
            continue
        text = cell.strip()
        if not text or text == data.get("_day") or (kind == "fit.interval" and _is_time(text)):
            continue
        try:
            value = float(text)
        except ValueError:
            raise Keep from None
        metric, unit = _column(column)
        if metric:
            rows.append((metric[:64], start, end, value, unit, stream))
    return rows


def _session_rows(occurred_at, ended_at, data: dict) -> list[Row]:
    rows: list[Row] = []
    for aggregate in data.get("aggregate") or []:
        if not isinstance(aggregate, dict) or not isinstance(aggregate.get("metricName"), str):
            continue
        value = aggregate.get("intValue", aggregate.get("floatValue"))
        if not _number(value):
            continue
        name = aggregate["metricName"].removesuffix(".summary")
        rows.extend(_of_type(name, [value], occurred_at, ended_at or occurred_at, "fit.sessions"))
    return rows


_STAGE = """
CREATE TEMP TABLE fit_move_metric (
  user_id integer, metric varchar(64), start timestamptz, "end" timestamptz,
  value double precision, unit varchar(16), stream varchar(255), entry_id bigint
) ON COMMIT DROP
"""
_MOVE = """
INSERT INTO lake_healthmetric (user_id, metric, start, "end", value, unit, stream, entry_id)
SELECT DISTINCT ON (user_id, metric, stream, start, "end")
       user_id, metric, start, "end", value, unit, stream, entry_id
FROM fit_move_metric
ORDER BY user_id, metric, stream, start, "end"
ON CONFLICT (user_id, metric, stream, start, "end") DO NOTHING
"""


def move_fit_events(connection) -> MoveReport:
    """Every user's fit.* measurement events into lake_healthmetric (see the docstring)."""
    report = MoveReport()
    default_zone = zoneinfo.ZoneInfo(settings.TIME_ZONE)
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config('datapunk.system', 'on', true)")
        cursor.execute("SELECT user_id, time_zone FROM core_usersettings")
        zones: dict[int, Any] = {}
        for user_id, name in cursor.fetchall():
            try:
                zones[user_id] = zoneinfo.ZoneInfo(name)
            except (zoneinfo.ZoneInfoNotFoundError, ValueError):
                pass
        cursor.execute(
            "SELECT id, user_id, source, kind, occurred_at, ended_at, title, data, entry_id "
            "FROM lake_event WHERE kind = ANY(%s) ORDER BY id",
            [[*POINT_KINDS, *CSV_KINDS, "fit.session"]],
        )
        events = cursor.fetchall()
        staged: list[tuple] = []
        moved: list[tuple[int, dt.datetime]] = []
        for event_id, user_id, source, kind, occurred_at, ended_at, title, data, entry in events:
            data = json.loads(data) if isinstance(data, str) else (data or {})
            if kind == "fit.session":
                rows = _session_rows(occurred_at, ended_at, data)
                report.sessions += bool(rows)
            else:
                report.events += 1
                if kind == "fit.daily_metrics":
                    data = {**data, "_day": title}
                try:
                    if kind in POINT_KINDS:
                        rows = _point_rows(source, title, occurred_at, ended_at, data)
                    else:
                        zone = zones.get(user_id, default_zone)
                        rows = _csv_rows(kind, occurred_at, ended_at or occurred_at, data, zone)
                    if not rows:
                        raise Keep
                except (Keep, KeyError, TypeError, ValueError, OverflowError):
                    report.kept += 1
                    continue
                report.moved += 1
                moved.append((event_id, occurred_at))
            report.measurements += len(rows)
            staged.extend((user_id, *row, entry) for row in rows)
        if not staged:
            return report
        cursor.execute(_STAGE)
        with cursor.cursor.copy(
            'COPY fit_move_metric (user_id, metric, start, "end", value, unit, stream, entry_id)'
            " FROM STDIN"
        ) as copy:
            for user_id, metric, start, end, value, unit, stream, entry in staged:
                copy.write_row((user_id, metric, start, end, value, unit, stream, entry))
        cursor.execute(_MOVE)
        report.new = cursor.rowcount
        report.already_stored = report.measurements - report.new
        for index in range(0, len(moved), 5000):
            chunk = moved[index : index + 5000]
            cursor.execute(
                "DELETE FROM lake_event WHERE id = ANY(%s)", [[event_id for event_id, _ in chunk]]
            )
        cursor.execute("DROP TABLE fit_move_metric")
    # The events-per-day rollup counted the moved events: analytics 0008 recomputes it
    # (the lake does not import analytics).
    return report


def forwards(apps, schema_editor) -> None:
    move_fit_events(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [
        ("lake", "0004_health_metric_hypertable"),
        ("core", "0002_user_settings_time_zone"),
    ]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
