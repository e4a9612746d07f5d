"""My Activity, JSON and HTML flavours (fixtures mimic real Takeout files)."""

from __future__ import annotations

import io
import json
import unicodedata
import zipfile
from datetime import UTC, datetime, timedelta, timezone
from pathlib import PurePosixPath

import pytest

from apps.lake.takeout import activity_html, my_activity
from apps.lake.takeout.activity_html import parse_html_time
from apps.lake.takeout.records import BadRecord, EventRecord, MemberError

SEARCH_PATH = PurePosixPath("Takeout/My Activity/Search/MyActivity.json")

SEARCH_ITEMS = [
    {
        "header": "Search",
        "title": "Searched for ducks",
        "titleUrl": "https://www.google.com/search?q=ducks",
        "time": "2019-05-30T15:37:14.947Z",
        "products": ["Search"],
        "locationInfos": [
            {
                "name": "Around this area",
                "url": "https://www.google.com/maps/@?api=1&map_action=map&center=37.773692,-122.429737&zoom=13",
                "source": "From your places (Home)",
            }
        ],
    },
    {
        "header": "Discover",
        "title": "7 cards in your feed",
        "time": "2021-12-13T03:04:05.007Z",
        "products": ["Discover"],
        "subtitles": [{"name": "PostgreSQL"}, {"name": "Technology"}],
        "locationInfos": [
            {"name": "At this general area", "url": "https://www.google.com/maps/@?center=lat,lon"}
        ],
    },
    {
        "header": "YouTube",
        "title": "Watched an ad",
        "titleUrl": "https://www.youtube.com/watch?v=abc",
        "description": "Watched at 11:39 AM",
        "details": [{"name": "From Google Ads"}],
        "time": "2022-01-01T10:00:00Z",
    },
]


class OneWayStream(io.RawIOBase):
    """A stream that can only be read front to back, like a zip member."""

    def __init__(self, data: bytes) -> None:
        self._data = io.BytesIO(data)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # type: ignore[no-untyped-def]
        chunk = self._data.read(len(buffer))
        buffer[: len(chunk)] = chunk
        return len(chunk)


def parse(data: bytes, path: PurePosixPath = SEARCH_PATH) -> list:
    return list(my_activity.parse(OneWayStream(data), path))


def json_bytes(items: object) -> bytes:
    return json.dumps(items).encode()


# --- JSON ---------------------------------------------------------------------


def test_json_items_become_activity_events_keeping_the_item() -> None:
    records = parse(json_bytes(SEARCH_ITEMS))

    assert [type(r) for r in records] == [EventRecord] * 3
    first = records[0]
    assert first.kind == "activity.search"  # from the folder, not the header
    assert first.occurred_at == datetime(2019, 5, 30, 15, 37, 14, 947000, tzinfo=UTC)
    assert first.title == "Searched for ducks"
    assert first.url == "https://www.google.com/search?q=ducks"
    assert (first.latitude, first.longitude) == (37.773692, -122.429737)
    assert first.data == SEARCH_ITEMS[0]


def test_json_subtitles_and_description_give_the_text_and_bad_coordinates_none() -> None:
    discover, ad = parse(json_bytes(SEARCH_ITEMS))[1:]
    assert discover.text == "PostgreSQL\nTechnology"
    assert discover.url == ""
    assert (discover.latitude, discover.longitude) == (None, None)  # "center=lat,lon"
    assert ad.text == "Watched at 11:39 AM"
    assert ad.data["details"] == [{"name": "From Google Ads"}]


def test_kind_comes_from_header_when_the_file_is_alone() -> None:
    records = parse(json_bytes(SEARCH_ITEMS), PurePosixPath("MyActivity.json"))
    assert [r.kind for r in records] == ["activity.search", "activity.discover", "activity.youtube"]


def test_kind_slug_of_a_product_folder_with_spaces_and_symbols() -> None:
    path = PurePosixPath("Takeout/My Activity/Google Play Movies & TV/My Activity.json")
    (record,) = parse(json_bytes(SEARCH_ITEMS[:1]), path)
    assert record.kind == "activity.google_play_movies_tv"


