"""Track files imported end to end: lone files and archive members, dedupe, resume."""

import zipfile

import pytest
from django.db import OperationalError

from apps.lake.models import Event, Import, LocationPoint, Quarantine, Visit
from apps.lake.services import takeout_import_run
from apps.lake.takeout import registry
from apps.lake.takeout.records import Parser
from tests.acting import as_user, takeout_import, takeout_prepare

from .conftest import make_zip
from .takeout.test_tracks import GPX, KML

# The import service runs as its task runs it, in the owner's context (as_user):
# the counts are of the owner's rows.
pytestmark = pytest.mark.django_db


def gpx_points(count: int) -> bytes:
    points = "".join(
        f'<trkpt lat="{45 + i / 10_000}" lon="7"><time>2024-01-01T{i // 3600:02d}:{i // 60 % 60:02d}:{i % 60:02d}Z</time></trkpt>'
        for i in range(count)
    )
    return f'<gpx xmlns="http://www.topografix.com/GPX/1/1"><trk><trkseg>{points}</trkseg></trk></gpx>'.encode()


def test_lone_track_files_land_in_the_lake_and_a_second_import_adds_nothing(owner, tmp_path):
    with as_user(owner):
        gpx = tmp_path / "day.gpx"
        gpx.write_bytes(GPX)
        kmz = tmp_path / "trip.kmz"
        with zipfile.ZipFile(kmz, "w") as archive:
            archive.writestr("doc.kml", KML)
        csv = tmp_path / "log.txt"
        csv.write_text("time;latitude;longitude\n2024-02-01T00:00:00Z;10,5;20,5\n")

        run = takeout_import(owner, gpx, kmz, csv)

        assert run.status == Import.Status.DONE, run.error
        assert set(run.entries.values_list("product", flat=True)) == {
            "tracks.gpx",
            "tracks.kml",
            "tracks.csv",
        }
        assert LocationPoint.objects.filter(source="gpx").count() == 3
        assert LocationPoint.objects.filter(source="kml").count() == 4
        assert LocationPoint.objects.filter(source="csv").count() == 1
        assert Visit.objects.count() == 1
        assert Event.objects.filter(kind="track.waypoint").count() == 3
        paths = Event.objects.filter(kind="track.path")
        assert sorted(paths.values_list("title", flat=True)) == ["Drawn", "Plan", "Walk home"]
        assert all(p.data["undated_reason"] for p in paths)
        assert Quarantine.objects.filter(reason__contains="outside the globe").count() == 1

        again = takeout_import(owner, gpx, kmz, csv)
        assert again.records_written == 0
        assert again.records_duplicate == run.records_written


def test_an_interrupted_track_import_resumes_without_loss_or_duplicates(
    owner, tmp_path, monkeypatch
):
    from apps.lake import writer

    monkeypatch.setattr(writer, "POINT_BATCH", 100)
    path = make_zip(tmp_path / "tracks.zip", {"exports/walk.gpx": gpx_points(1000)})
    real = registry.parser_named("tracks.gpx")
    crashes = {"left": 1}

    def dropping_connection(stream, member_path):
        for number, record in enumerate(real.parse(stream, member_path)):
            if number == 450 and crashes["left"]:
                crashes["left"] -= 1
                raise OperationalError("server closed the connection unexpectedly")
            yield record

    flaky = Parser(
        product="tracks.gpx", matches=real.matches, parse=dropping_connection, sniff=real.sniff
    )
    original = registry.parser_for
    monkeypatch.setattr(
        registry,
        "parser_for",
        lambda p, head=b"": flaky if p.suffix == ".gpx" else original(p, head),
    )
    run = takeout_prepare(owner, path)
    with as_user(owner):
        with pytest.raises(OperationalError):
            takeout_import_run(import_id=run.pk)
        assert 0 < LocationPoint.objects.count() < 1000  # some batches were committed

        finished = takeout_import_run(import_id=run.pk)

        assert finished.status == Import.Status.DONE
        assert LocationPoint.objects.count() == 1000
    assert (finished.records_written, finished.records_duplicate) == (1000, 0)


def test_a_broken_track_file_is_quarantined_with_its_reason(owner, tmp_path):
    with as_user(owner):
        path = tmp_path / "broken.gpx"
        path.write_bytes(gpx_points(10)[:-40])
        run = takeout_import(owner, path)
        [entry] = run.entries.all()
        assert entry.status == "failed"
        assert "invalid or truncated GPX" in entry.error
        assert LocationPoint.objects.count() == 0
