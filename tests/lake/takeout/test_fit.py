import io
import json
import zipfile
from datetime import UTC, date, datetime, timedelta
from pathlib import Path, PurePosixPath

import pytest

from apps.lake.takeout.fit import activity as fit
from apps.lake.takeout.records import BadRecord, EventRecord, MemberError

SESSION = {
    "fitnessActivity": "running",
    "startTime": "2021-04-19T20:57:39.686Z",
    "endTime": "2021-04-19T21:08:53.872Z",
    "duration": "674.186s",
    "segment": [
        {
            "fitnessActivity": "running",
            "startTime": "2021-04-19T20:57:39.686Z",
            "endTime": "2021-04-19T21:08:53.872Z",
        }
    ],
    "aggregate": [
        {"metricName": "com.google.heart_minutes.summary", "floatValue": 19.0},
        {"metricName": "com.google.step_count.delta", "intValue": 1550},
    ],
}
DAILY = (
    "Date,Move Minutes count,Calories (kcal),Distance (m),Heart Points,Step count,Average weight (kg)\r\n"
    "2021-06-09,30,1800.5,4000.2,12,5321,\r\n"
    ",,,,,,\r\n"
    "2021-06-10,10,1700,1000,,1200,77.7\r\n"
    "10.06.2021,1,1,1,1,1,1\r\n"
)
INTERVALS = (
    "Start time,End time,Move Minutes count,Calories (kcal),Step count\n"
    "00:00:00.000+02:00,00:15:00.000+02:00,,22.5,\n"
    "23:45:00.000+02:00,00:00:00.000+02:00,3,25.1,312\n"
    "noon,00:15:00.000+02:00,,,\n"
)


def run(parse_function, data: bytes, path: str) -> list:
    return list(parse_function(io.BytesIO(data), PurePosixPath(path)))


def test_session_is_an_event_and_its_aggregates_measurements():
    record, heart, steps = run(
        fit.parse_session,
        json.dumps(SESSION).encode(),
        "Takeout/Fit/All Sessions/2021-04-19T22_57_39+02_00_RUNNING.json",
    )
    assert isinstance(record, EventRecord)
    assert record.kind == "fit.session"
    assert record.title == "running"
    assert record.occurred_at == datetime(2021, 4, 19, 20, 57, 39, 686000, tzinfo=UTC)
    assert record.ended_at == datetime(2021, 4, 19, 21, 8, 53, 872000, tzinfo=UTC)
    assert (
        record.text == "com.google.heart_minutes.summary: 19.0\ncom.google.step_count.delta: 1550"
    )
    assert record.data == SESSION
    assert (heart.metric, heart.value, heart.unit) == ("heart_points", 19.0, "count")
    assert (steps.metric, steps.value, steps.stream) == ("steps", 1550.0, "fit.sessions")
    assert (steps.start, steps.end) == (record.occurred_at, record.ended_at)


def test_sleep_session_without_aggregates_or_end():
    sleep = {
        "fitnessActivity": "sleep",
        "startTime": "2026-09-09T17:06:00Z",
        "duration": "27720s",
        "segment": [],
    }
    (record,) = run(fit.parse_session, json.dumps(sleep).encode(), "Fit/All Sessions/x_SLEEP.json")
    assert record.ended_at is None
    assert record.text == ""


def test_bad_sessions():
    (no_start,) = run(
        fit.parse_session, b'{"fitnessActivity": "walking"}', "Fit/All Sessions/a.json"
    )
    assert isinstance(no_start, BadRecord) and no_start.reason == "Fit session without startTime"
    (bad_start,) = run(fit.parse_session, b'{"startTime": "tuesday"}', "Fit/All Sessions/a.json")
    assert isinstance(bad_start, BadRecord) and "not an ISO 8601 timestamp" in bad_start.reason
    with pytest.raises(MemberError):
        run(fit.parse_session, b'{"startTime": ', "Fit/All Sessions/a.json")


