"""A synthetic Google Takeout, shaped like the real thing, for the demo,
the tests and the benchmark. Deterministic for a given seed.

Every product Datapunk reads gets a few items, plus one unreadable item and
one member no parser knows, so a demo import shows quarantine and skips too.
"""

from __future__ import annotations

import json
import random
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

START = datetime(2024, 3, 1, 8, 0, tzinfo=UTC)
# Around Lisbon: a plausible, nobody's-real-life place for demo data.
HOME = (38.7223, -9.1393)


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def records_json_lines(count: int, *, seed: int = 1, start: datetime = START) -> Iterator[bytes]:
    """Records.json with ``count`` locations, as chunks of bytes (for files of any size)."""
    rng = random.Random(seed)
    lat, lng = HOME
    yield b'{\n  "locations": [\n'
    moment = start
    for index in range(count):
        moment += timedelta(seconds=rng.randint(20, 120))
        lat += rng.uniform(-0.0005, 0.0005)
        lng += rng.uniform(-0.0005, 0.0005)
        item: dict[str, Any] = {
            "latitudeE7": int(lat * 1e7),
            "longitudeE7": int(lng * 1e7),
            "accuracy": rng.randint(3, 40),
            "source": rng.choice(("GPS", "WIFI", "CELL")),
            "deviceTag": 1234567890,
            "timestamp": _iso(moment),
        }
        if index % 10 == 0:
            item["activity"] = [
                {"activity": [{"type": "STILL", "confidence": 90}], "timestamp": _iso(moment)}
            ]
        yield b"    " + json.dumps(item).encode() + (b",\n" if index < count - 1 else b"\n")
    yield b"  ]\n}\n"


# Places the demo person goes to from HOME, one a day in turn.
OUTINGS = (
    (38.7077, -9.1365),  # Praça do Comércio
    (38.6916, -9.2160),  # Belém
    (38.7118, -9.1300),  # Alfama
    (38.7681, -9.0947),  # Parque das Nações
)


