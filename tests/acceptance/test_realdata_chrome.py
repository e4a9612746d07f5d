"""Chrome history against real files (SOURCES.md: history-report REAL, google_takeout_parser)."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath

from apps.lake.takeout import chrome
from apps.lake.takeout.records import EventRecord


def parse(file: Path) -> list:
    with file.open("rb") as stream:
        records = list(chrome.parse(stream, PurePosixPath("Takeout/Chrome/BrowserHistory.json")))
    assert all(isinstance(r, EventRecord) for r in records), records
    return records


def test_browser_history_sample(realdata: Path) -> None:
    file = realdata / "history-report/historyreport/var/samples/BrowserHistory.json"
    assert chrome.matches(PurePosixPath("Takeout/Chrome/BrowserHistory.json"))
    assert chrome.sniff(file.read_bytes()[:8192])

    records = parse(file)

    assert len(records) == 7
    assert Counter(r.data["page_transition"] for r in records) == {
        "LINK": 4,
        "TYPED": 2,
        "RELOAD": 1,
    }
    assert {r.kind for r in records} == {"chrome.visit"}
    assert records[0].title == "MichaelCurrin (Michael Currin)"
    assert records[0].url == "https://github.com/MichaelCurrin"
    assert min(r.occurred_at for r in records) == datetime(
        2018, 8, 21, 19, 39, 9, 253125, tzinfo=UTC
    )
    assert max(r.occurred_at for r in records) == datetime(
        2018, 12, 8, 20, 56, 41, 79441, tzinfo=UTC
    )
    assert sum(1 for r in records if "favicon_url" in r.data) == 2


def test_google_takeout_parser_chrome_history(realdata: Path) -> None:
    file = realdata / "google_takeout_parser/tests/test_json_extracted/test_chrome_history.json"
    (record,) = parse(file)
    assert record.data["page_transition"] == "LINK"
    assert (record.title, record.url) == ("title", "https://purarue.xyz")
    assert record.occurred_at == datetime(2021, 4, 2, 23, 4, 50, 134513, tzinfo=UTC)