def test_localised_product_folder_maps_to_the_english_kind() -> None:
    path = PurePosixPath("Takeout/Meine Aktivitäten/Google Suche/MeineAktivitäten.json")
    (record,) = parse(json_bytes(SEARCH_ITEMS[:1]), path)
    assert record.kind == "activity.search"


def test_json_with_bom_is_read() -> None:
    records = parse(b"\xef\xbb\xbf" + json_bytes(SEARCH_ITEMS[:1]))
    assert len(records) == 1 and isinstance(records[0], EventRecord)


def test_bad_json_items_are_quarantined_with_a_reason() -> None:
    items = [
        {"header": "Search", "title": "no time"},
        {"header": "Search", "title": "bad time", "time": "yesterday"},
        ["not", "an", "object"],
        SEARCH_ITEMS[0],
    ]
    records = parse(json_bytes(items))

    assert [type(r) for r in records] == [BadRecord, BadRecord, BadRecord, EventRecord]
    assert records[0].reason == "activity without time"
    assert "not an ISO 8601 timestamp" in records[1].reason and "yesterday" in records[1].excerpt
    assert records[2].reason == "activity is not a JSON object"


@pytest.mark.parametrize(
    "data, message",
    [
        (b'[{"header": "Search", "time": "2019-05-30T15:37:14Z"', "invalid or truncated JSON"),
        (b"", "empty"),
        (b'{"header": "Search"}', "neither a JSON list"),
        (b"\xff\xfe[{}]", "neither a JSON list"),
    ],
)
def test_unreadable_json_file_raises_member_error(data: bytes, message: str) -> None:
    with pytest.raises(MemberError, match=message):
        parse(data)


def test_reads_a_zip_member(tmp_path) -> None:
    archive = tmp_path / "takeout.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr(str(SEARCH_PATH), json_bytes(SEARCH_ITEMS))
    with zipfile.ZipFile(archive) as zf, zf.open(str(SEARCH_PATH)) as member:
        records = list(my_activity.parse(member, SEARCH_PATH))
    assert len(records) == 3


# --- HTML ---------------------------------------------------------------------

HEAD = (
    '<html><head><title>My Activity History</title><style type="text/css">'
    ".mdl-cell {background-color: #FFFFFF;} .content-cell.mdl-cell {color: grey;}"
    ".header-cell.mdl-cell {border-bottom-style: solid;}"
    '</style></head><body><div class="mdl-grid">'
)


def card(header: str, body: str, caption: str = "<b>Products:</b><br>&emsp;Search<br>") -> str:
    return (
        '<div class="outer-cell mdl-cell mdl-cell--12-col mdl-shadow--2dp"><div class="mdl-grid">'
        f'<div class="header-cell mdl-cell mdl-cell--12-col"><p class="mdl-typography--title">{header}<br></p></div>'
        f'<div class="content-cell mdl-cell mdl-cell--6-col mdl-typography--body-1">{body}</div>'
        '<div class="content-cell mdl-cell mdl-cell--6-col mdl-typography--body-1 mdl-typography--text-right"></div>'
        f'<div class="content-cell mdl-cell mdl-cell--12-col mdl-typography--caption">{caption}</div>'
        "</div></div>"
    )


def page(*cards: str) -> bytes:
    return (HEAD + "\n".join(cards) + "</div></body></html>").encode()


WATCH_CARD = card(
    "YouTube",
    'Watched&nbsp;<a href="https://www.youtube.com/watch?v=abc">Cats &amp; dogs</a><br>'
    '<a href="https://www.youtube.com/channel/UC1">A channel</a><br>Nov 7, 2020, 10:15:09 PM EST',
    "<b>Products:</b><br>&emsp;YouTube<br>"
    "<b>Details:</b><br>&emsp;From Google Ads<br>"
    "<b>Locations:</b><br>&emsp;From your home: "
    '<a href="https://google.com/maps?q=25.800819,-80.186310">https://google.com/maps?q=25.800819,-80.186310</a><br>'
    "<b>Why is this here?</b><br>&emsp;This activity was saved to your Google Account<br>",
)


