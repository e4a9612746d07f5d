"""Play Store against real files (SOURCES.md: google_takeout_parser installs, anonymised REAL)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path, PurePosixPath

from apps.lake.takeout import play
from apps.lake.takeout.records import EventRecord


def test_app_installs(realdata: Path) -> None:
    file = realdata / "google_takeout_parser/tests/test_json_extracted/test_parse_app_installs.json"
    installs = next(p for p in play.PARSERS if p.product == "play.installs")
    member = PurePosixPath("Takeout/Google Play Store/Installs.json")
    assert installs.matches(member)
    head = file.read_bytes()[:8192]
    assert [p.product for p in play.PARSERS if p.sniff and p.sniff(head)] == ["play.installs"]

    with file.open("rb") as stream:
        records = list(installs.parse(stream, member))

    assert len(records) == 1
    (record,) = records
    assert isinstance(record, EventRecord)
    assert record.kind == "play.install"
    assert record.title == "ClickUp - Manage Teams & Tasks"
    assert record.occurred_at == datetime(2022, 3, 14, 7, 6, 12, 70725, tzinfo=UTC)
    assert record.text == "samsung SM-S901E"
    assert record.data["install"]["lastUpdateTime"] == "2024-08-27T22:55:15.184610Z"