def test_daily_metrics_rows_are_measurements_of_the_persons_days():
    records = run(
        fit.parse_daily_metrics,
        DAILY.encode(),
        "Takeout/Fit/Daily activity metrics/Daily activity metrics.csv",
    )
    assert [(r.local_day, r.metric, r.value, r.unit) for r in records[:-1]] == [
        (date(2021, 6, 9), "active_minutes", 30.0, "min"),
        (date(2021, 6, 9), "calories", 1800.5, "kcal"),
        (date(2021, 6, 9), "distance", 4000.2, "m"),
        (date(2021, 6, 9), "heart_points", 12.0, "count"),
        (date(2021, 6, 9), "steps", 5321.0, "count"),
        (date(2021, 6, 10), "active_minutes", 10.0, "min"),
        (date(2021, 6, 10), "calories", 1700.0, "kcal"),
        (date(2021, 6, 10), "distance", 1000.0, "m"),
        (date(2021, 6, 10), "steps", 1200.0, "count"),
        (date(2021, 6, 10), "weight", 77.7, "kg"),
    ]
    assert {r.stream for r in records[:-1]} == {"fit.daily_metrics"}
    bad = records[-1]
    assert isinstance(bad, BadRecord) and "line 5: first column is not a date" in bad.reason


@pytest.mark.parametrize(
    ("header", "path"),
    [
        # Headers as real exports write them (sources in apps/lake/takeout/fit/csv_columns.py).
        (
            "Datum,Anzahl der Aktivitätsminuten,Kalorien (kcal),Distanz (m),Kardiopunkte,"
            "Schrittzahl,Durchschnittsgewicht (kg)",
            "Takeout/Google Fit/Tägliche Aktivitätswerte/Tägliche Aktivitätswerte.csv",
        ),
        (
            "Fecha,Recuento de Minutos Activos,Calorías (kcal),Distancia (m),Puntos Cardio,"
            "Recuento de pasos,Peso medio (kg)",
            "Takeout/Fit/Métricas de actividad diarias/Métricas de actividad diarias.csv",
        ),
    ],
)
def test_localised_headers_are_datapunks_metrics(header, path):
    data = f"{header}\n2021-06-10,12,1800.5,4000.25,7,3456,77.7\n"
    records = run(fit.parse_daily_metrics, data.encode(), path)
    assert [(r.local_day, r.metric, r.value, r.unit, r.text) for r in records] == [
        (date(2021, 6, 10), "active_minutes", 12.0, "min", "12"),
        (date(2021, 6, 10), "calories", 1800.5, "kcal", "1800.5"),
        (date(2021, 6, 10), "distance", 4000.25, "m", "4000.25"),
        (date(2021, 6, 10), "heart_points", 7.0, "count", "7"),
        (date(2021, 6, 10), "steps", 3456.0, "count", "3456"),
        (date(2021, 6, 10), "weight", 77.7, "kg", "77.7"),
    ]


def test_french_headers_seen_in_exports():
    data = "Date,Points cardio,Minutes cardio,Nombre de pas,Vitesse moyenne (m/s)\n2021-06-10,3,4,5,1.25\n"
    records = run(fit.parse_daily_metrics, data.encode(), "Takeout/Fit/x/y.csv")
    assert [(r.metric, r.unit) for r in records] == [
        ("heart_points", "count"),
        ("heart_minutes", "min"),
        ("steps", "count"),
        ("speed", "m/s"),
    ]


def test_unknown_headers_are_stored_under_their_name_with_a_note():
    # Italian: no source for Fit's Italian headers, so they are not translated by guess.
    data = "Data,Conteggio passi,Distanza (m),Walking duration (ms)\n2021-06-10,3456,7,60000\n"
    note, steps, distance, walking = run(fit.parse_daily_metrics, data.encode(), "Fit/x/y.csv")
    assert isinstance(note, BadRecord)
    assert "'Conteggio passi', 'Distanza (m)'" in note.reason
    assert "nothing was dropped" in note.reason and "Walking" not in note.reason
    assert (steps.metric, steps.unit, steps.text) == ("conteggio passi", "", "3456")
    assert (distance.metric, distance.unit) == ("distanza", "m")
    assert (walking.metric, walking.unit) == ("walking duration", "ms")  # a known English column


def test_cells_keep_their_text_and_only_numbers_are_taken():
    data = (
        "Date,Calories (kcal),Distance (m),Step count\n"
        "2021-06-10,0.40129898838885744,5555555555554444.0,1_000\n"
        "2021-06-11,1.0E-4,nan,+5\n"
    )
    records = run(fit.parse_daily_metrics, data.encode(), "Fit/x/Daily activity metrics.csv")
    assert [(r.metric, r.text) for r in records if not isinstance(r, BadRecord)] == [
        ("calories", "0.40129898838885744"),
        ("distance", "5555555555554444.0"),
        ("calories", "1.0E-4"),
        ("steps", "+5"),
    ]
    bad = [r.reason for r in records if isinstance(r, BadRecord)]
    assert len(bad) == 2 and "'1_000'" in bad[0] and "'nan'" in bad[1]


