import io
import json
import zipfile
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath

import pytest

from apps.lake.takeout import maps
from apps.lake.takeout.records import BadRecord, EventRecord, MemberError

OLD_PLACE = {
    "type": "Feature",
    "geometry": {"type": "Point", "coordinates": [14.4213, 50.0870]},
    "properties": {
        "Google Maps URL": "http://maps.google.com/?cid=123",
        "Location": {
            "Address": "Staroměstské nám. 1, Praha",
            "Business Name": "Old Town Hall",
            "Country Code": "CZ",
            "Geo Coordinates": {"Latitude": "50.0870000", "Longitude": "14.4213000"},
        },
        "Published": "2019-06-11T12:34:56Z",
        "Title": "Old Town Hall",
        "Updated": "2019-06-12T08:00:00Z",
    },
}
NEW_PLACE = {
    "type": "Feature",
    "geometry": {"type": "Point", "coordinates": [0, 0]},
    "properties": {
        "date": "2023-01-13T14:39:15Z",
        "google_maps_url": "http://maps.google.com/?q=Some+Cafe",
        "location": {"address": "Main St 1, Town", "name": "Some Cafe", "country_code": "DE"},
        "Comment": "great cake",
    },
}
SAVED_PLACES = {"type": "FeatureCollection", "features": [OLD_PLACE, NEW_PLACE]}
LABELED = {
    "type": "FeatureCollection",
    "features": [
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [-118.3541429, 34.0676671]},
            "properties": {
                "address": "432 S Curson Ave, Los Angeles, CA 90036, USA",
                "name": "Home",
            },
        }
    ],
}
SAVED_LIST = (
    "Title,Note,URL,Tags,Comment\r\n"
    ",,,,\r\n"
    'Roscioli Salumeria,"Carbonara, cacio e pepe\nbook ahead",https://www.google.com/maps/place/Roscioli,,\r\n'
    "Bar Basso,,https://maps.app.goo.gl/BarBasso,drinks,Negroni\r\n"
    ",only a note,,,\r\n"
)


def run(parse_function, data: bytes, path: str) -> list:
    return list(parse_function(io.BytesIO(data), PurePosixPath(path)))


def test_saved_places_old_and_new_shapes():
    old, new = run(
        maps.parse_saved_places,
        json.dumps(SAVED_PLACES).encode(),
        "Takeout/Maps (your places)/Saved Places.json",
    )
    assert old.kind == new.kind == "maps.saved_place"
    assert old.occurred_at == datetime(2019, 6, 11, 12, 34, 56, tzinfo=UTC)
    assert (old.latitude, old.longitude) == (50.087, 14.4213)
    assert old.title == "Old Town Hall"
    assert old.text == "Staroměstské nám. 1, Praha"
    assert old.url == "http://maps.google.com/?cid=123"
    assert old.data == OLD_PLACE
    assert new.occurred_at == datetime(2023, 1, 13, 14, 39, 15, tzinfo=UTC)
    assert (new.latitude, new.longitude) == (None, None)  # [0, 0] means none
    assert new.title == "Some Cafe"
    assert new.text == "Main St 1, Town\ngreat cake"
    assert new.url == "http://maps.google.com/?q=Some+Cafe"


def test_coordinates_from_location_when_geometry_missing():
    place = {**OLD_PLACE, "geometry": None}
    (record,) = run(
        maps.parse_saved_places, json.dumps({"features": [place]}).encode(), "Saved Places.json"
    )
    assert (record.latitude, record.longitude) == (50.087, 14.4213)


def test_bad_places_are_quarantined():
    features = [
        {"geometry": {"coordinates": [14.0, 95.0]}, "properties": {"Title": "off"}},
        {"geometry": {"coordinates": ["x", "y"]}, "properties": {}},
        {"geometry": {"coordinates": [1.0, 1.0]}, "properties": {"date": "last summer"}},
        "not a feature",
        OLD_PLACE,
    ]
    records = run(
        maps.parse_saved_places, json.dumps({"features": features}).encode(), "Saved Places.json"
    )
    assert [type(r) for r in records] == [BadRecord] * 4 + [EventRecord]
    assert "outside the globe" in records[0].reason
    assert "not numbers" in records[1].reason
    assert "not an ISO 8601 timestamp" in records[2].reason


def test_broken_json_is_a_member_error():
    with pytest.raises(MemberError):
        run(
            maps.parse_saved_places,
            b'{"type": "FeatureCollection", "features": [{',
            "Saved Places.json",
        )


