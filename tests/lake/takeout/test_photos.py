import io
import json
from datetime import UTC, datetime
from pathlib import PurePosixPath

import pytest

from apps.lake.takeout import photos
from apps.lake.takeout.records import BadRecord, EventRecord, MemberError

ZERO = {
    "latitude": 0.0,
    "longitude": 0.0,
    "altitude": 0.0,
    "latitudeSpan": 0.0,
    "longitudeSpan": 0.0,
}
SIDECAR = {
    "title": "IMG_20190712_120816.jpg",
    "description": "Summit",
    "imageViews": "3",
    "creationTime": {"timestamp": "1562933296", "formatted": "12.07.2019, 12:08:16 UTC"},
    "photoTakenTime": {"timestamp": "1468614566", "formatted": "15.07.2016, 20:29:26 UTC"},
    "geoData": {
        "latitude": 47.4211,
        "longitude": 10.9853,
        "altitude": 2962.0,
        "latitudeSpan": 0.0,
        "longitudeSpan": 0.0,
    },
    "geoDataExif": ZERO,
    "people": [{"name": "Sebastian"}],
    "url": "https://photos.google.com/photo/AF1Qip",
    "googlePhotosOrigin": {"mobileUpload": {"deviceType": "IOS_PHONE"}},
}
ALBUM = "Takeout/Google Photos/Trip 2019"


def parse(item: object, path: str, parse_function=photos.parse_sidecar) -> list:
    data = item if isinstance(item, bytes) else json.dumps(item).encode()
    return list(parse_function(io.BytesIO(data), PurePosixPath(path)))


def test_sidecar_with_location():
    (record,) = parse(SIDECAR, f"{ALBUM}/IMG_20190712_120816.jpg.supplemental-metadata.json")
    assert isinstance(record, EventRecord)
    assert record.kind == "photos.photo"
    assert record.occurred_at == datetime(2016, 7, 15, 20, 29, 26, tzinfo=UTC)
    assert (record.latitude, record.longitude) == (47.4211, 10.9853)
    assert record.title == "IMG_20190712_120816.jpg"
    assert record.text == "Summit"
    assert record.url == "https://photos.google.com/photo/AF1Qip"
    assert record.data["media_path"] == f"{ALBUM}/IMG_20190712_120816.jpg"
    assert record.data["people"] == [{"name": "Sebastian"}]
    assert record.data["albums"] == ["Trip 2019"]
    assert {k: v for k, v in record.data.items() if k not in ("media_path", "albums")} == SIDECAR


@pytest.mark.parametrize(
    "folder", ["Photos from 2019", "Fotos von 2019", "Photos de 2019", "Fotos de 2019"]
)
def test_a_year_folder_is_not_an_album(folder):
    (record,) = parse(SIDECAR, f"Takeout/Google Photos/{folder}/IMG_1.jpg.json")
    assert record.data["albums"] == []
    assert record.merge_list == "albums" and "albums" in record.copy_fields


def test_zero_geodata_means_none_and_exif_is_the_fallback():
    no_location = {**SIDECAR, "geoData": ZERO}
    (record,) = parse(no_location, f"{ALBUM}/a.jpg.json")
    assert (record.latitude, record.longitude) == (None, None)
    exif = {**no_location, "geoDataExif": {"latitude": -33.8568, "longitude": 151.2153}}
    (record,) = parse(exif, f"{ALBUM}/a.jpg.json")
    assert (record.latitude, record.longitude) == (-33.8568, 151.2153)


def test_creation_time_when_taken_time_missing_or_zero():
    for sidecar in (
        {k: v for k, v in SIDECAR.items() if k != "photoTakenTime"},
        {**SIDECAR, "photoTakenTime": {"timestamp": "0"}},
    ):
        (record,) = parse(sidecar, f"{ALBUM}/a.jpg.json")
        assert record.occurred_at == datetime(2019, 7, 12, 12, 8, 16, tzinfo=UTC)


@pytest.mark.parametrize(
    ("sidecar", "media"),
    [
        ("IMG_1.jpg.supplemental-metadata.json", "IMG_1.jpg"),
        ("IMG_1.jpg.json", "IMG_1.jpg"),
        ("IMG_1.jpg.supplemental-metad.json", "IMG_1.jpg"),
        ("IMG_1.jpg.supp.json", "IMG_1.jpg"),
        ("IMG_1.jpg.s.json", "IMG_1.jpg"),
        ("IMG_1.jpg..json", "IMG_1.jpg"),
        ("IMG_1.JPG.Supplemental-Metadata.json", "IMG_1.JPG"),
        ("img.jpg(1).json", "img(1).jpg"),
        ("img.jpg.supplemental-metadata(2).json", "img(2).jpg"),
        ("img.jpg(3).supplemental-metadata.json", "img(3).jpg"),
        ("img(1).jpg.json", "img(1).jpg"),
        ("video.mp4.supplemental-metadata.json", "video.mp4"),
        ("noext(1).json", "noext(1)"),
    ],
)
def test_media_name(sidecar: str, media: str):
    assert photos.media_name(sidecar) == media


