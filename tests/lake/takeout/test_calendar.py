import io
import json
import zipfile
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path, PurePosixPath

import pytest

from apps.lake.takeout import calendar
from apps.lake.takeout.records import BadRecord, EventRecord, MemberError

HEADER = (
    "BEGIN:VCALENDAR\r\n"
    "PRODID:-//Google Inc//Google Calendar 70.9054//EN\r\n"
    "VERSION:2.0\r\n"
    "X-WR-CALNAME:Private\r\n"
    "X-WR-TIMEZONE:Europe/Berlin\r\n"
)
CUSTOM_ZONE = (
    "BEGIN:VTIMEZONE\r\n"
    "TZID:Office Time\r\n"
    "BEGIN:STANDARD\r\n"
    "DTSTART:19700101T000000\r\n"
    "TZOFFSETFROM:+0300\r\n"
    "TZOFFSETTO:+0300\r\n"
    "END:STANDARD\r\n"
    "END:VTIMEZONE\r\n"
)


def event(*lines: str) -> str:
    return "BEGIN:VEVENT\r\n" + "".join(line + "\r\n" for line in lines) + "END:VEVENT\r\n"


def ics(*events: str, zones: str = "") -> bytes:
    return (HEADER + zones + "".join(events) + "END:VCALENDAR\r\n").encode()


def parse(data: bytes, name: str = "Takeout/Calendar/Private.ics") -> list:
    return list(calendar.parse(io.BytesIO(data), PurePosixPath(name)))


def test_timed_event_with_iana_zone_and_fields():
    (record,) = parse(
        ics(
            event(
                "DTSTART;TZID=America/Los_Angeles:20120801T050000",
                "DTEND;TZID=America/Los_Angeles:20120801T060000",
                "RRULE:FREQ=DAILY",
                "UID:abc@google.com",
                "SUMMARY:Standup\\, daily",
                "DESCRIPTION:Line one\\nLine two",
                "LOCATION:Room 1",
                "URL:https://example.com/meet",
                "GEO:48.1371;11.5754",
                "ATTENDEE;CN=Ann;PARTSTAT=ACCEPTED:mailto:ann@example.com",
                "ATTENDEE;CN=Bob:mailto:bob@example.com",
                "BEGIN:VALARM",
                "ACTION:DISPLAY",
                "TRIGGER:-PT30M",
                "END:VALARM",
            )
        )
    )
    assert isinstance(record, EventRecord)
    assert record.kind == "calendar.event"
    assert record.occurred_at == datetime(2012, 8, 1, 12, 0, tzinfo=UTC)
    assert record.occurred_at.utcoffset() == timedelta(hours=-7)
    assert record.ended_at == datetime(2012, 8, 1, 13, 0, tzinfo=UTC)
    assert record.title == "Standup, daily"
    assert record.text == "Line one\nLine two"
    assert record.url == "https://example.com/meet"
    assert (record.latitude, record.longitude) == (48.1371, 11.5754)
    props = record.data["properties"]
    assert props["RRULE"] == [{"value": "FREQ=DAILY"}]
    assert props["DTSTART"] == [
        {"value": "20120801T050000", "params": {"TZID": "America/Los_Angeles"}}
    ]
    assert [a["params"]["CN"] for a in props["ATTENDEE"]] == ["Ann", "Bob"]
    assert props["LOCATION"] == [{"value": "Room 1"}]
    assert record.data["components"][0]["name"] == "VALARM"
    assert record.data["calendar"]["X-WR-CALNAME"] == "Private"
    assert "all_day" not in record.data
    json.dumps(record.data)  # the writer stores it as JSON


def test_all_day_event_is_midnight_utc_and_marked():
    (record,) = parse(
        ics(event("DTSTART;VALUE=DATE:20141210", "DTEND;VALUE=DATE:20141211", "SUMMARY:Birthday"))
    )
    assert record.occurred_at == datetime(2014, 12, 10, tzinfo=UTC)
    assert record.ended_at == datetime(2014, 12, 11, tzinfo=UTC)
    assert record.data["all_day"] is True


