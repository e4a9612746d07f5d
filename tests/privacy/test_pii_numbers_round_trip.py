"""Fit files imported, scanned and read back: every numeric value is byte-identical
through the API and the export, whether Fit wrote it as a JSON number or as text
(issue #15: "Calories (kcal)": "14.<CREDIT_CARD>")."""

from __future__ import annotations

import csv
import io
import json
import re
import zipfile

import pytest
from rest_framework.test import APIClient

from apps.core.db.context import system_context, user_context
from apps.lake.metric_models import HealthMetric
from apps.lake.models import Event
from apps.lake.services import takeout_import_prepare, takeout_import_run
from apps.privacy.exports import export_create, export_path
from apps.privacy.pii.models import PiiFinding
from apps.privacy.services import pii_scan_backfill
from apps.privacy.tasks import run_export
from tests.acting import refreshed
from tests.lake.conftest import make_zip

pytestmark = pytest.mark.django_db

# The decimals of the export, and more of their kind (16-17 significant digits:
# the digits after the point pass Luhn often enough to have looked like cards).
DECIMALS = [
    "14.16169065485398",
    "152.68501967488913",
    "1.3887563943862915",
    "4111.111111111111",
    "0.40129898838885744",
    "5555555555554444.0",
]
DAILY_CSV = (
    "Date,Calories (kcal),Distance (m),Average speed (m/s),High latitude (deg),Step count\n"
    + "".join(
        f"2021-04-{10 + i:02d},{d},{DECIMALS[(i + 1) % 6]},{DECIMALS[(i + 2) % 6]},"
        f"52.52000{i}5485398,{1000 + i}\n"
        for i, d in enumerate(DECIMALS)
    )
)
START, MINUTE = 1618866000000000000, 60 * 10**9
# A per-day file of the same export (times with the file's offset) and All Data points,
# written by hand: json.dumps would write each double's shortest text, not Fit's.
INTERVALS_CSV = (
    "Start time,End time,Calories (kcal),Distance (m),Step count\n"
    "00:00:00.000+05:30,00:15:00.000+05:30,0.40129898838885744,152.68501967488913,12\n"
    "00:15:00.000+05:30,00:30:00.000+05:30,1.3887563943862915,5555555555554444.0,0\n"
)
ALL_DATA = (
    '{"Data Source": "derived:com.google.calories.expended:com.google.android.gms:merge",'
    ' "Data Points": [\n'
    + ",\n".join(
        f'  {{"fitValue": [{{"value": {{"fpVal": {text}}}}}], "dataTypeName":'
        f' "com.google.calories.expended", "startTimeNanos": {START + i * MINUTE},'
        f' "endTimeNanos": {START + (i + 1) * MINUTE}, "originDataSourceId": "raw:x"}}'
        for i, text in enumerate(DECIMALS + ["1.0E-4", "14.0", "7"])
    )
    + "\n]}"
)
ALL_DATA_STEPS = (
    '{"Data Source": "derived:com.google.step_count.delta:x", "Data Points": ['
    '{"fitValue": [{"value": {"intVal": 4174}}], "dataTypeName": "com.google.step_count.delta",'
    ' "startTimeNanos": 1618866000000000000, "endTimeNanos": 1618866060000000000}]}'
)
SESSION = {
    "fitnessActivity": "running",
    "startTime": "2021-04-19T20:57:39Z",
    "endTime": "2021-04-19T21:27:39Z",
    "duration": "1800.000s",
    "aggregate": [
        {"metricName": "com.google.calories.expended", "floatValue": 14.16169065485398},
        {"metricName": "com.google.distance.delta", "floatValue": 4111111111111111.0},
        {"metricName": "com.google.step_count.delta", "intValue": 4174},
    ],
}


def _numbers_in(value, out: list[str]) -> list[str]:
    """Every number in a JSON value, as its text: JSON numbers and number strings."""
    if isinstance(value, dict):
        for item in value.values():
            _numbers_in(item, out)
    elif isinstance(value, list):
        for item in value:
            _numbers_in(item, out)
    elif isinstance(value, bool) or value is None:
        pass
    elif isinstance(value, int | float):
        out.append(json.dumps(value))
    elif isinstance(value, str) and re.fullmatch(r"[-+]?\d+(\.\d+)?", value):
        out.append(value)
    return out


def source_texts() -> list[str]:
    """Every number of the Fit files above as the file wrote it (cells, JSON tokens)."""
    texts = []
    for text in (DAILY_CSV, INTERVALS_CSV):
        for row in list(csv.reader(io.StringIO(text)))[1:]:
            first = 1 if text is DAILY_CSV else 2
            texts += [cell for cell in row[first:] if cell]
    for text in (ALL_DATA, ALL_DATA_STEPS):
        texts += re.findall(r'"(?:fpVal|intVal)": ([^}\s]+)', text)
    texts += [
        json.dumps(a.get("floatValue", a.get("intValue")))  # json.dumps wrote the session
        for a in SESSION["aggregate"]
    ]
    return texts


