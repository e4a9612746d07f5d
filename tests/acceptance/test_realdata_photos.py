"""Photos sidecars from GooglePhotosTakeoutHelper's fixtures: REAL, German-locale dates (SOURCES.md)."""

from datetime import UTC, datetime
from pathlib import Path, PurePosixPath

from apps.lake.takeout import photos
from apps.lake.takeout.records import EventRecord

INPUT = Path("GooglePhotosTakeoutHelper/tests/integration/fixtures/input")
# photoTakenTime, people, JPEG bytes, per SOURCES.md
EXPECTED = {
    "046a025ce4a74570347241df5bfe27cc.jpg.json": (1468614566, 1, 17806),
    "0d885360a8dceda4d8d5d76c3e4cabaa.jpg.json": (1472300231, 0, 13354),
    "791e169dbac35bd185ea56d252246132.jpg.json": (1459862992, 0, 14703),
}


def test_three_sidecars_paired_with_their_media(realdata: Path):
    folder = realdata / INPUT
    sidecars = sorted(folder.glob("*.json"))
    assert [p.name for p in sidecars] == sorted(EXPECTED)
    for path in sidecars:
        member = PurePosixPath("Takeout/Google Fotos/Fotos von 2016") / path.name
        assert photos.matches_sidecar(member)
        assert photos.sniff_sidecar(path.read_bytes()[:8192])
        with path.open("rb") as stream:
            (record,) = photos.parse_sidecar(
                stream, PurePosixPath(path.relative_to(realdata).as_posix())
            )
        taken, people, media_bytes = EXPECTED[path.name]
        assert isinstance(record, EventRecord)
        assert record.kind == "photos.photo"
        assert record.occurred_at == datetime.fromtimestamp(taken, UTC)
        assert len(record.data.get("people", [])) == people
        # geoData and geoDataExif are all zeros: no location.
        assert (record.latitude, record.longitude) == (None, None)
        media = realdata / record.data["media_path"]
        assert media.name == record.title
        assert media.stat().st_size == media_bytes


def test_media_files_are_not_claimed(realdata: Path):
    for jpeg in (realdata / INPUT).glob("*.jpg"):
        member = PurePosixPath("Takeout/Google Photos/Album") / jpeg.name
        assert not photos.matches_sidecar(member) and not photos.matches_album(member)
