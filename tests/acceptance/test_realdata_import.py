"""import_takeout on the real public samples: every record lands, a second run adds nothing.

The files are put into a Takeout-shaped zip at the paths Google uses, plus a
few lone files recognised by content, and imported with the management
command as a user would. Expected numbers are SOURCES.md's.
"""

import re
import zipfile
from io import StringIO

import pytest
from django.core.management import call_command

from apps.lake.models import Event, Import, ImportEntry, LocationPoint, Place, Quarantine, Visit
from tests.acting import as_user

pytestmark = pytest.mark.django_db

TAKEOUT_PATHS = {
    "track/testdata/prague-2014-04-25.json": "Takeout/Location History/Records.json",
    "kgeo-timeline/parser/src/test/resources/records.json": "Takeout/Location History (Timeline)/Records.json",
    "kgeo-timeline/parser/src/test/resources/semantic-2021-august.json": "Takeout/Location History (Timeline)/Semantic Location History/2021/2021_AUGUST.json",
    "google-takeout-to-sqlite/tests/zip_contents/Takeout/Location History/Location History.json": "Takeout/Standortverlauf/Location History.json",
    "google-takeout-to-sqlite/tests/zip_contents/Takeout/My Activity/Google Play Books/My Activity.json": "Takeout/My Activity/Google Play Books/My Activity.json",
    "google-takeout-to-sqlite/tests/zip_contents/Takeout/My Activity/Maps/My Activity.json": "Takeout/My Activity/Maps/My Activity.json",
    "google-takeout-to-sqlite/tests/zip_contents/Takeout/My Activity/Search/My Activity.json": "Takeout/My Activity/Search/My Activity.json",
    "google_takeout_parser/tests/test_json_extracted/test_parse_activity_json.json": "Takeout/My Activity/Discover/MyActivity.json",
    "google_takeout_parser/tests/testdata/HtmlTakeout/My Activity/Chrome/MyActivity.html": "Takeout/My Activity/Chrome/MyActivity.html",
    "history-report/historyreport/var/samples/BrowserHistory.json": "Takeout/Chrome/BrowserHistory.json",
    "google_takeout_parser/tests/test_json_extracted/test_chrome_history.json": "Takeout/Chrome/History.json",
    "google_takeout_parser/tests/test_json_extracted/test_parse_app_installs.json": "Takeout/Google Play Store/Installs.json",
    "google_takeout_parser/tests/test_json_extracted/test_parse_likes_json.json": "Takeout/YouTube and YouTube Music/playlists/likes.json",
    "google-takeout-to-sqlite/tests/mbox_contents/small.gmail.mbox": "Takeout/Mail/All mail Including Spam and Trash.mbox",
    "ical.js/samples/google_birthday.ics": "Takeout/Calendar/Birthdays.ics",
    "ical.js/samples/daily_recur.ics": "Takeout/Calendar/Daily.ics",
    "ical.js/samples/recur_instances.ics": "Takeout/Calendar/Work.ics",
    "vobject/test_files/radicale-1587.vcf": "Takeout/Contacts/Radicale/Radicale.vcf",
    "vobject/test_files/vcard40_full.vcf": "Takeout/Contacts/Full/Full.vcf",
    "vobject/test_files/vcard40_group.vcf": "Takeout/Contacts/Group/Group.vcf",
    "vobject/test_files/vcard40_simple.vcf": "Takeout/Contacts/Simple/Simple.vcf",
    "obsidian-importer/tests/keep/broken-json-note.json": "Takeout/Keep/broken-json-note.json",
    "obsidian-importer/tests/keep/invalid-keep-json-note.json": "Takeout/Keep/invalid-keep-json-note.json",
}
# Lone files, recognised by content (names say nothing about the product).
LONE_FILES = [
    "kgeo-device-timeline/lib/src/test/resources/test-data.json",
    "google_takeout_parser/tests/test_json_extracted/test_location_2024.json",
    "google_takeout_parser/tests/test_json_extracted/test_location_new.json",
    "google_takeout_parser/tests/test_json_extracted/test_location_old.json",
]