def test_fit_numbers_come_back_byte_identical(owner, tmp_path, settings, scanner):
    settings.EXPORT_DIR = tmp_path / "exports"
    archive = make_zip(
        tmp_path / "takeout.zip",
        {
            "Takeout/Fit/Daily activity metrics/Daily activity metrics.csv": DAILY_CSV,
            "Takeout/Fit/All Sessions/2021-04-19T22_57_39+02_00_RUNNING.json": json.dumps(SESSION),
            "Takeout/Fit/Daily activity metrics/2021-04-10.csv": INTERVALS_CSV,
            "Takeout/Fit/All Data/derived_com.google.calories.expended_com.google.android"
            ".gms_merge.json": ALL_DATA,
            "Takeout/Fit/All Data/derived_com.google.step_count.delta_x.json": ALL_DATA_STEPS,
        },
    )
    with user_context(owner.pk):
        run = takeout_import_prepare(user=owner, paths=[archive])
        takeout_import_run(import_id=run.pk)
        pii_scan_backfill(user_id=owner.pk)
        stored = {e["id"]: e["data"] for e in Event.objects.filter(user=owner).values("id", "data")}
        findings = list(
            PiiFinding.objects.values_list("field", "entity_type", "span_start", "span_end")
        )
        export = export_create(user_id=owner.pk)
    # The session is an event; the daily CSV's rows are measurements (issue #16).
    assert len(stored) >= 1, stored
    expected = {event_id: _numbers_in(data, []) for event_id, data in stored.items()}
    # The import kept the decimals as written (the test would prove nothing otherwise).
    assert any("14.16169065485398" in numbers for numbers in expected.values())
    assert any("4111111111111111.0" in numbers for numbers in expected.values())
    assert findings == [], findings
    with user_context(owner.pk):
        calories = list(
            HealthMetric.objects.filter(metric="calories", stream="fit.daily_metrics")
            .order_by("start")
            .values_list("value", flat=True)
        )
    # The double sums use: the CSV's text's nearest ("0.40129898838885744" is the double
    # whose shortest text is "0.4012989883888574"); the text itself is kept beside it.
    assert calories == [float(text) for text in DECIMALS]

    client = APIClient()
    client.force_login(owner)  # a session: the middleware sets the user context for RLS
    for event_id, numbers in expected.items():
        response = client.get(f"/api/privacy/events/{event_id}/")
        assert response.status_code == 200
        assert _numbers_in(json.loads(response.content)["data"], []) == numbers
    response = client.get(
        "/api/metrics/",
        {
            "metric": "calories",
            "stream": "fit.daily_metrics",
            "start": "2021-04-10",
            "end": "2021-04-15",
        },
    )
    assert response.status_code == 200
    days = json.loads(response.content)["results"]
    assert [day["value"] for day in days] == calories  # one row a day: its value
    assert [day["text"] for day in days] == DECIMALS  # and the CSV's own text
    # Every measurement, through the API, as the files wrote it.
    with user_context(owner.pk):
        series = set(HealthMetric.objects.values_list("metric", "stream"))
    api_texts = []
    for metric, stream in sorted(series):
        response = client.get(
            "/api/metrics/measurements/", {"metric": metric, "stream": stream, "limit": 2}
        )
        while True:
            assert response.status_code == 200, response.content
            page = json.loads(response.content)
            api_texts += [row["text"] for row in page["results"]]
            if not page["next_cursor"]:
                break
            response = client.get(
                "/api/metrics/measurements/",
                {"metric": metric, "stream": stream, "limit": 2, "cursor": page["next_cursor"]},
            )
    assert sorted(api_texts) == sorted(source_texts())

    run_export(owner.pk, export.pk)
    with system_context():
        refreshed(export)
    with zipfile.ZipFile(export_path(export)) as zipped:
        rows = json.loads(zipped.read("lake_event.json"))
        measurements = json.loads(zipped.read("lake_healthmetric.json"))
        exact_rows = json.loads(
            zipped.read("lake_healthmetric.json"), parse_float=str, parse_int=str
        )
    exported_calories = [
        row["value"]
        for row in sorted(measurements, key=lambda row: row["start"])
        if row["metric"] == "calories" and row["stream"] == "fit.daily_metrics"
    ]
    assert exported_calories == calories
    # The export: each measurement's text, and its value written with the same digits.
    assert sorted(row["value_text"] for row in measurements) == sorted(source_texts())
    assert all(row["value"] == row["value_text"] for row in exact_rows), exact_rows
    exported = {row["id"]: row["data"] for row in rows}
    for event_id, numbers in expected.items():
        assert _numbers_in(exported[event_id], []) == numbers
    raw = json.dumps(exported)
    assert "<CREDIT_CARD>" not in raw and "<REDACTED>" not in raw
