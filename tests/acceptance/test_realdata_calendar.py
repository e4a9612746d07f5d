"""Calendar samples from ical.js: two Google Calendar exports and a Zimbra one (SOURCES.md)."""

from datetime import UTC, datetime
from pathlib import Path, PurePosixPath

import pytest

from apps.lake.takeout import calendar
from apps.lake.takeout.records import EventRecord

SAMPLES = Path("ical.js/samples")


def parse(realdata: Path, name: str) -> list:
    path = realdata / SAMPLES / name
    assert calendar.matches(PurePosixPath(name)) and calendar.sniff(path.read_bytes()[:8192])
    with path.open("rb") as stream:
        return list(calendar.parse(stream, PurePosixPath("Takeout/Calendar") / name))


@pytest.mark.parametrize(
    ("name", "events", "prodid"),
    [
        ("google_birthday.ics", 4, "-//Google Inc//Google Calendar 70.9054//EN"),
        ("daily_recur.ics", 1, "-//Google Inc//Google Calendar 70.9054//EN"),
        ("recur_instances.ics", 3, "Zimbra-Calendar-Provider"),
    ],
)
def test_vevent_counts(realdata: Path, name: str, events: int, prodid: str):
    records = parse(realdata, name)
    assert len(records) == events
    assert all(isinstance(r, EventRecord) and r.kind == "calendar.event" for r in records)
    assert {r.data["calendar"]["PRODID"] for r in records} == {prodid}
    # One RRULE line per file belongs to an event; the others to VTIMEZONE rules.
    assert sum("RRULE" in r.data["properties"] for r in records) == 1


def test_birthdays_are_all_day(realdata: Path):
    records = parse(realdata, "google_birthday.ics")
    assert all(r.data.get("all_day") for r in records)
    assert [r.occurred_at.date().isoformat() for r in records] == [
        "2014-12-10",
        "2012-12-10",
        "2013-12-10",
        "2014-12-10",
    ]
    assert records[0].title == "PErson #2's birthday"
    assert records[1].text == "Today is PErson #2's birthday!"
    assert records[0].data["calendar"]["X-WR-CALNAME"] == "Contacts' birthdays and events"


def test_zoned_times_resolve(realdata: Path):
    (daily,) = parse(realdata, "daily_recur.ics")
    assert daily.occurred_at == datetime(2012, 8, 1, 12, 0, tzinfo=UTC)
    assert daily.data["properties"]["RRULE"] == [{"value": "FREQ=DAILY"}]
    master, moved, later = parse(realdata, "recur_instances.ics")
    assert master.occurred_at == datetime(2012, 10, 2, 17, 0, tzinfo=UTC)
    assert moved.occurred_at == datetime(2012, 10, 2, 22, 0, tzinfo=UTC)
    assert later.occurred_at == datetime(2012, 11, 7, 4, 0, tzinfo=UTC)  # PST by then
    assert len(master.data["properties"]["ATTENDEE"]) == 3
    assert len(master.data["properties"]["EXDATE"]) == 3
