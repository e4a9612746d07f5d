"""Chrome BrowserHistory.json / History.json."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from pathlib import PurePosixPath

import pytest

from apps.lake.takeout import chrome
from apps.lake.takeout.records import BadRecord, EventRecord, MemberError

PATH = PurePosixPath("Takeout/Chrome/History.json")

VISITS = [
    {
        "favicon_url": "https://github.com/favicon.ico",
        "page_transition": "LINK",
        "title": "GitHub",
        "url": "https://github.com/",
        "client_id": "XXXX==",
        "time_usec": 1544293205427445,
    },
    {
        # Newer exports name the transition "page_transition_qualifier".
        "page_transition_qualifier": "CLIENT_REDIRECT",
        "title": "",
        "url": "chrome://newtab/",
        "client_id": "XXXX==",
        "time_usec": "1617404690134513",
    },
]


def parse(data: bytes, path: PurePosixPath = PATH) -> list:
    return list(chrome.parse(io.BytesIO(data), path))


def history(items: list) -> bytes:
    return json.dumps({"Browser History": items}, indent=4).encode()


def test_visits() -> None:
    github, newtab = parse(history(VISITS))

    assert github == EventRecord(
        kind="chrome.visit",
        occurred_at=datetime(2018, 12, 8, 18, 20, 5, 427445, tzinfo=UTC),
        title="GitHub",
        url="https://github.com/",
        data=VISITS[0],
    )
    assert newtab.occurred_at == datetime(2021, 4, 2, 23, 4, 50, 134513, tzinfo=UTC)
    assert newtab.data["page_transition_qualifier"] == "CLIENT_REDIRECT"


def test_bad_visits_are_quarantined() -> None:
    items = [{"title": "no time", "url": "https://a.example/"}, {"time_usec": "soon"}, 42]
    no_time, bad_time, junk, good = parse(history([*items, VISITS[0]]))
    assert isinstance(good, EventRecord)
    assert isinstance(no_time, BadRecord) and no_time.reason == "visit without time_usec"
    assert "not a microsecond timestamp" in bad_time.reason
    assert junk.reason == "visit is not a JSON object" and junk.excerpt == "42"


def test_truncated_file_raises_member_error() -> None:
    with pytest.raises(MemberError, match="invalid or truncated JSON"):
        parse(history(VISITS)[:-30])


@pytest.mark.parametrize(
    "path",
    [
        "Takeout/Chrome/BrowserHistory.json",
        "Takeout/Chrome/History.json",
        "Takeout/Chrome/Verlauf.json",
        "Takeout/Chrome/Historial.json",
        "BrowserHistory.json",
    ],
)
def test_matches(path: str) -> None:
    assert chrome.matches(PurePosixPath(path))


@pytest.mark.parametrize(
    "path",
    [
        "History.json",
        "Takeout/My Activity/Chrome/MyActivity.json",
        "Takeout/Chrome/Bookmarks.html",
        "Takeout/Chrome/Settings.json",
        "Takeout/YouTube and YouTube Music/history/watch-history.json",
        "Takeout/Other/History.json",
    ],
)
def test_does_not_match_other_files(path: str) -> None:
    assert not chrome.matches(PurePosixPath(path))


def test_sniff() -> None:
    assert chrome.sniff(history(VISITS)[:200])
    assert chrome.sniff(b'\xef\xbb\xbf{"Browser History": [')
    assert not chrome.sniff(b'{"locations": []}')
    assert not chrome.sniff(b'[{"header": "Chrome", "title": "Visited x"}]')