def routine_records_json(count: int, *, days: int, seed: int = 1, start: datetime = START) -> bytes:
    """Records.json with ``count`` fixes over ``days`` days: each day a stay at home,
    a trip to one of OUTINGS, a stay there and the way back, so that maps, stays
    and distance per day have something to show."""
    rng = random.Random(seed)
    days = max(1, min(days, count))
    locations: list[dict[str, Any]] = []
    for day in range(days):
        n = count // days + (count % days if day == days - 1 else 0)
        home, away = HOME, OUTINGS[day % len(OUTINGS)]
        # (share of the day's fixes, from, to, seconds between fixes)
        legs = (
            (0.2, home, home, 90),
            (0.2, home, away, 30),
            (0.3, away, away, 90),
            (0.2, away, home, 30),
            (0.1, home, home, 90),
        )
        moment = start + timedelta(days=day)
        done = 0
        for index, (share, origin, target, step) in enumerate(legs):
            size = n - done if index == len(legs) - 1 else int(n * share)
            for i in range(size):
                f = (i + 1) / size
                lat = origin[0] + (target[0] - origin[0]) * f + rng.uniform(-8e-5, 8e-5)
                lng = origin[1] + (target[1] - origin[1]) * f + rng.uniform(-8e-5, 8e-5)
                moment += timedelta(seconds=rng.randint(step // 2, step * 3 // 2))
                locations.append(
                    {
                        "latitudeE7": int(lat * 1e7),
                        "longitudeE7": int(lng * 1e7),
                        "accuracy": rng.randint(3, 30),
                        "source": rng.choice(("GPS", "WIFI")),
                        "deviceTag": 1234567890,
                        "timestamp": _iso(moment),
                    }
                )
            done += size
    return json.dumps({"locations": locations}, indent=1).encode()


def write_records_zip(path: Path, count: int, *, seed: int = 1) -> Path:
    """A Takeout zip holding only a Records.json of ``count`` points (the benchmark's input)."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        with archive.open(
            "Takeout/Location History (Timeline)/Records.json", "w", force_zip64=True
        ) as member:
            for chunk in records_json_lines(count, seed=seed):
                member.write(chunk)
    return path


def device_timeline_lines(count: int, *, seed: int = 1, per_segment: int = 120) -> Iterator[bytes]:
    """An on-device Timeline.json (Android export) of ``count`` timelinePath points,
    ``per_segment`` to a segment, as chunks (the benchmark's third case)."""
    rng = random.Random(seed)
    lat, lng = HOME
    moment = START
    yield b'{\n  "semanticSegments": [\n'
    segments = max(1, -(-count // per_segment))
    left = count
    for index in range(segments):
        points = []
        started = moment
        for _ in range(min(per_segment, left)):
            moment += timedelta(seconds=rng.randint(20, 120))
            lat += rng.uniform(-0.0005, 0.0005)
            lng += rng.uniform(-0.0005, 0.0005)
            points.append({"point": f"{lat:.7f}\u00b0, {lng:.7f}\u00b0", "time": _iso(moment)})
        left -= len(points)
        segment = {"startTime": _iso(started), "endTime": _iso(moment), "timelinePath": points}
        yield b"    " + json.dumps(segment).encode() + (b",\n" if index < segments - 1 else b"\n")
    yield b"  ]\n}\n"


def write_device_timeline_zip(path: Path, count: int, *, seed: int = 1) -> Path:
    """A zip holding one on-device Timeline.json of ``count`` path points."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        with archive.open("Timeline.json", "w", force_zip64=True) as member:
            for chunk in device_timeline_lines(count, seed=seed):
                member.write(chunk)
    return path


# The All Data files of the Fit benchmark and their share of its points: two
# kinds of events and one of location samples, as a phone's export mixes them.
FIT_ALL_DATA_FILES = (
    ("derived_com.google.step_count.delta_com.google.android.gms_estimated_steps", 0.4),
    ("derived_com.google.heart_rate.bpm_com.google.android.gms_merge_heart_rate_bpm", 0.3),
    ("derived_com.google.location.sample_com.google.android.gms_merge_location_samples", 0.3),
)


def fit_all_data_lines(name: str, count: int, *, seed: int = 1) -> Iterator[bytes]:
    """One ``Fit/All Data`` file of ``count`` points of the type its name says, as chunks."""
    rng = random.Random(seed)
    # "derived_<data type>_<app>_<stream>": the type has underscores of its own (step_count).
    data_type = name.removeprefix("derived_").split("_com.google.android.gms")[0]
    lat, lng = HOME
    nanos = int(START.timestamp()) * 10**9
    yield b'{\n  "Data Source": "' + name.encode() + b'",\n  "Data Points": [\n'
    for index in range(count):
        nanos += rng.randint(20, 120) * 10**9
        if data_type == "com.google.location.sample":
            lat += rng.uniform(-0.0005, 0.0005)
            lng += rng.uniform(-0.0005, 0.0005)
            values = [{"fpVal": lat}, {"fpVal": lng}, {"fpVal": float(rng.randint(3, 40))}]
        elif data_type == "com.google.heart_rate.bpm":
            values = [{"fpVal": float(rng.randint(55, 160))}]
        else:
            values = [{"intVal": rng.randint(1, 120)}]
        item = {
            "fitValue": [{"value": value} for value in values],
            "originDataSourceId": "raw:com.google.step_count.cumulative:Google:Pixel:1234",
            "endTimeNanos": nanos + 60 * 10**9,
            "dataTypeName": data_type,
            "startTimeNanos": nanos,
            "modifiedTimeMillis": nanos // 10**6 + 1000,
        }
        yield b"    " + json.dumps(item).encode() + (b",\n" if index < count - 1 else b"\n")
    yield b"  ]\n}\n"


def write_fit_all_data_zip(path: Path, count: int, *, seed: int = 1) -> Path:
    """A Takeout zip of Fit All Data files holding ``count`` points in all (a benchmark's input)."""
    counts = [int(count * share) for _, share in FIT_ALL_DATA_FILES]
    counts[0] += count - sum(counts)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        for (name, _), number in zip(FIT_ALL_DATA_FILES, counts, strict=True):
            with archive.open(f"Takeout/Fit/All Data/{name}.json", "w", force_zip64=True) as member:
                for chunk in fit_all_data_lines(name, number, seed=seed):
                    member.write(chunk)
    return path


def _semantic_month(rng: random.Random) -> dict:
    objects = []
    moment = START
    for day in range(5):
        begin = moment + timedelta(days=day, hours=1)
        end = begin + timedelta(hours=3)
        objects.append(
            {
                "placeVisit": {
                    "location": {
                        "latitudeE7": 387223000 + day * 1000,
                        "longitudeE7": -91393000,
                        "placeId": f"ChIJdemo{day}",
                        "address": f"Rua Exemplo {day}, Lisboa",
                        "name": f"Café {day}",
                        "locationConfidence": 80.5,
                    },
                    "duration": {"startTimestamp": _iso(begin), "endTimestamp": _iso(end)},
                    "placeConfidence": "HIGH_CONFIDENCE",
                }
            }
        )
        objects.append(
            {
                "activitySegment": {
                    "startLocation": {"latitudeE7": 387223000, "longitudeE7": -91393000},
                    "endLocation": {"latitudeE7": 387300000, "longitudeE7": -91400000},
                    "duration": {
                        "startTimestamp": _iso(end),
                        "endTimestamp": _iso(end + timedelta(minutes=20)),
                    },
                    "distance": 1200,
                    "activityType": "WALKING",
                    "confidence": "HIGH",
                }
            }
        )
    return {"timelineObjects": objects}


def _activity(header: str, title: str, url: str, moment: datetime) -> dict:
    return {
        "header": header,
        "title": title,
        "titleUrl": url,
        "time": _iso(moment),
        "products": [header],
    }


def build_sample_takeout(path: Path, *, points: int = 500, seed: int = 7, days: int = 14) -> Path:
    """A small but complete Takeout zip: every product, one bad item, one unknown member;
    ``points`` location fixes spread over ``days`` days of comings and goings."""
    rng = random.Random(seed)
    files: dict[str, bytes | str] = {}
    files["Takeout/Location History (Timeline)/Records.json"] = routine_records_json(
        points, days=days, seed=seed
    )
    files["Takeout/Location History (Timeline)/Semantic Location History/2024/2024_MARCH.json"] = (
        json.dumps(_semantic_month(rng))
    )
    searches = [
        _activity(
            "Search",
            f"Searched for {q}",
            f"https://www.google.com/search?q={q}",
            START + timedelta(hours=i),
        )
        for i, q in enumerate(["tram 28 timetable", "pastel de nata", "fado tonight"])
    ]
    searches.append(
        {
            "header": "Search",
            "title": "Searched for a time that is not a time",
            "time": "yesterday-ish",
        }
    )
    files["Takeout/My Activity/Search/MyActivity.json"] = json.dumps(searches)
    files["Takeout/YouTube and YouTube Music/history/watch-history.json"] = json.dumps(
        [
            {
                **_activity(
                    "YouTube",
                    f"Watched Lisbon walk part {i}",
                    f"https://www.youtube.com/watch?v=demo{i}",
                    START + timedelta(days=i, hours=20),
                ),
                "subtitles": [
                    {"name": "Walking Channel", "url": "https://www.youtube.com/channel/demo"}
                ],
            }
            for i in range(4)
        ]
    )
    files["Takeout/Chrome/History.json"] = json.dumps(
        {
            "Browser History": [
                {
                    "title": f"Page {i}",
                    "url": f"https://example.org/{i}",
                    "time_usec": int((START + timedelta(minutes=7 * i)).timestamp() * 1e6),
                    "page_transition": "LINK",
                    "client_id": "demo",
                }
                for i in range(6)
            ]
        }
    )
    files["Takeout/Keep/Shopping.json"] = json.dumps(
        {
            "title": "Shopping",
            "textContent": "",
            "isTrashed": False,
            "isPinned": True,
            "isArchived": False,
            "color": "DEFAULT",
            "listContent": [
                {"text": "sardines", "isChecked": False},
                {"text": "bread", "isChecked": True},
            ],
            "userEditedTimestampUsec": int(START.timestamp() * 1e6) + 5,
            "createdTimestampUsec": int(START.timestamp() * 1e6),
        }
    )
    files["Takeout/Calendar/Demo.ics"] = (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Google Inc//Google Calendar 70.9054//EN\r\n"
        "BEGIN:VEVENT\r\nDTSTART:20240305T180000Z\r\nDTEND:20240305T200000Z\r\nUID:demo-1@google.com\r\n"
        "SUMMARY:Fado night\r\nDESCRIPTION:Alfama\r\nEND:VEVENT\r\n"
        "BEGIN:VEVENT\r\nDTSTART;VALUE=DATE:20240310\r\nDTEND;VALUE=DATE:20240311\r\nUID:demo-2@google.com\r\n"
        "SUMMARY:Day trip to Sintra\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    )
    files["Takeout/Contacts/My Contacts/My Contacts.vcf"] = (
        "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Ana Demo\r\nN:Demo;Ana;;;\r\nEMAIL;TYPE=INTERNET:ana@example.org\r\nEND:VCARD\r\n"
        "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Rui Exemplo\r\nN:Exemplo;Rui;;;\r\nTEL;TYPE=CELL:+351 900 000 000\r\nEND:VCARD\r\n"
    )
    files["Takeout/Mail/All mail Including Spam and Trash.mbox"] = (
        "From 1234567890@xxx Tue Mar 05 10:00:00 +0000 2024\n"
        "X-GM-THRID: 1700000000000000001\nX-Gmail-Labels: Inbox,Important\n"
        "From: Ana Demo <ana@example.org>\nTo: me@example.org\nSubject: Dinner?\n"
        "Date: Tue, 05 Mar 2024 10:00:00 +0000\nMessage-ID: <demo-1@example.org>\n"
        "Content-Type: text/plain; charset=utf-8\n\nFado night on Tuesday?\n\n"
        "From 1234567891@xxx Wed Mar 06 09:30:00 +0000 2024\n"
        "X-GM-THRID: 1700000000000000001\nX-Gmail-Labels: Sent\n"
        "From: me@example.org\nTo: Ana Demo <ana@example.org>\nSubject: Re: Dinner?\n"
        "Date: Wed, 06 Mar 2024 09:30:00 +0000\nMessage-ID: <demo-2@example.org>\n"
        "Content-Type: text/plain; charset=utf-8\n\nYes!\n"
    )
    files["Takeout/Maps (your places)/Saved Places.json"] = json.dumps(
        {
            "type": "FeatureCollection",
            "features": [
                {
                    "geometry": {"coordinates": [-9.1334, 38.7139], "type": "Point"},
                    "properties": {
                        "date": "2024-03-02T12:00:00Z",
                        "google_maps_url": "http://maps.google.com/?cid=1",
                        "location": {
                            "address": "Praça do Comércio, Lisboa",
                            "name": "Praça do Comércio",
                        },
                    },
                    "type": "Feature",
                }
            ],
        }
    )
    files["Takeout/Google Play Store/Installs.json"] = json.dumps(
        [
            {
                "install": {
                    "doc": {"documentType": "Android Apps", "title": "Transit Demo"},
                    "firstInstallationTime": "2024-03-01T09:00:00.000Z",
                    "deviceAttribute": {"model": "Pixel"},
                    "lastUpdateTime": "2024-03-04T09:00:00.000Z",
                }
            }
        ]
    )
    files["Takeout/Fit/All Sessions/2024-03-03T07_00_00.000Z_WALKING.json"] = json.dumps(
        {
            "fitnessActivity": "walking",
            "startTime": "2024-03-03T07:00:00.000Z",
            "endTime": "2024-03-03T07:45:00.000Z",
            "duration": "2700s",
            "aggregate": [{"metricName": "com.google.step_count.delta", "intValue": 4200}],
        }
    )
    files["Takeout/Google Photos/Lisbon 2024/IMG_0001.jpg.supplemental-metadata.json"] = json.dumps(
        {
            "title": "IMG_0001.jpg",
            "description": "",
            "photoTakenTime": {
                "timestamp": str(int((START + timedelta(days=2)).timestamp())),
                "formatted": "Mar 3, 2024",
            },
            "geoData": {"latitude": 38.6916, "longitude": -9.2160, "altitude": 0.0},
        }
    )
    files["Takeout/Google Photos/Lisbon 2024/IMG_0001.jpg"] = (
        b"\xff\xd8\xff\xe0 demo jpeg bytes \xff\xd9"
    )
    files["Takeout/archive_browser.html"] = "<html><body>Takeout index page</body></html>"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, content in files.items():
            archive.writestr(name, content if isinstance(content, bytes) else content.encode())
    return path