def test_long_names_are_marked_as_prefixes():
    name = "A_very_long_file_name_that_Takeout_cut_short_x.jpg.json"
    assert len(name) >= 51
    (record,) = parse(SIDECAR, f"{ALBUM}/{name}")
    assert record.data["media_path_is_prefix"] is True
    (short,) = parse(SIDECAR, f"{ALBUM}/a.jpg.json")
    assert "media_path_is_prefix" not in short.data


def test_lone_sidecar_media_path_is_beside_it():
    (record,) = parse(SIDECAR, "0d885360a8dceda4d8d5d76c3e4cabaa.jpg.json")
    assert record.data["media_path"] == "0d885360a8dceda4d8d5d76c3e4cabaa.jpg"


def test_bad_sidecars_are_quarantined():
    (no_time,) = parse({"title": "x.jpg", "geoData": ZERO}, f"{ALBUM}/x.jpg.json")
    assert isinstance(no_time, BadRecord)
    assert no_time.reason == "photo sidecar without photoTakenTime or creationTime"
    (bad_time,) = parse(
        {**SIDECAR, "photoTakenTime": {"timestamp": "yesterday"}}, f"{ALBUM}/x.jpg.json"
    )
    assert isinstance(bad_time, BadRecord) and "not a seconds timestamp" in bad_time.reason
    (off_globe,) = parse(
        {**SIDECAR, "geoData": {"latitude": 123.0, "longitude": 5.0}}, f"{ALBUM}/x.jpg.json"
    )
    assert isinstance(off_globe, BadRecord) and "geoData is not a position" in off_globe.reason
    (not_object,) = parse(["x"], f"{ALBUM}/x.jpg.json")
    assert isinstance(not_object, BadRecord)


def test_broken_json_is_a_member_error():
    with pytest.raises(MemberError):
        parse(b'{"title": "a.jpg",', f"{ALBUM}/a.jpg.json")


def test_album_metadata():
    album = {
        "title": "Trip 2019",
        "description": "Alps",
        "access": "protected",
        "date": {"timestamp": "1562933296", "formatted": "12.07.2019, 12:08:16 UTC"},
        "geoData": ZERO,
    }
    (record,) = parse(album, f"{ALBUM}/metadata.json", photos.parse_album)
    assert record.kind == "photos.album"
    assert record.title == "Trip 2019"
    assert record.text == "Alps"
    assert record.occurred_at == datetime(2019, 7, 12, 12, 8, 16, tzinfo=UTC)
    assert record.latitude is None
    assert record.data["album_folder"] == "Trip 2019"
    assert record.data["access"] == "protected"


def test_old_album_metadata_without_date_or_title():
    (record,) = parse(
        {"albumData": {"description": ""}},
        "Takeout/Google Fotos/Urlaub/Metadaten.json",
        photos.parse_album,
    )
    assert record.title == "Urlaub"
    assert record.occurred_at is None
    assert record.data["albumData"] == {"description": ""}


@pytest.mark.parametrize(
    "path",
    [
        f"{ALBUM}/IMG_1.jpg.supplemental-metadata.json",
        f"{ALBUM}/IMG_1.jpg.json",
        "Takeout/Google Fotos/Fotos von 2025/20250101_120006.jpg.supplemental-metadata.json",
        "Takeout/Google Photos/Photos from 2016/img.jpg(1).json",
        "IMG_1.jpg.supplemental-metadata.json",
    ],
)
def test_sidecar_matches(path: str):
    assert photos.matches_sidecar(PurePosixPath(path))
    assert not photos.matches_album(PurePosixPath(path))


@pytest.mark.parametrize(
    "path",
    [
        f"{ALBUM}/IMG_1.jpg",
        f"{ALBUM}/clip.mp4",
        f"{ALBUM}/metadata.json",
        "Takeout/Google Photos/print-subscriptions.json",
        "Takeout/Google Photos/shared_album_comments.json",
        "Takeout/Keep/note.json",
        "Takeout/My Activity/Google Photos/MyActivity.json",
        "IMG_1.jpg.json",
        "metadata.json",
    ],
)
def test_sidecar_does_not_match(path: str):
    assert not photos.matches_sidecar(PurePosixPath(path))


@pytest.mark.parametrize(
    "path",
    [
        f"{ALBUM}/metadata.json",
        "Takeout/Google Fotos/Urlaub/Metadaten.json",
        "Takeout/Google Photos/Voyage/métadonnées.json",
    ],
)
def test_album_matches(path: str):
    assert photos.matches_album(PurePosixPath(path))


def test_album_does_not_match_elsewhere():
    assert not photos.matches_album(PurePosixPath("metadata.json"))
    assert not photos.matches_album(PurePosixPath("Takeout/Drive/metadata.json"))


def test_sniff():
    assert photos.sniff_sidecar(json.dumps(SIDECAR, indent=2).encode())
    assert photos.sniff_sidecar(
        json.dumps({"title": "a", "creationTime": {}, "imageViews": "1"}).encode()
    )
    assert not photos.sniff_sidecar(b'{"title": "note", "textContent": "x", "isTrashed": false}')
    assert not photos.sniff_sidecar(
        b'[{"title": "Viewed a photo", "time": "2020-01-01T00:00:00Z"}]'
    )
