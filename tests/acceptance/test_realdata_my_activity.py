"""My Activity against real files (SOURCES.md: google_takeout_parser, google-takeout-to-sqlite).

The JSON files are anonymised REAL records; the HTML page is a REAL trimmed
My Activity page from January 2018 (no time zone printed: UTC).
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path, PurePosixPath

import pytest

from apps.lake.takeout import my_activity
from apps.lake.takeout.records import EventRecord

SQLITE_ZIP = "google-takeout-to-sqlite/tests/zip_contents"


def parse(realdata: Path, relative: str, member: str | None = None) -> list:
    file = realdata / relative
    path = PurePosixPath(member or relative)
    with file.open("rb") as stream:
        records = list(my_activity.parse(stream, path))
    assert all(isinstance(r, EventRecord) for r in records), records
    return records


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@pytest.mark.parametrize(
    "product, kind, entries, with_url, first, last",
    [
        (
            "Google Play Books",
            "activity.google_play_books",
            1,
            1,
            "2018-12-08T22:05:47.249Z",
            "2018-12-08T22:05:47.249Z",
        ),
        ("Maps", "activity.maps", 2, 2, "2019-05-30T05:16:57.708Z", "2019-05-30T05:17:16.626Z"),
        ("Search", "activity.search", 2, 2, "2019-05-30T15:37:14.947Z", "2019-05-30T15:37:18.828Z"),
    ],
)
def test_my_activity_json_2019_names(
    realdata: Path, product: str, kind: str, entries: int, with_url: int, first: str, last: str
) -> None:
    member = f"Takeout/My Activity/{product}/My Activity.json"
    assert my_activity.matches(PurePosixPath(member))
    records = parse(realdata, f"{SQLITE_ZIP}/{member}", member)

    assert len(records) == entries
    assert {r.kind for r in records} == {kind}
    assert {r.data["header"] for r in records} == {product}
    assert sum(1 for r in records if r.url) == with_url
    times = sorted(_iso(r.occurred_at) for r in records)
    assert (times[0], times[-1]) == (first, last)


def test_locationinfos_give_the_area_of_maps_and_search(realdata: Path) -> None:
    member = "Takeout/My Activity/Search/My Activity.json"
    searched = [r for r in parse(realdata, f"{SQLITE_ZIP}/{member}", member) if r.latitude]
    assert [(r.title, r.latitude, r.longitude) for r in searched] == [
        ('Searched for "myactivity" google export', 37.773692, -122.429737)
    ]


def test_discover_activity_json(realdata: Path) -> None:
    relative = "google_takeout_parser/tests/test_json_extracted/test_parse_activity_json.json"
    assert my_activity.sniff((realdata / relative).read_bytes()[:8192])
    (record,) = parse(realdata, relative)

    assert record.kind == "activity.discover"  # a lone file: the kind comes from its header
    assert record.url == ""  # no titleUrl
    assert _iso(record.occurred_at) == "2021-12-13T03:04:05.007Z"
    assert len(record.data["subtitles"]) == 4
    assert record.text.splitlines()[0] == "Computer programming"
    assert (record.latitude, record.longitude) == (None, None)  # "center=lat,lon"


def test_my_activity_html_page(realdata: Path) -> None:
    member = "Takeout/My Activity/Chrome/MyActivity.html"
    relative = "google_takeout_parser/tests/testdata/HtmlTakeout/My Activity/Chrome/MyActivity.html"
    assert my_activity.matches(PurePosixPath(member))
    assert my_activity.sniff((realdata / relative).read_bytes()[:8192])

    records = parse(realdata, relative, member)

    assert len(records) == 3
    assert {r.kind for r in records} == {"activity.chrome"}
    assert {r.data["header"] for r in records} == {"Search"}
    assert [r.occurred_at for r in records] == [
        datetime(2018, 1, 31, 22, 54, 50, tzinfo=UTC),
        datetime(2017, 2, 8, 0, 32, 39, tzinfo=UTC),
        datetime(2017, 2, 8, 0, 32, 36, tzinfo=UTC),
    ]
    assert [r.title for r in records] == [
        "Visited https://productforums.google.com/forum/",
        "Visited http://www.adobe.com/creativecloud.html",
        "Searched for adobe creative cloud",
    ]
    assert records[1].url.startswith("https://www.google.com/url?q=http://www.adobe.com/")
    assert [r.data["products"] for r in records] == [["Search"]] * 3
    assert records[2].data["locationInfos"][0]["url"] == (
        "https://google.com/maps?q=25.800819,-80.186310"
    )
    assert (records[2].latitude, records[2].longitude) == (25.800819, -80.18631)