def test_html_card_becomes_a_json_shaped_item() -> None:
    (record,) = parse(
        page(WATCH_CARD), PurePosixPath("Takeout/My Activity/YouTube/MyActivity.html")
    )

    assert record.kind == "activity.youtube"
    assert record.occurred_at == datetime(2020, 11, 8, 3, 15, 9, tzinfo=UTC)
    assert record.title == "Watched Cats & dogs"
    assert record.url == "https://www.youtube.com/watch?v=abc"
    assert record.text == "A channel"
    assert (record.latitude, record.longitude) == (25.800819, -80.18631)
    assert record.data == {
        "header": "YouTube",
        "title": "Watched Cats & dogs",
        "titleUrl": "https://www.youtube.com/watch?v=abc",
        "subtitles": [{"name": "A channel", "url": "https://www.youtube.com/channel/UC1"}],
        "time": "Nov 7, 2020, 10:15:09 PM EST",
        "products": ["YouTube"],
        "details": [{"name": "From Google Ads"}],
        "locationInfos": [
            {
                "name": "From your home: https://google.com/maps?q=25.800819,-80.186310",
                "url": "https://google.com/maps?q=25.800819,-80.186310",
            }
        ],
        "captions": {"why is this here?": ["This activity was saved to your Google Account"]},
    }


def test_html_tolerates_the_stray_closing_divs_real_pages_have() -> None:
    first = card(
        "Search", 'Visited&nbsp;<a href="https://a.example/">a</a><br>Jan 31, 2018, 10:54:50 PM'
    )
    # One closing div too many after the first card, one too few after the second.
    second = card(
        "Search", "Searched for&nbsp;<a href='https://b.example/'>b</a><br>Feb 8, 2017, 12:32:36 AM"
    )
    third = card("Search", "Searched for c<br>Feb 8, 2017, 12:32:37 AM")
    data = page(first + "</div>", second[: -len("</div>")], third)

    records = parse(data)
    assert [r.title for r in records] == ["Visited a", "Searched for b", "Searched for c"]
    assert records[1].data["products"] == ["Search"]


def test_html_is_read_in_chunks_across_multibyte_characters(monkeypatch) -> None:
    monkeypatch.setattr(activity_html, "CHUNK_BYTES", 7)
    body = "Searched for&nbsp;<a href='https://x.example/'>Größe ☃ 東京</a><br>Feb 8, 2017, 12:32:36 AM"
    records = parse(page(card("Search", body), card("Search", body)))
    assert [r.title for r in records] == ["Searched for Größe ☃ 東京"] * 2


def test_html_without_a_title_line_keeps_the_time() -> None:
    (record,) = parse(page(card("Search", "Jan 31, 2018, 10:54:50 PM")))
    assert record.title == "" and record.occurred_at == datetime(
        2018, 1, 31, 22, 54, 50, tzinfo=UTC
    )


def test_bad_html_cards_are_quarantined() -> None:
    records = parse(
        page(
            card("Search", "Searched for x<br>sometime last week"),
            card("Search", "Searched for y<br>Nov 7, 2020, 10:15:09 PM XYZT"),
            card("Search", ""),
            card("Search", "Searched for z<br>Feb 30, 2017, 12:32:36 AM"),
        )
    )
    assert all(isinstance(r, BadRecord) for r in records)
    assert "unreadable time 'sometime last week'" in records[0].reason
    assert "unknown time zone 'XYZT'" in records[1].reason
    assert records[2].reason == "activity card without any text"
    assert "impossible date" in records[3].reason


@pytest.mark.parametrize(
    "data, message",
    [
        (b"<html><body><p>Hello</p></body></html>", "no activity cards"),
        (page(WATCH_CARD).replace(b"Cats", b"Cats \xff"), "not UTF-8"),
    ],
)
def test_unreadable_html_file_raises_member_error(data: bytes, message: str) -> None:
    with pytest.raises(MemberError, match=message):
        parse(data)