def test_utc_time_duration_instead_of_dtend():
    (record,) = parse(ics(event("DTSTART:20200102T030405Z", "DURATION:PT90M", "SUMMARY:x")))
    assert record.occurred_at == datetime(2020, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert record.ended_at == record.occurred_at + timedelta(minutes=90)


def test_zone_defined_in_the_file_is_used():
    (record,) = parse(
        ics(event("DTSTART;TZID=Office Time:20200102T120000", "SUMMARY:x"), zones=CUSTOM_ZONE)
    )
    assert record.occurred_at.utcoffset() == timedelta(hours=3)
    assert record.occurred_at == datetime(2020, 1, 2, 9, 0, tzinfo=UTC)


def test_windows_zone_name_is_resolved():
    (record,) = parse(ics(event("DTSTART;TZID=W. Europe Standard Time:20200702T120000")))
    assert record.occurred_at == datetime(2020, 7, 2, 10, 0, tzinfo=UTC)


def test_floating_time_takes_the_calendar_zone():
    (record,) = parse(ics(event("DTSTART:20200702T120000", "SUMMARY:x")))
    assert record.occurred_at == datetime(2020, 7, 2, 10, 0, tzinfo=UTC)
    assert record.data["floating_time_zone"] == "Europe/Berlin"


def test_bad_events_are_quarantined_and_the_others_continue():
    records = parse(
        ics(
            event("SUMMARY:no start"),
            event("DTSTART:garbage", "SUMMARY:bad start"),
            event("DTSTART;TZID=Nowhere/Atlantis:20200101T100000", "SUMMARY:unknown zone"),
            event("DTSTART:20200101T100000Z", "GEO:95.0;10.0", "SUMMARY:off the globe"),
            event("DTSTART:20200101T100000Z", "SUMMARY:fine"),
        )
    )
    assert [type(r) for r in records] == [BadRecord] * 4 + [EventRecord]
    assert "no start time" in records[0].reason
    assert "not a date or time" in records[1].reason
    assert "unknown time zone 'Nowhere/Atlantis'" in records[2].reason
    assert "outside the globe" in records[3].reason
    assert "SUMMARY:bad start" in records[1].excerpt
    assert records[4].title == "fine"


def test_truncated_file_quarantines_the_last_event():
    data = (
        HEADER + event("DTSTART:20200101T100000Z", "SUMMARY:ok") + "BEGIN:VEVENT\r\nDTSTART:2020"
    ).encode()
    records = parse(data)
    assert isinstance(records[0], EventRecord)
    assert isinstance(records[1], BadRecord)
    assert "ends before its END:VEVENT" in records[1].reason


def test_oversized_event_is_quarantined_without_being_held(monkeypatch):
    monkeypatch.setattr(calendar, "EVENT_LIMIT", 200)
    big = event("DTSTART:20200101T100000Z", "DESCRIPTION:" + "x" * 500)
    records = parse(ics(big, event("DTSTART:20200101T100000Z", "SUMMARY:small")))
    assert isinstance(records[0], BadRecord) and "larger than" in records[0].reason
    assert records[1].title == "small"


def test_not_a_calendar_is_a_member_error():
    with pytest.raises(MemberError, match="not an iCalendar file"):
        parse(b"hello\nworld\n")
    with pytest.raises(MemberError):
        parse(b"")


def test_reads_a_non_seekable_zip_member(tmp_path: Path):
    archive = tmp_path / "takeout.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr(
            "Takeout/Kalender/Privat.ics", ics(event("DTSTART:20200101T100000Z", "SUMMARY:z"))
        )
    with zipfile.ZipFile(archive) as zf, zf.open("Takeout/Kalender/Privat.ics") as member:
        records = list(calendar.parse(member, PurePosixPath("Takeout/Kalender/Privat.ics")))
    assert [r.title for r in records] == ["z"]


def test_utf8_bom_and_lf_line_endings():
    data = b"\xef\xbb\xbf" + ics(event("DTSTART:20200101T100000Z", "SUMMARY:Grüße")).replace(
        b"\r\n", b"\n"
    )
    (record,) = parse(data)
    assert record.title == "Grüße"


@pytest.mark.parametrize(
    "path",
    [
        "Takeout/Calendar/Private.ics",
        "Takeout/Kalender/Privat.ics",
        "Takeout/Agenda/Travail.ICS",
        "Takeout/Calendario/Trabajo.ics",
        "birthdays.ics",
    ],
)
def test_matches_calendars(path: str):
    assert calendar.matches(PurePosixPath(path))


@pytest.mark.parametrize(
    "path",
    [
        "Takeout/Calendar/settings.json",
        "Takeout/Contacts/All/All.vcf",
        "Takeout/Mail/All mail.mbox",
    ],
)
def test_does_not_match_other_files(path: str):
    assert not calendar.matches(PurePosixPath(path))


def test_sniff():
    assert calendar.sniff(b"\xef\xbb\xbfBEGIN:VCALENDAR\r\nVERSION:2.0\r\n")
    assert not calendar.sniff(b"BEGIN:VCARD\r\nVERSION:3.0\r\n")
    assert not calendar.sniff(b'{"locations": []}')


def test_offset_kept_for_aware_times():
    (record,) = parse(ics(event("DTSTART;TZID=Asia/Kolkata:20200101T100000")))
    assert record.occurred_at.utcoffset() == timezone(timedelta(hours=5, minutes=30)).utcoffset(
        None
    )