def test_interval_times_without_an_offset_are_the_persons_wall_clock():
    data = b"Start time,End time,Step count\n23:45:00.000,00:00:00.000,12\n"
    (steps,) = run(fit.parse_intervals, data, "Fit/Daily activity metrics/2021-06-10.csv")
    assert steps.local_time
    assert (steps.start, steps.end) == (datetime(2021, 6, 10, 23, 45), datetime(2021, 6, 11))
    mixed = b"Start time,End time,Step count\n00:00:00.000+05:30,00:15:00.000,12\n"
    (bad,) = run(fit.parse_intervals, mixed, "Fit/Daily activity metrics/2021-06-10.csv")
    assert isinstance(bad, BadRecord) and "one time has an offset" in bad.reason


def test_intervals_take_the_day_from_the_file_name():
    records = run(
        fit.parse_intervals, INTERVALS.encode(), "Takeout/Fit/Daily activity metrics/2021-06-10.csv"
    )
    calories, minutes, last_calories, last_steps, bad = records
    assert (calories.metric, calories.value, calories.stream) == (
        "calories",
        22.5,
        "fit.intervals",
    )
    assert calories.start == datetime(2021, 6, 9, 22, 0, tzinfo=UTC)
    assert calories.end - calories.start == timedelta(minutes=15)
    assert calories.local_day is None
    assert (minutes.metric, minutes.value) == ("active_minutes", 3.0)
    assert (last_steps.metric, last_steps.value) == ("steps", 312.0)
    assert last_steps.end == datetime(2021, 6, 10, 22, 0, tzinfo=UTC)  # next midnight
    assert isinstance(bad, BadRecord) and "not a time of day: 'noon'" in bad.reason


def test_interval_file_needs_a_day_name_and_odd_cells_are_quarantined():
    with pytest.raises(MemberError, match="named after its day"):
        run(fit.parse_intervals, INTERVALS.encode(), "intervals.csv")
    data = b"Start time,End time,Step count\n00:00:00.000Z,00:15:00.000Z,many,surprise\n"
    not_a_number, extra = run(
        fit.parse_intervals, data, "Fit/Daily activity metrics/2020-01-01.csv"
    )
    assert "'Step count' is not a number: 'many'" in not_a_number.reason
    assert "more cells than the header" in extra.reason and "surprise" in extra.excerpt


def test_broken_csv_files_are_member_errors():
    with pytest.raises(MemberError, match="empty"):
        run(fit.parse_daily_metrics, b"", "Fit/Daily activity metrics/Daily activity metrics.csv")
    with pytest.raises(MemberError, match="UTF-8"):
        run(
            fit.parse_daily_metrics,
            b"Date,Steps\n2021-01-01,\xff\xfe\n",
            "Fit/x/Daily activity metrics.csv",
        )


def test_reads_zip_members(tmp_path: Path):
    archive = tmp_path / "t.zip"
    names = {
        "Takeout/Fit/Daily activity metrics/Daily activity metrics.csv": DAILY,
        "Takeout/Fit/Daily activity metrics/2021-06-10.csv": INTERVALS,
    }
    with zipfile.ZipFile(archive, "w") as zf:
        for name, text in names.items():
            zf.writestr(name, "\ufeff" + text)
    with zipfile.ZipFile(archive) as zf:
        with zf.open("Takeout/Fit/Daily activity metrics/Daily activity metrics.csv") as member:
            daily = list(fit.parse_daily_metrics(member, PurePosixPath("x.csv")))
        with zf.open("Takeout/Fit/Daily activity metrics/2021-06-10.csv") as member:
            intervals = list(fit.parse_intervals(member, PurePosixPath("Fit/d/2021-06-10.csv")))
    assert len(daily) == 11 and daily[0].metric == "active_minutes"  # the BOM is not a header
    assert len(intervals) == 5


@pytest.mark.parametrize(
    "path",
    [
        "Takeout/Fit/All Sessions/2021-06-09T13_36_25+02_00_WALKING.json",
        "Takeout/Google Fit/Alle Sitzungen/2021-06-09T13_36_25+02_00_GEHEN.json",
        "Takeout/Fit/Все сеансы/2021-06-09T13_36_25+03_00_SLEEP.json",
        "Takeout/Fit/Toutes les sessions/2021-06-09T13_36_25+02_00_WALKING.json",
    ],
)
def test_session_matches(path: str):
    assert fit.matches_session(PurePosixPath(path))


