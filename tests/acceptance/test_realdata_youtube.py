"""YouTube against real files (SOURCES.md: google_takeout_parser likes, anonymised REAL).

No real watch-history or search-history file is published (see the Gaps in
SOURCES.md); those share My Activity's reader, covered by its acceptance test.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path, PurePosixPath

from apps.lake.takeout import youtube
from apps.lake.takeout.records import EventRecord


def test_likes_playlist(realdata: Path) -> None:
    file = realdata / "google_takeout_parser/tests/test_json_extracted/test_parse_likes_json.json"
    likes = next(p for p in youtube.PARSERS if p.product == "youtube.likes")
    member = PurePosixPath("Takeout/YouTube and YouTube Music/playlists/likes.json")
    assert likes.matches(member)
    assert likes.sniff is not None and likes.sniff(file.read_bytes()[:8192])

    with file.open("rb") as stream:
        records = list(likes.parse(stream, member))

    assert len(records) == 1
    (record,) = records
    assert isinstance(record, EventRecord)
    assert record.kind == "youtube.like"
    assert record.occurred_at == datetime(2020, 7, 5, 18, 27, 32, tzinfo=UTC)
    assert record.url == "https://www.youtube.com/watch?v=J1tF-DKKt7k"
    assert record.title.startswith("[Maybe]Blood Blockade Battlefront ED")
    assert record.data["snippet"]["position"] == 4
