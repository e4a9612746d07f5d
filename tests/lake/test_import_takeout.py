"""Takeout import end to end against the real database: every product, dedupe, shapes of input."""

import shutil
import zipfile

import pytest

from apps.lake.models import Event, Import, ImportEntry, LocationPoint, Place, Quarantine, Visit
from apps.lake.services import takeout_import_prepare, takeout_import_run

from .conftest import chrome_history, make_tgz, make_zip, records_json

pytestmark = pytest.mark.django_db

EXPECTED_KINDS = {
    "activity.search",
    "youtube.watch",
    "chrome.visit",
    "keep.note",
    "calendar.event",
    "contacts.contact",
    "gmail.message",
    "maps.saved_place",
    "play.install",
    "fit.session",
    "photos.photo",
    "location.activity",
}


def run_import(user, *paths):
    run = takeout_import_prepare(user=user, paths=list(paths))
    return takeout_import_run(import_id=run.pk)


def test_sample_takeout_lands_every_product(owner, sample_zip):
    run = run_import(owner, sample_zip)
    assert run.status == Import.Status.DONE, run.error
    assert LocationPoint.objects.filter(user=owner).count() == 300
    kinds = set(Event.objects.filter(user=owner).values_list("kind", flat=True))
    assert EXPECTED_KINDS <= kinds, EXPECTED_KINDS - kinds
    assert Visit.objects.filter(user=owner).count() == 5
    assert Place.objects.filter(user=owner).count() == 5
    # The one search with an unreadable time is quarantined with a reason, not dropped.
    bad = Quarantine.objects.get(user=owner)
    assert "yesterday-ish" in bad.excerpt
    assert bad.reason
    skipped = set(
        run.entries.filter(status=ImportEntry.Status.SKIPPED).values_list("path", flat=True)
    )
    assert skipped == {
        "Takeout/archive_browser.html",
        "Takeout/Google Photos/Lisbon 2024/IMG_0001.jpg",
    }
    assert not run.entries.exclude(status__in=["done", "skipped"]).exists()
    total = LocationPoint.objects.count() + Event.objects.count() + Visit.objects.count()
    assert run.records_written == total
    assert run.records_quarantined == 1
    assert run.bytes_done == run.bytes_total > 0


def test_importing_the_same_archive_twice_adds_nothing(owner, sample_zip):
    first = run_import(owner, sample_zip)
    counts = (
        LocationPoint.objects.count(),
        Event.objects.count(),
        Visit.objects.count(),
        Place.objects.count(),
    )
    second = run_import(owner, sample_zip)
    assert second.pk != first.pk
    assert second.status == Import.Status.DONE
    assert second.records_written == 0
    assert second.records_duplicate == first.records_written
    assert (
        LocationPoint.objects.count(),
        Event.objects.count(),
        Visit.objects.count(),
        Place.objects.count(),
    ) == counts


def test_two_users_importing_the_same_archive_each_get_their_rows(owner, outsider, sample_zip):
    run_import(owner, sample_zip)
    run_import(outsider, sample_zip)
    assert (
        LocationPoint.objects.filter(user=owner).count()
        == LocationPoint.objects.filter(user=outsider).count()
        == 300
    )


def test_extracted_folder_imports_like_the_zip(owner, sample_zip, tmp_path):
    folder = tmp_path / "extracted"
    with zipfile.ZipFile(sample_zip) as archive:
        archive.extractall(folder)
    run = run_import(owner, folder)
    assert run.status == Import.Status.DONE
    assert LocationPoint.objects.count() == 300
    assert EXPECTED_KINDS <= set(Event.objects.values_list("kind", flat=True))


def test_tgz_part_imports_like_the_zip(owner, tmp_path):
    members = {
        "Takeout/Location History/Records.json": records_json(40),
        "Takeout/Chrome/History.json": chrome_history(5),
    }
    run = run_import(owner, make_tgz(tmp_path / "takeout.tgz", members))
    assert run.status == Import.Status.DONE, run.error
    assert LocationPoint.objects.count() == 40
    assert Event.objects.filter(kind="chrome.visit").count() == 5


def test_several_parts_form_one_import(owner, tmp_path):
    part1 = make_zip(
        tmp_path / "takeout-001.zip", {"Takeout/Location History/Records.json": records_json(30)}
    )
    part2 = make_zip(
        tmp_path / "takeout-002.zip", {"Takeout/Chrome/History.json": chrome_history(4)}
    )
    run = run_import(owner, part1, part2)
    assert [part["name"] for part in run.parts] == ["takeout-001.zip", "takeout-002.zip"]
    assert all(len(part["sha256"]) == 64 for part in run.parts)
    assert LocationPoint.objects.count() == 30
    assert Event.objects.count() == 4


def test_a_lone_phone_timeline_with_any_name_is_recognised_by_content(owner, tmp_path):
    timeline = tmp_path / "my export from the phone.json"
    timeline.write_text(
        '{"semanticSegments": [{"startTime": "2024-01-01T10:00:00.000+01:00", "endTime": "2024-01-01T11:00:00.000+01:00",'
        ' "timelinePath": [{"point": "48.1234567°, 11.1234567°", "time": "2024-01-01T10:05:00.000+01:00"}]}],'
        ' "rawSignals": [], "userLocationProfile": {"frequentPlaces": []}}'
    )
    run = run_import(owner, timeline)
    assert run.entries.get().product.startswith("location.")
    point = LocationPoint.objects.get()
    assert (round(point.point.y, 7), round(point.point.x, 7)) == (48.1234567, 11.1234567)
    assert point.recorded_at.isoformat() == "2024-01-01T09:05:00+00:00"


def test_a_lone_records_json_and_mbox(owner, tmp_path, sample_zip):
    records = tmp_path / "Records.json"
    records.write_bytes(records_json(25))
    mbox = tmp_path / "mail.mbox"
    with zipfile.ZipFile(sample_zip) as archive:
        mbox.write_bytes(archive.read("Takeout/Mail/All mail Including Spam and Trash.mbox"))
    run = run_import(owner, records, mbox)
    assert run.status == Import.Status.DONE
    assert LocationPoint.objects.count() == 25
    assert Event.objects.filter(kind="gmail.message").count() == 2


def test_moved_parts_of_an_unfinished_import_resume_it(owner, sample_zip, tmp_path):
    first = takeout_import_prepare(user=owner, paths=[sample_zip])
    moved = tmp_path / "elsewhere.zip"
    shutil.move(sample_zip, moved)
    again = takeout_import_prepare(user=owner, paths=[moved])
    assert again.pk == first.pk
    assert again.parts[0]["path"] == str(moved)