def test_labeled_places():
    (record,) = run(
        maps.parse_labeled_places,
        json.dumps(LABELED).encode(),
        "Takeout/Maps/My labeled places/Labeled places.json",
    )
    assert record.kind == "maps.labeled_place"
    assert record.occurred_at is None
    assert record.title == "Home"
    assert record.text.startswith("432 S Curson Ave")
    assert (record.latitude, record.longitude) == (34.0676671, -118.3541429)


def test_saved_list_items():
    records = run(maps.parse_saved_list, SAVED_LIST.encode(), "Takeout/Saved/Want to go.csv")
    first, second, bad = records
    assert (first.title, second.title) == ("Roscioli Salumeria", "Bar Basso")
    assert first.kind == "maps.saved_list_item"
    assert first.occurred_at is None
    assert first.text == "Carbonara, cacio e pepe\nbook ahead"
    assert first.url == "https://www.google.com/maps/place/Roscioli"
    assert first.data["list"] == "Want to go"
    assert second.data["Tags"] == "drinks" and second.data["Comment"] == "Negroni"
    assert isinstance(bad, BadRecord) and "neither title nor URL" in bad.reason


def test_saved_list_with_description_above_the_header():
    data = "\ufeffStraight bar. Great vibe\r\n\r\n" + SAVED_LIST
    records = run(maps.parse_saved_list, data.encode(), "Takeout/Gespeichert/Bars.csv")
    assert records[0].data["list_description"] == "Straight bar. Great vibe"
    assert records[0].data["list"] == "Bars"


def test_saved_list_without_header_is_a_member_error():
    with pytest.raises(MemberError, match="no header row"):
        run(maps.parse_saved_list, b"a,b\n1,2\n3,4\n5,6\n7,8\n9,10\n", "Saved/x.csv")


def test_reads_zip_member(tmp_path: Path):
    archive = tmp_path / "t.zip"
    name = "Takeout/Maps (Meine Orte)/Gespeicherte Orte.json"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr(name, json.dumps(SAVED_PLACES))
    with zipfile.ZipFile(archive) as zf, zf.open(name) as member:
        assert len(list(maps.parse_saved_places(member, PurePosixPath(name)))) == 2


@pytest.mark.parametrize(
    ("path", "matcher"),
    [
        ("Takeout/Maps (your places)/Saved Places.json", maps.matches_saved_places),
        ("Takeout/Maps (Meine Orte)/Gespeicherte Orte.json", maps.matches_saved_places),
        ("Takeout/Maps (vos adresses)/Adresses enregistrées.json", maps.matches_saved_places),
        ("Takeout/Maps (Tus sitios)/Sitios guardados.json", maps.matches_saved_places),
        ("Saved Places.json", maps.matches_saved_places),
        ("Takeout/Maps/My labeled places/Labeled places.json", maps.matches_labeled_places),
        (
            "Takeout/Maps/Mes adresses avec libellé/Adresses avec libellé.json",
            maps.matches_labeled_places,
        ),
        (
            "Takeout/Maps/Mis sitios etiquetados/Sitios etiquetados.json",
            maps.matches_labeled_places,
        ),
        ("Takeout/Saved/Favourite places.csv", maps.matches_saved_list),
        ("Takeout/Gespeichert/Favoriten.csv", maps.matches_saved_list),
        ("Saved/Want to go.csv", maps.matches_saved_list),
    ],
)
def test_matches(path: str, matcher):
    assert matcher(PurePosixPath(path))


@pytest.mark.parametrize(
    "path",
    [
        "Takeout/Maps (your places)/Reviews.json",
        "Takeout/My Activity/Maps/MyActivity.json",
        "Takeout/Maps/My labeled places/Labeled places.kml",
        "Takeout/YouTube and YouTube Music/saved/x.csv",
        "Takeout/Saved/readme.txt",
        "Takeout/Fit/Daily activity metrics/2021-01-01.csv",
    ],
)
def test_does_not_match(path: str):
    path_ = PurePosixPath(path)
    assert not any(
        m(path_)
        for m in (maps.matches_saved_places, maps.matches_labeled_places, maps.matches_saved_list)
    )


def test_sniffers():
    assert maps.sniff_saved_places(json.dumps(SAVED_PLACES).encode())
    assert not maps.sniff_saved_places(json.dumps(LABELED).encode())
    assert maps.sniff_saved_list(SAVED_LIST.encode())
    assert not maps.sniff_saved_list(b"Date,Step count\n")