def _zone(hours: float) -> timezone:
    return timezone(timedelta(hours=hours))


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Jan 31, 2018, 10:54:50 PM", datetime(2018, 1, 31, 22, 54, 50, tzinfo=UTC)),
        ("Jan 31, 2018, 12:04:50 AM UTC", datetime(2018, 1, 31, 0, 4, 50, tzinfo=UTC)),
        ("Nov 7, 2020, 10:15:09\u202fPM EST", datetime(2020, 11, 7, 22, 15, 9, tzinfo=_zone(-5))),
        ("Jan 15, 2021, 6:54:12 PM BST", datetime(2021, 1, 15, 17, 54, 12, tzinfo=UTC)),
        ("7 Nov 2020, 22:15:09 CET", datetime(2020, 11, 7, 22, 15, 9, tzinfo=_zone(1))),
        ("17. Aug. 2026, 13:14:48 MESZ", datetime(2026, 8, 17, 13, 14, 48, tzinfo=_zone(2))),
        ("27.08.2026, 20:04:54 MEZ", datetime(2026, 8, 27, 20, 4, 54, tzinfo=_zone(1))),
        ("30 sept. 2026, 08:00:00 UTC+2", datetime(2026, 9, 30, 8, 0, 0, tzinfo=_zone(2))),
        ("15 janv. 2024, 14:32:05 GMT−05:30", datetime(2024, 1, 15, 14, 32, 5, tzinfo=_zone(-5.5))),
        ("15 jun 2026, 20:30:41 CEST", datetime(2026, 6, 15, 20, 30, 41, tzinfo=_zone(2))),
        ("3 de dic. de 2025, 9:05:00 p. m. CET", datetime(2025, 12, 3, 21, 5, 0, tzinfo=_zone(1))),
        ("2026年7月30日 00:23:06 JST", datetime(2026, 7, 30, 0, 23, 6, tzinfo=_zone(9))),
    ],
)
def test_html_times_in_the_formats_takeout_writes(text: str, expected: datetime) -> None:
    assert parse_html_time(text) == expected


def test_html_time_keeps_the_offset_it_shows() -> None:
    assert parse_html_time("7 Nov 2020, 22:15:09 CET").utcoffset() == timedelta(hours=1)


@pytest.mark.parametrize("text", ["Foo 7, 2020, 10:15:09 PM", "31.13.2020, 10:15:09", ""])
def test_unreadable_html_times_raise_value_error(text: str) -> None:
    with pytest.raises(ValueError):
        parse_html_time(text)


# --- paths and sniffing ---------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "Takeout/My Activity/Search/MyActivity.json",
        "Takeout/My Activity/Maps/My Activity.json",
        "Takeout/My Activity/Chrome/MyActivity.html",
        "Takeout/My Activity/YouTube/MyActivity.html",
        "Takeout/Meine\u00a0Aktivitäten/Google Suche/MeineAktivitäten.html",
        unicodedata.normalize("NFD", "Takeout/Mon activité/Recherche/MonActivité.html"),
        "Takeout/Mi actividad/Búsqueda/MiActividad.json",
        "MyActivity.json",
    ],
)
def test_matches_my_activity_files(path: str) -> None:
    assert my_activity.matches(PurePosixPath(path))


@pytest.mark.parametrize(
    "path",
    [
        "Takeout/YouTube and YouTube Music/history/watch-history.json",
        "Takeout/Chrome/History.json",
        "Takeout/My Activity/Assistant/audio.mp3",
        "Takeout/My Activity/Search/MyActivity.csv",
        "Takeout/Location History/Records.json",
        "Takeout/archive_browser.html",
    ],
)
def test_does_not_match_other_files(path: str) -> None:
    assert not my_activity.matches(PurePosixPath(path))


def test_sniffs_json_and_html_activity_files() -> None:
    assert my_activity.sniff(json_bytes(SEARCH_ITEMS)[:100])
    assert my_activity.sniff(b'\xef\xbb\xbf[\n  {\n    "header": "Maps",')
    assert my_activity.sniff(page(WATCH_CARD)[:8192])


@pytest.mark.parametrize(
    "head",
    [
        b'{"locations": [{"latitudeE7": 1}]}',
        b'{"Browser History": [{"title": "x"}]}',
        b'[{"install": {"doc": {"title": "x"}}}]',
        b'[{"startTime": "2024-01-01T00:00:00Z", "endTime": "x"}]',
        b"<html><body><p>Archive overview</p></body></html>",
        b"BEGIN:VCALENDAR",
    ],
)
def test_does_not_sniff_other_files(head: bytes) -> None:
    assert not my_activity.sniff(head)
