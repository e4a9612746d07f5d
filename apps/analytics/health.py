"""The Health page's data: one chart per metric, each from its one preferred stream."""

from __future__ import annotations

from typing import Any

from apps.lake.metrics import metric_series

# (metric, title, unit shown); the order of the page.
HEALTH_CHARTS = (
    ("steps", "Steps per day", "steps"),
    ("active_minutes", "Active minutes per day", "min"),
    ("distance", "Distance per day", "m"),
    ("calories", "Calories per day", "kcal"),
    ("heart_rate", "Heart rate (min / average / max)", "bpm"),
    ("weight", "Weight", "kg"),
    ("sleep_minutes", "Sleep per night", "min"),
)


def health_charts(*, user_id: int) -> list[dict[str, Any]]:
    """[{metric, title, unit, days, values, min, max}] for the metrics the user has."""
    charts = []
    for metric, title, unit in HEALTH_CHARTS:
        rows = metric_series(user_id=user_id, metric=metric)
        if not rows:
            continue
        charts.append(
            {
                "metric": metric,
                "title": title,
                "unit": unit,
                "days": [row["bucket"].isoformat() for row in rows],
                "values": [round(row["value"], 1) for row in rows],
                "min": [round(row["min"], 1) for row in rows],
                "max": [round(row["max"], 1) for row in rows],
            }
        )
    return charts