@pytest.mark.parametrize(
    "path",
    [
        "Takeout/Fit/All Data/derived_com.google.calories.bmr_com.google.and.json",
        "Takeout/My Activity/Fit/MyActivity.json",
        "Takeout/Google Photos/Fit/2021-06-09T13_36_25.jpg.json",
        "2021-06-09T13_36_25+02_00_WALKING.json",
        "Takeout/Fit/Activities/2017-10-29T23_08_59Z_PT2M5.699S_Other.tcx",
    ],
)
def test_session_does_not_match(path: str):
    assert not fit.matches_session(PurePosixPath(path))


def test_csv_matching():
    daily = PurePosixPath("Takeout/Fit/Daily activity metrics/Daily activity metrics.csv")
    day = PurePosixPath("Takeout/Fit/Daily activity metrics/2021-06-10.csv")
    korean = PurePosixPath("Takeout/Fit/일일 활동 측정항목/일일 활동 측정항목.csv")
    assert fit.matches_daily_metrics(daily) and not fit.matches_intervals(daily)
    assert fit.matches_intervals(day) and not fit.matches_daily_metrics(day)
    assert fit.matches_daily_metrics(korean)
    assert fit.matches_daily_metrics(PurePosixPath("Daily Summaries.csv"))  # lone, older name
    for other in (
        "Takeout/Saved/Favourites.csv",
        "Takeout/YouTube/subscriptions.csv",
        "2021-06-10.csv",
    ):
        assert not fit.matches_daily_metrics(PurePosixPath(other))
        assert not fit.matches_intervals(PurePosixPath(other))


def test_sniffers():
    assert fit.sniff_session(json.dumps(SESSION, indent=2).encode())
    assert not fit.sniff_session(b'{"locations": []}')
    assert fit.sniff_daily_metrics(DAILY.encode())
    assert fit.sniff_intervals(INTERVALS.encode())
    assert not fit.sniff_daily_metrics(INTERVALS.encode())
    assert not fit.sniff_intervals(b"Title,Note,URL,Tags,Comment\n")
    assert not fit.sniff_daily_metrics(b"Date,Amount,Currency\n")
    # Localised headers of lone files (csv_columns.py names the sources).
    assert fit.sniff_daily_metrics(b"Datum,Schrittzahl,Kalorien (kcal)\n")
    assert fit.sniff_daily_metrics("Fecha,Calorías (kcal),Recuento de pasos\n".encode())
    assert fit.sniff_intervals(b"Beginn,Ende,Schrittzahl\n")
    assert not fit.sniff_intervals(b"Beginn,Ende,Betrag\n")


def test_a_whole_german_per_day_header_is_known():
    # The header as seen in a German export (corpus file 57355507879, csv_columns.py).
    header = (
        "Beginn,Ende,Anzahl der Aktivitätsminuten,Kalorien (kcal),Distanz (m),Kardiopunkte,"
        "Kardiominuten,Durchschnittliche Herzfrequenz (bpm),Maximale Herzfrequenz (bpm),"
        "Minimale Herzfrequenz (bpm),Minimaler Breitengrad (Grad),Minimaler Längengrad (Grad),"
        "Maximaler Breitengrad (Grad),Maximaler Längengrad (Grad),"
        "Durchschnittliche Sauerstoffsättigung (%),Max. Sauerstoffsättigung (%),"
        "Min. Sauerstoffsättigung (%),"
        "Durchschnittliche Durchflussmenge der Sauerstoffgabe (L/Min.),"
        "Max. Durchflussmenge der Sauerstoffgabe (L/Min.),"
        "Min. Durchflussmenge der Sauerstoffgabe (L/Min.),"
        "Verabreichungsform für Sauerstofftherapie,Sauerstoffsättigungssystem,"
        "Verfahren zur Messung der Sauerstoffsättigung,Durchschnittsgeschwindigkeit (m/s),"
        "Maximale Geschwindigkeit (m/s),Minimale Geschwindigkeit (m/s),Schrittzahl,"
        "Durchschnittsgewicht (kg),Maximales Gewicht (kg),Minimales Gewicht (kg)"
    )
    row = ["08:00:00.000+01:00", "08:15:00.000+01:00"] + [""] * 28
    row[2], row[15], row[26] = "3", "97", "412"
    data = f"{header}\n{','.join(row)}\n".encode()
    records = run(
        fit.parse_intervals, data, "Takeout/Google Fit/Tägliche Aktivitätswerte/2021-06-10.csv"
    )
    assert [(r.metric, r.text) for r in records] == [
        ("active_minutes", "3"),
        ("oxygen_saturation_max", "97"),
        ("steps", "412"),
    ]