EXPECTED_EVENTS = {
    "activity.google_play_books": 1,
    "activity.maps": 2,
    "activity.search": 2,
    "activity.chrome": 3,  # the HTML page's 3 cards, named after the product folder they are in
    "activity.discover": 1,
    "chrome.visit": 7 + 1,
    "play.install": 1,
    "youtube.like": 1,
    "gmail.message": 6,
    "calendar.event": 4 + 1 + 3,
    "contacts.contact": 4,
    "keep.note": 13 + 1,  # broken-json-note.json is invalid JSON: quarantined, not a note
    "photos.photo": 3,
    "location.activity": 61,
}
# test_location_new and test_location_old are the same fix (2017-12-10T23:14:58.030Z
# at the same E7 position) in the ISO and the timestampMs format: one point.
EXPECTED_POINTS = 2039 + 12 + 2 + (10 + 2) + 1 + 1


@pytest.fixture
def takeout(realdata, tmp_path):
    archive = tmp_path / "takeout-20261123T000000Z-001.zip"
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for source, target in TAKEOUT_PATHS.items():
            zf.write(realdata / source, target)
        for note in sorted((realdata / "obsidian-importer/tests/keep/notes").glob("*.json")):
            zf.write(note, f"Takeout/Keep/{note.name}")
        for media in sorted(
            (realdata / "GooglePhotosTakeoutHelper/tests/integration/fixtures/input").iterdir()
        ):
            zf.write(media, f"Takeout/Google Photos/Photos from 2016/{media.name}")
    return [archive, *(realdata / lone for lone in LONE_FILES)]


def _import(paths, username):
    out, err = StringIO(), StringIO()
    call_command(
        "import_takeout", *map(str, paths), "--user", username, "--sync", stdout=out, stderr=err
    )
    return out.getvalue(), err.getvalue()


def test_every_record_lands_and_a_second_run_adds_nothing(owner, takeout):
    out, err = _import(takeout, owner.username)

    with as_user(owner):
        run = Import.objects.get()
        assert run.status == Import.Status.DONE
        kinds = {kind: Event.objects.filter(kind=kind).count() for kind in EXPECTED_EVENTS}
        assert kinds == EXPECTED_EVENTS
        assert LocationPoint.objects.count() == EXPECTED_POINTS
        assert (
            Visit.objects.count() == 64 + 9 + 2
        )  # placeVisits, their childVisits, the device timeline's visits
        assert Place.objects.count() >= 5  # at least the device timeline's frequent places

        broken = ImportEntry.objects.get(path="Takeout/Keep/broken-json-note.json")
        assert broken.status == ImportEntry.Status.FAILED
        assert "invalid JSON" in broken.error
        assert Quarantine.objects.filter(entry=broken).count() == 1
        skipped = set(ImportEntry.objects.filter(status="skipped").values_list("path", flat=True))
    assert {p for p in skipped if p.endswith(".jpg")} == {
        f"Takeout/Google Photos/Photos from 2016/{name}.jpg"
        for name in (
            "046a025ce4a74570347241df5bfe27cc",
            "0d885360a8dceda4d8d5d76c3e4cabaa",
            "791e169dbac35bd185ea56d252246132",
        )
    }

    # What the user sees: a progress bar, then a summary table per product.
    assert re.search(r"import \d+: 100%\|", err)
    # 6 Records-style files: 2039 + 12 + 2 + 1 + 1 + 1 fixes, one of them twice (see above).
    assert re.search(r"^location\.records\s+done\s+6\s+2055\s+1\s+0$", out, re.M)
    assert re.search(r"^location\.semantic\s+done\s+1\s+134\s+0\s+0$", out, re.M)  # 64 + 9 + 61
    assert re.search(r"^keep\.notes\s+failed\s+1\s+0\s+0\s+1$", out, re.M)
    assert f"import {run.pk}: done;" in out

    seen = run.records_written + run.records_duplicate
    with as_user(owner):
        counts = (
            Event.objects.count(),
            LocationPoint.objects.count(),
            Visit.objects.count(),
            Place.objects.count(),
        )
    out, _ = _import(takeout, owner.username)
    with as_user(owner):
        second = Import.objects.exclude(pk=run.pk).get()
        assert second.records_written == 0
        assert second.records_duplicate == seen
        assert (
            Event.objects.count(),
            LocationPoint.objects.count(),
            Visit.objects.count(),
            Place.objects.count(),
        ) == counts
