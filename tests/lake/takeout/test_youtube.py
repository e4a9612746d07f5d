"""YouTube's own folder: history (JSON/HTML), subscriptions, comments, likes."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from pathlib import PurePosixPath

import pytest

from apps.lake.takeout import youtube
from apps.lake.takeout.records import BadRecord, EventRecord, MemberError

ROOT = "Takeout/YouTube and YouTube Music"
WATCH_PATH = PurePosixPath(f"{ROOT}/history/watch-history.json")

WATCH_ITEMS = [
    {
        "header": "YouTube",
        "title": "Watched Cats & dogs",
        "titleUrl": "https://www.youtube.com/watch?v=abc",
        "subtitles": [{"name": "A channel", "url": "https://www.youtube.com/channel/UC1"}],
        "time": "2026-06-15T20:30:41.123Z",
        "products": ["YouTube"],
        "activityControls": ["YouTube watch history"],
    },
    {
        "header": "YouTube",
        "title": "Watched a video that has been removed",
        "time": "2026-06-14T08:00:00Z",
        "products": ["YouTube"],
    },
    {
        "header": "YouTube",
        "title": "Watched Buy this",
        "titleUrl": "https://www.youtube.com/watch?v=ad1",
        "description": "Watched at 11:39 AM",
        "details": [{"name": "From Google Ads"}],
        "time": "2026-06-13T11:39:00Z",
    },
    {"header": "YouTube", "title": "Watched no time"},
]


def parser(product: str):
    return next(p for p in youtube.PARSERS if p.product == product)


def parse(product: str, data: bytes, path: str) -> list:
    return list(parser(product).parse(io.BytesIO(data), PurePosixPath(path)))


# --- history --------------------------------------------------------------------


def test_watch_history_json() -> None:
    records = parse("youtube.watch_history", json.dumps(WATCH_ITEMS).encode(), str(WATCH_PATH))

    watch, removed, ad, bad = records
    assert watch.kind == "youtube.watch"
    assert watch.title == "Cats & dogs"
    assert watch.data["title"] == "Watched Cats & dogs"  # the original stays in data
    assert watch.url == "https://www.youtube.com/watch?v=abc"
    assert watch.text == "A channel"
    assert watch.occurred_at == datetime(2026, 6, 15, 20, 30, 41, 123000, tzinfo=UTC)
    assert watch.data == WATCH_ITEMS[0]
    assert removed.title == "Watched a video that has been removed" and removed.url == ""
    assert ad.title == "Buy this" and ad.data["details"] == [{"name": "From Google Ads"}]
    assert isinstance(bad, BadRecord) and bad.reason == "activity without time"


def test_watch_history_html_shares_my_activity_cards() -> None:
    html = (
        b"<html><head><style>.header-cell.mdl-cell{} .content-cell.mdl-cell{}</style></head>"
        b'<body><div class="mdl-grid">'
        b'<div class="outer-cell mdl-cell mdl-cell--12-col mdl-shadow--2dp"><div class="mdl-grid">'
        b'<div class="header-cell mdl-cell mdl-cell--12-col"><p class="mdl-typography--title">YouTube<br></p></div>'
        b'<div class="content-cell mdl-cell mdl-cell--6-col mdl-typography--body-1">'
        b'Watched&nbsp;<a href="https://www.youtube.com/watch?v=abc">Cats</a><br>'
        b'<a href="https://www.youtube.com/channel/UC1">A channel</a><br>'
        b"15 Jun 2026, 20:30:41 CEST</div>"
        b'<div class="content-cell mdl-cell mdl-cell--12-col mdl-typography--caption">'
        b"<b>Products:</b><br>&emsp;YouTube<br></div></div></div></div></body></html>"
    )
    (record,) = parse("youtube.watch_history", html, f"{ROOT}/history/watch-history.html")
    assert record.kind == "youtube.watch"
    assert (record.title, record.text) == ("Cats", "A channel")
    assert record.occurred_at == datetime(2026, 6, 15, 18, 30, 41, tzinfo=UTC)


def test_search_history() -> None:
    items = [
        {
            "header": "YouTube",
            "title": "Searched for lofi beats",
            "titleUrl": "https://www.youtube.com/results?search_query=lofi+beats",
            "time": "2026-06-15T20:30:41Z",
        }
    ]
    path = f"{ROOT}/history/search-history.json"
    (record,) = parse("youtube.search_history", json.dumps(items).encode(), path)
    assert record.kind == "youtube.search"
    assert record.title == "lofi beats"
    assert record.data["title"] == "Searched for lofi beats"


def test_broken_history_file_raises_member_error() -> None:
    with pytest.raises(MemberError, match="invalid or truncated JSON"):
        parse("youtube.watch_history", b'[{"header": "YouTube", "ti', str(WATCH_PATH))


# --- subscriptions ------------------------------------------------------------------

SUBSCRIPTIONS = (
    "Channel Id,Channel Url,Channel Title\r\n"
    'UC1,http://www.youtube.com/channel/UC1,"Cooking, simply"\r\n'
    "UC2,,Second\r\n"
    ",,Nobody\r\n"
    "\r\n\r\n"
)


def test_subscriptions_have_no_time_of_their_own() -> None:
    path = f"{ROOT}/subscriptions/subscriptions.csv"
    first, second, bad = parse("youtube.subscriptions", SUBSCRIPTIONS.encode(), path)

    assert first == EventRecord(
        kind="youtube.subscription",
        occurred_at=None,
        title="Cooking, simply",
        url="http://www.youtube.com/channel/UC1",
        data={
            "Channel Id": "UC1",
            "Channel Url": "http://www.youtube.com/channel/UC1",
            "Channel Title": "Cooking, simply",
        },
    )
    assert second.url == "https://www.youtube.com/channel/UC2"
    assert isinstance(bad, BadRecord) and bad.reason == "subscription without channel id or url"


def test_localised_subscriptions_are_read_by_position() -> None:
    data = "\ufeffKanal-ID,Kanal-URL,Kanaltitel\nUC1,http://www.youtube.com/channel/UC1,Kochen\n"
    path = "Takeout/YouTube und YouTube Music/Abos/Abos.csv"
    assert parser("youtube.subscriptions").matches(PurePosixPath(path))
    (record,) = parse("youtube.subscriptions", data.encode(), path)
    assert record.title == "Kochen" and record.data["Kanal-ID"] == "UC1"


# --- comments --------------------------------------------------------------------


def test_comments_old_format_with_takeout_segments() -> None:
    data = (
        "Comment ID,Channel ID,Comment Create Timestamp,Price,Parent Comment ID,Video ID,Comment Text\n"
        'Ugx1,UC9,2023-09-19T17:42:53.434647+00:00,0,,WtOskFeLmr4,"{""takeoutSegments"":[{""text"":""the legend""}]}"\n'
        "\n\n"
    )
    (record,) = parse("youtube.comments", data.encode(), f"{ROOT}/comments/comments.csv")
    assert record.kind == "youtube.comment"
    assert record.occurred_at == datetime(2023, 9, 19, 17, 42, 53, 434647, tzinfo=UTC)
    assert record.text == "the legend" and record.title == "the legend"
    assert record.url == "https://www.youtube.com/watch?v=WtOskFeLmr4"
    assert record.data["Comment Text"] == '{"takeoutSegments":[{"text":"the legend"}]}'


def test_comments_new_format_with_segments_newlines_and_links() -> None:
    data = (
        "Channel ID,Comment Create Timestamp,Price,Comment ID,Parent Comment ID,Video ID,Comment Text\n"
        'UC9,2023-04-14T07:39:35.956042+00:00,0,Ugy2,,rWVAzS6duAs,"{""text"":""> buried""},'
        '{""text"":""\n""},{""text"":""see ""},{""link"":{""linkUrl"":""https://x.example""}}"\n'
    )
    (record,) = parse("youtube.comments", data.encode(), f"{ROOT}/comments/comments.csv")
    assert record.text == "> buried\nsee https://x.example"


def test_comments_plain_text_and_long_title_is_shortened() -> None:
    text = " ".join(["plain"] * 40)
    data = (
        "Comment ID,Channel ID,Comment create timestamp,Price,Parent comment ID,Post ID,Video ID,"
        "Comment text,Top-level comment ID\n"
        f"C1,UC1,2025-02-11T19:04:00Z,0,,,,{text},\n"
    )
    (record,) = parse("youtube.comments", data.encode(), f"{ROOT}/comments/comments(1).csv")
    assert record.text == text and len(record.title) == 100 and record.title.endswith("…")
    assert record.url == ""


def test_localised_comment_headers() -> None:
    data = (
        "Kommentar-ID,Kanal-ID,Zeitstempel der Erstellung des Kommentars,Preis,"
        "Übergeordnete Kommentar-ID,Beitrags-ID,Video-ID,Kommentartext,Kommentar-ID der obersten Ebene\n"
        'K1,UC1,2025-02-11T19:04:00Z,0,,,vid1,"{""text"":""Servus""}",\n'
    )
    path = "Takeout/YouTube und YouTube Music/Kommentare/Kommentare.csv"
    assert parser("youtube.comments").matches(PurePosixPath(path))
    (record,) = parse("youtube.comments", data.encode(), path)
    assert record.text == "Servus" and record.url == "https://www.youtube.com/watch?v=vid1"


def test_unknown_comment_headers_fall_back_to_the_cell_contents() -> None:
    data = 'a,b,c,d\nK1,UC1,2025-02-11T19:04:00Z,"{""text"":""hola""}"\n'
    (record,) = parse("youtube.comments", data.encode(), f"{ROOT}/comments/comments.csv")
    assert record.text == "hola"
    assert record.occurred_at == datetime(2025, 2, 11, 19, 4, tzinfo=UTC)


def test_bad_comment_rows_are_quarantined() -> None:
    data = (
        "Comment ID,Channel ID,Comment Create Timestamp,Video ID,Comment Text\n"
        'C1,UC1,,v,"{""text"":""no time""}"\n'
        'C2,UC1,last tuesday,v,"{""text"":""bad time""}"\n'
    )
    first, second = parse("youtube.comments", data.encode(), f"{ROOT}/comments/comments.csv")
    assert first.reason == "comment without a creation time"
    assert "last tuesday" in second.reason and "C2" in second.excerpt


@pytest.mark.parametrize(
    "data, message",
    [(b"", "empty"), (b"Comment ID,Comment Text\nC1,\xff\xfe\n", "not UTF-8")],
)
def test_unreadable_comments_file_raises_member_error(data: bytes, message: str) -> None:
    with pytest.raises(MemberError, match=message):
        parse("youtube.comments", data, f"{ROOT}/comments/comments.csv")


# --- likes -----------------------------------------------------------------------

LIKE = {
    "kind": "youtube#playlistItem",
    "contentDetails": {"videoId": "J1tF-DKKt7k", "videoPublishedAt": "2015-10-05T17:23:15.000Z"},
    "snippet": {
        "channelTitle": "Title",
        "playlistId": "LL1",
        "publishedAt": "2020-07-05T18:27:32.000Z",
        "title": "Sugar Song",
        "resourceId": {"kind": "youtube#video", "videoId": "J1tF-DKKt7k"},
    },
}


def test_likes() -> None:
    items = [LIKE, {"kind": "youtube#playlistItem", "snippet": {"title": "x"}}, "junk"]
    path = f"{ROOT}/playlists/likes.json"
    like, no_time, junk = parse("youtube.likes", json.dumps(items).encode(), path)
    assert like.kind == "youtube.like"
    assert like.occurred_at == datetime(2020, 7, 5, 18, 27, 32, tzinfo=UTC)
    assert (like.title, like.url) == ("Sugar Song", "https://www.youtube.com/watch?v=J1tF-DKKt7k")
    assert no_time.reason == "liked video without publishedAt"
    assert junk.reason == "liked video is not a playlist item"


# --- paths and sniffing -----------------------------------------------------------


@pytest.mark.parametrize(
    "product, path",
    [
        ("youtube.watch_history", f"{ROOT}/history/watch-history.json"),
        ("youtube.watch_history", f"{ROOT}/history/watch-history.html"),
        ("youtube.watch_history", "Takeout/YouTube/history/watch-history.html"),
        (
            "youtube.watch_history",
            "Takeout/YouTube und YouTube Music/Verlauf/Wiedergabeverlauf.json",
        ),
        (
            "youtube.watch_history",
            "Takeout/YouTube y YouTube Music/historial/historial-de-reproducciones.html",
        ),
        ("youtube.watch_history", "watch-history.json"),
        ("youtube.search_history", f"{ROOT}/history/search-history.html"),
        ("youtube.search_history", "Takeout/YouTube und YouTube Music/Verlauf/Suchverlauf.json"),
        ("youtube.search_history", "Takeout/YouTube/historique/Historique des recherches.html"),
        ("youtube.subscriptions", f"{ROOT}/subscriptions/subscriptions.csv"),
        ("youtube.comments", f"{ROOT}/comments/comments.csv"),
        ("youtube.comments", "Takeout/YouTube y YouTube Music/comentarios/comentarios.csv"),
        ("youtube.likes", f"{ROOT}/playlists/likes.json"),
    ],
)
def test_matches(product: str, path: str) -> None:
    claiming = [p.product for p in youtube.PARSERS if p.matches(PurePosixPath(path))]
    assert claiming == [product]


@pytest.mark.parametrize(
    "path",
    [
        "Takeout/My Activity/YouTube/MyActivity.json",
        "Takeout/Meine Aktivitäten/YouTube/watch-history.json",
        f"{ROOT}/history/watch-history.csv",
        f"{ROOT}/videos/video.mp4",
        f"{ROOT}/channels/channel.csv",
        f"{ROOT}/playlists/Watch later.csv",
        "Takeout/Chrome/History.json",
        "Takeout/Other/comments/comments.csv",
        "subscriptions.csv",
        "likes.json",
    ],
)
def test_does_not_match_other_files(path: str) -> None:
    assert not any(p.matches(PurePosixPath(path)) for p in youtube.PARSERS)


def test_sniffs_lone_csv_and_likes_files() -> None:
    assert parser("youtube.subscriptions").sniff(SUBSCRIPTIONS.encode())
    comments_head = b"Comment ID,Channel ID,Comment Create Timestamp,Price,Video ID,Comment Text\n"
    assert parser("youtube.comments").sniff(comments_head)
    assert parser("youtube.likes").sniff(json.dumps([LIKE]).encode())
    for product in ("youtube.subscriptions", "youtube.comments", "youtube.likes"):
        assert not parser(product).sniff(b'{"Browser History": []}')
        assert not parser(product).sniff(b"Date,Step count\n2024-01-01,4000\n")
    assert not parser("youtube.likes").sniff(json.dumps(WATCH_ITEMS).encode())
