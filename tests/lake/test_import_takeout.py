"""Takeout import end to end against the real database: every product, dedupe, shapes of input."""

import json
import os
import shutil
import zipfile

import pytest
from django.db.models import Count

from apps.lake.metric_models import HealthMetric
from apps.lake.models import Event, Import, ImportEntry, LocationPoint, Place, Quarantine, Visit
from apps.lake.services import takeout_import_prepare
from tests.acting import as_user, count_of, refreshed, takeout_import

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


def test_sample_takeout_lands_every_product(owner, sample_zip):
    with as_user(owner):
        run = takeout_import(owner, sample_zip)
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
        # The walk's steps (its session's aggregate) are a measurement.
        assert list(HealthMetric.objects.values_list("metric", "value", "stream")) == [
            ("steps", 4200.0, "fit.sessions")
        ]
        assert run.records_written == total + 1
        assert run.records_quarantined == 1
        assert run.bytes_done == run.bytes_total > 0


def test_importing_the_same_archive_twice_adds_nothing(owner, sample_zip):
    with as_user(owner):
        first = takeout_import(owner, sample_zip)
        counts = (
            LocationPoint.objects.count(),
            Event.objects.count(),
            Visit.objects.count(),
            Place.objects.count(),
        )
        second = takeout_import(owner, sample_zip)
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
    takeout_import(owner, sample_zip)
    takeout_import(outsider, sample_zip)
    assert count_of(owner, LocationPoint) == count_of(outsider, LocationPoint) == 300


def test_extracted_folder_imports_like_the_zip(owner, sample_zip, tmp_path):
    with as_user(owner):
        folder = tmp_path / "extracted"
        with zipfile.ZipFile(sample_zip) as archive:
            archive.extractall(folder)
        run = takeout_import(owner, folder)
        assert run.status == Import.Status.DONE
        assert LocationPoint.objects.count() == 300
        assert EXPECTED_KINDS <= set(Event.objects.values_list("kind", flat=True))


def test_tgz_part_imports_like_the_zip(owner, tmp_path):
    with as_user(owner):
        members = {
            "Takeout/Location History/Records.json": records_json(40),
            "Takeout/Chrome/History.json": chrome_history(5),
        }
        run = takeout_import(owner, make_tgz(tmp_path / "takeout.tgz", members))
        assert run.status == Import.Status.DONE, run.error
        assert LocationPoint.objects.count() == 40
        assert Event.objects.filter(kind="chrome.visit").count() == 5


def test_several_parts_form_one_import(owner, tmp_path):
    with as_user(owner):
        part1 = make_zip(
            tmp_path / "takeout-001.zip",
            {"Takeout/Location History/Records.json": records_json(30)},
        )
        part2 = make_zip(
            tmp_path / "takeout-002.zip", {"Takeout/Chrome/History.json": chrome_history(4)}
        )
        run = takeout_import(owner, part1, part2)
        assert [part["name"] for part in run.parts] == ["takeout-001.zip", "takeout-002.zip"]
        assert all(len(part["sha256"]) == 64 for part in run.parts)
        assert LocationPoint.objects.count() == 30
        assert Event.objects.count() == 4


def test_a_lone_phone_timeline_with_any_name_is_recognised_by_content(owner, tmp_path):
    with as_user(owner):
        timeline = tmp_path / "my export from the phone.json"
        timeline.write_text(
            '{"semanticSegments": [{"startTime": "2024-01-01T10:00:00.000+01:00", "endTime": "2024-01-01T11:00:00.000+01:00",'
            ' "timelinePath": [{"point": "48.1234567°, 11.1234567°", "time": "2024-01-01T10:05:00.000+01:00"}]}],'
            ' "rawSignals": [], "userLocationProfile": {"frequentPlaces": []}}'
        )
        run = takeout_import(owner, timeline)
        assert run.entries.get().product.startswith("location.")
        point = LocationPoint.objects.get()
        assert (round(point.point.y, 7), round(point.point.x, 7)) == (48.1234567, 11.1234567)
        assert point.recorded_at.isoformat() == "2024-01-01T09:05:00+00:00"


def test_a_lone_records_json_and_mbox(owner, tmp_path, sample_zip):
    with as_user(owner):
        records = tmp_path / "Records.json"
        records.write_bytes(records_json(25))
        mbox = tmp_path / "mail.mbox"
        with zipfile.ZipFile(sample_zip) as archive:
            mbox.write_bytes(archive.read("Takeout/Mail/All mail Including Spam and Trash.mbox"))
        run = takeout_import(owner, records, mbox)
        assert run.status == Import.Status.DONE
        assert LocationPoint.objects.count() == 25
        assert Event.objects.filter(kind="gmail.message").count() == 2


def test_moved_parts_of_an_unfinished_import_resume_it(owner, sample_zip, tmp_path):
    with as_user(owner):
        first = takeout_import_prepare(user=owner, paths=[sample_zip])
        moved = tmp_path / "elsewhere.zip"
        shutil.move(sample_zip, moved)
        again = takeout_import_prepare(user=owner, paths=[moved])
        assert again.pk == first.pk
        assert again.parts[0]["path"] == str(moved)


CSV_TAKEOUT = {
    "Takeout/YouTube and YouTube Music/subscriptions/subscriptions.csv": (
        "Channel Id,Channel Url,Channel Title\r\n"
        "UC1,http://www.youtube.com/channel/UC1,Cooking\r\n"
        "UC2,http://www.youtube.com/channel/UC2,Trains\r\n"
    ),
    "Takeout/YouTube and YouTube Music/comments/comments.csv": (
        "Comment ID,Channel ID,Comment Create Timestamp,Price,Parent Comment ID,Video ID,Comment Text\n"
        'Ugx1,UC9,2023-09-19T17:42:53.434647+00:00,0,,WtOskFeLmr4,"{""text"":""nice""}"\n'
    ),
    "Takeout/Saved/Want to go.csv": (
        "Title,Note,URL,Tags,Comment\r\n"
        "Roscioli,,https://www.google.com/maps/place/Roscioli,,\r\n"
        "Bar Basso,,https://maps.app.goo.gl/BarBasso,drinks,\r\n"
    ),
    "Takeout/Fit/Daily activity metrics/Daily activity metrics.csv": (
        "Date,Move Minutes count,Calories (kcal),Step count\r\n"
        "2021-06-09,30,1800.5,5321\r\n"
        "2021-06-10,10,1700,1200\r\n"
    ),
    "Takeout/Fit/Daily activity metrics/2021-06-10.csv": (
        "Start time,End time,Move Minutes count,Calories (kcal),Step count\n"
        "00:00:00.000+02:00,00:15:00.000+02:00,,22.5,\n"
        "23:45:00.000+02:00,00:00:00.000+02:00,3,25.1,312\n"
    ),
}


@pytest.mark.parametrize("container", ["zip", "tgz", "folder"])
def test_csv_products_are_read_from_every_kind_of_part(owner, tmp_path, container):
    with as_user(owner):
        # CSV parsers read through a text wrapper: this is the path a member stream takes.
        if container == "zip":
            part = make_zip(tmp_path / "takeout.zip", CSV_TAKEOUT)
        elif container == "tgz":
            part = make_tgz(tmp_path / "takeout.tgz", CSV_TAKEOUT)
        else:
            part = tmp_path / "extracted"
            for name, content in CSV_TAKEOUT.items():
                (part / name).parent.mkdir(parents=True, exist_ok=True)
                (part / name).write_text(content)

        run = takeout_import(owner, part)

        assert run.status == Import.Status.DONE
        assert set(run.entries.values_list("status", flat=True)) == {ImportEntry.Status.DONE}
        kinds = {
            kind: Event.objects.filter(user=owner, kind=kind).count()
            for kind in (
                "youtube.subscription",
                "youtube.comment",
                "maps.saved_list_item",
            )
        }
        assert kinds == {"youtube.subscription": 2, "youtube.comment": 1, "maps.saved_list_item": 2}
        # Fit's CSVs are measurements: 2 days x 3 numbers, 4 numbers of the intervals.
        streams = dict(
            HealthMetric.objects.filter(user=owner)
            .values("stream")
            .annotate(n=Count("id"))
            .values_list("stream", "n")
        )
        assert streams == {"fit.daily_metrics": 6, "fit.intervals": 4}
        assert run.records_quarantined == 0


def test_text_that_spells_a_nul_escape_is_stored_as_written(owner, tmp_path):
    with as_user(owner):
        title = "What does \\u0000 mean in a JSON string?"
        history = {
            "Browser History": [
                {
                    "title": title,
                    "url": "https://example.org/q",
                    "time_usec": 1_700_000_000_000_000,
                },
                {
                    "title": "real\x00nul",
                    "url": "https://example.org/n",
                    "time_usec": 1_700_000_001_000_000,
                },
            ]
        }
        archive = make_zip(
            tmp_path / "takeout.zip", {"Takeout/Chrome/History.json": json.dumps(history)}
        )

        run = takeout_import(owner, archive)

        assert run.status == Import.Status.DONE and run.records_written == 2
        stored = dict(Event.objects.filter(user=owner).values_list("url", "title"))
        assert stored == {"https://example.org/q": title, "https://example.org/n": "realnul"}
        assert Event.objects.get(url="https://example.org/q").data["title"] == title


def test_undated_items_are_the_same_rows_in_a_later_export(owner, tmp_path):
    with as_user(owner):
        from apps.lake.normalize import UNDATED

        members = {
            "Takeout/Contacts/My Contacts/My Contacts.vcf": (
                "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Ana Demo\r\nN:Demo;Ana;;;\r\n"
                "EMAIL;TYPE=INTERNET:ana@example.org\r\nEND:VCARD\r\n"
            ),
            "Takeout/YouTube and YouTube Music/subscriptions/subscriptions.csv": (
                "Channel Id,Channel Url,Channel Title\r\nUC1,http://www.youtube.com/channel/UC1,Cooking\r\n"
            ),
        }
        first = takeout_import(owner, make_zip(tmp_path / "takeout-2025.zip", members))
        assert first.records_written == 2
        assert set(Event.objects.filter(user=owner).values_list("occurred_at", flat=True)) == {
            UNDATED
        }

        # The next export, unpacked: same items, every file with a new time.
        later = tmp_path / "takeout-2026"
        for name, content in members.items():
            (later / name).parent.mkdir(parents=True, exist_ok=True)
            (later / name).write_text(content)
            os.utime(later / name, (1_790_000_000, 1_790_000_000))
        second = takeout_import(owner, later)

        assert (second.records_written, second.records_duplicate) == (0, 2)
        assert Event.objects.filter(user=owner).count() == 2


@pytest.mark.parametrize(
    ("folder", "json_name", "kind"),
    [
        ("Takeout/My Activity/Search", "MyActivity", "activity.search"),
        ("Takeout/YouTube and YouTube Music/history", "search-history", "youtube.search"),
    ],
)
def test_history_exported_as_json_and_html_is_read_once(owner, tmp_path, folder, json_name, kind):
    with as_user(owner):
        from .takeout.test_my_activity import card, page

        item = {
            "header": "Search",
            "title": "Searched for tram 28",
            "titleUrl": "https://www.google.com/search?q=tram+28",
            "time": "2024-03-01T10:00:00.123Z",
            "products": ["Search"],
        }
        html = page(
            card(
                "Search",
                'Searched for&nbsp;<a href="https://www.google.com/search?q=tram+28">tram 28</a>'
                "<br>Mar 1, 2024, 10:00:00 AM UTC",
            )
        )
        archive = make_zip(
            tmp_path / "takeout.zip",
            {f"{folder}/{json_name}.json": json.dumps([item]), f"{folder}/{json_name}.html": html},
        )

        run = takeout_import(owner, archive)

        assert Event.objects.filter(user=owner).count() == 1
        assert Event.objects.get(user=owner).kind == kind
        html_entry = run.entries.get(path=f"{folder}/{json_name}.html")
        assert html_entry.status == ImportEntry.Status.SKIPPED
        assert html_entry.error == f"the same items are read from {json_name}.json beside it"


def test_html_history_alone_is_read(owner, tmp_path):
    with as_user(owner):
        from .takeout.test_my_activity import card, page

        html = page(card("Search", "Searched for&nbsp;tram<br>Mar 1, 2024, 10:00:00 AM UTC"))
        archive = make_zip(tmp_path / "t.zip", {"Takeout/My Activity/Search/MyActivity.html": html})
        run = takeout_import(owner, archive)
        assert run.entries.get().status == ImportEntry.Status.DONE
        assert Event.objects.filter(user=owner, kind="activity.search").count() == 1


def test_a_photo_is_one_event_wherever_the_export_puts_its_sidecar(owner, tmp_path):
    with as_user(owner):
        sidecar = json.dumps(
            {
                "title": "IMG_0001.jpg",
                "photoTakenTime": {"timestamp": "1709460000"},
                "geoData": {"latitude": 38.7223, "longitude": -9.1393, "altitude": 0.0},
                "url": "https://photos.google.com/photo/AF1Qip",
            }
        )
        members = {
            "Takeout/Google Photos/Photos from 2024/IMG_0001.jpg.supplemental-metadata.json": sidecar,
            "Takeout/Google Photos/Lisbon/IMG_0001.jpg.supplemental-metadata.json": sidecar,
        }
        run = takeout_import(owner, make_zip(tmp_path / "takeout.zip", members))
        assert (run.records_written, run.records_duplicate) == (1, 1)

        unpacked = tmp_path / "unpacked"
        for name, content in members.items():
            target = unpacked / name.removeprefix("Takeout/")  # one level less above it
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(content)
        again = takeout_import(owner, unpacked)

        assert (again.records_written, again.records_duplicate) == (0, 2)
        [photo] = Event.objects.filter(user=owner, kind="photos.photo")
        assert photo.data["media_path"] == "Takeout/Google Photos/Photos from 2024/IMG_0001.jpg"
        assert photo.location is not None


def test_places_are_counted_as_written_then_as_already_present(owner, tmp_path):
    with as_user(owner):
        timeline = {
            "semanticSegments": [],
            "rawSignals": [],
            "userLocationProfile": {
                "frequentPlaces": [
                    {
                        "placeId": "ChIJ-home",
                        "placeLocation": "38.7223°, -9.1393°",
                        "label": "HOME",
                    },
                    {
                        "placeId": "ChIJ-work",
                        "placeLocation": "38.7369°, -9.1427°",
                        "label": "WORK",
                    },
                ]
            },
        }
        path = tmp_path / "Timeline.json"
        path.write_text(json.dumps(timeline))

        first = takeout_import(owner, path)
        second = takeout_import(owner, path)

        assert (first.records_written, first.records_duplicate) == (2, 0)
        assert (second.records_written, second.records_duplicate) == (0, 2)
        assert set(Place.objects.filter(user=owner).values_list("place_id", "semantic_type")) == {
            ("ChIJ-home", "HOME"),
            ("ChIJ-work", "WORK"),
        }


def test_a_place_without_an_id_is_quarantined_not_dropped(owner):
    with as_user(owner):
        from apps.lake.takeout.records import PlaceRecord
        from apps.lake.writer import BatchWriter

        with BatchWriter(user_id=owner.pk, source="test") as writer:
            writer.add(PlaceRecord(place_id="", latitude=1.0, longitude=2.0, name="nowhere"))
            result = writer.flush()

        assert (result.written, result.quarantined) == (0, 1)
        assert "without a placeId" in Quarantine.objects.get(user=owner).reason
        assert not Place.objects.filter(user=owner).exists()


def _ics(dtstamp: str, summary: str = "Fado night") -> str:
    return (
        "BEGIN:VCALENDAR\r\nPRODID:-//Google Inc//Google Calendar 70.9054//EN\r\nVERSION:2.0\r\n"
        "BEGIN:VEVENT\r\nDTSTART:20240305T180000Z\r\nDTEND:20240305T210000Z\r\n"
        f"DTSTAMP:{dtstamp}\r\nUID:fado@google.com\r\nSUMMARY:{summary}\r\n"
        "END:VEVENT\r\nEND:VCALENDAR\r\n"
    )


def _sidecar(views: str) -> str:
    return json.dumps(
        {
            "title": "IMG_0001.jpg",
            "imageViews": views,
            "photoTakenTime": {"timestamp": "1709460000"},
            "url": "https://photos.google.com/photo/AF1Qip",
        }
    )


def test_a_later_export_that_only_restamps_items_adds_nothing(owner, tmp_path):
    with as_user(owner):
        calendar = "Takeout/Calendar/Work.ics"
        photo = "Takeout/Google Photos/Photos from 2024/IMG_0001.jpg.supplemental-metadata.json"
        first = takeout_import(
            owner,
            make_zip(
                tmp_path / "2025.zip", {calendar: _ics("20250101T000000Z"), photo: _sidecar("3")}
            ),
        )
        later = takeout_import(
            owner,
            make_zip(
                tmp_path / "2026.zip", {calendar: _ics("20260101T000000Z"), photo: _sidecar("9")}
            ),
        )

        assert (first.records_written, later.records_written, later.records_duplicate) == (2, 0, 2)
        event = Event.objects.get(user=owner, kind="calendar.event")
        assert event.data["DTSTAMP"] == [{"value": "20250101T000000Z"}]  # as first seen
        assert "DTSTAMP" not in event.data["properties"]
        assert Event.objects.get(user=owner, kind="photos.photo").data["imageViews"] == "3"


def test_a_changed_event_is_stored_as_its_new_version(owner, tmp_path):
    with as_user(owner):
        takeout_import(
            owner,
            make_zip(tmp_path / "a.zip", {"Takeout/Calendar/W.ics": _ics("20250101T000000Z")}),
        )
        changed = _ics("20260101T000000Z", summary="Fado night (moved)")
        run = takeout_import(
            owner, make_zip(tmp_path / "b.zip", {"Takeout/Calendar/W.ics": changed})
        )
        assert run.records_written == 1


def test_an_app_updated_between_exports_is_still_one_install(owner, tmp_path):
    with as_user(owner):

        def installs(updated: str) -> str:
            install = {
                "doc": {"documentType": "Android Apps", "title": "Maps"},
                "firstInstallationTime": "2020-05-01T10:00:00.000Z",
                "deviceAttribute": {"deviceDisplayName": "Pixel"},
                "lastUpdateTime": updated,
            }
            return json.dumps([{"install": install}])

        path = "Takeout/Google Play Store/Installs.json"
        takeout_import(
            owner, make_zip(tmp_path / "a.zip", {path: installs("2025-01-01T00:00:00.000Z")})
        )
        later = takeout_import(
            owner, make_zip(tmp_path / "b.zip", {path: installs("2026-06-01T00:00:00.000Z")})
        )

        assert (later.records_written, later.records_duplicate) == (0, 1)
        assert Event.objects.filter(user=owner, kind="play.install").count() == 1


def test_a_photo_in_several_albums_knows_them_all_and_the_albums_list_it(owner, tmp_path):
    with as_user(owner):
        from apps.lake.selectors import albums_of_photo, photos_in_album

        def sidecar(title: str, taken: str) -> str:
            return json.dumps({"title": title, "photoTakenTime": {"timestamp": taken}})

        def album(title: str) -> str:
            return json.dumps({"title": title, "date": {"timestamp": "1709460000"}})

        root = "Takeout/Google Photos"
        first = {
            f"{root}/Photos from 2024/IMG_1.jpg.supplemental-metadata.json": sidecar(
                "IMG_1.jpg", "1709460000"
            ),
            f"{root}/Lisbon/IMG_1.jpg.supplemental-metadata.json": sidecar(
                "IMG_1.jpg", "1709460000"
            ),
            f"{root}/Lisbon/metadata.json": album("Lisbon"),
            f"{root}/Best of/IMG_1.jpg.supplemental-metadata.json": sidecar(
                "IMG_1.jpg", "1709460000"
            ),
            f"{root}/Best of/IMG_2.jpg.supplemental-metadata.json": sidecar(
                "IMG_2.jpg", "1709470000"
            ),
            f"{root}/Best of/metadata.json": album("Best of"),
        }
        run = takeout_import(owner, make_zip(tmp_path / "takeout-1.zip", first))
        # Two photos and two albums; the second and third copy of IMG_1 add no row.
        assert (run.records_written, run.records_duplicate) == (4, 2)
        one = Event.objects.get(user=owner, kind="photos.photo", title="IMG_1.jpg")
        assert one.data["albums"] == ["Best of", "Lisbon"]

        # A later export puts the photo in one more album: the same row learns it.
        later = {
            f"{root}/Porto/IMG_1.jpg.supplemental-metadata.json": sidecar(
                "IMG_1.jpg", "1709460000"
            ),
            f"{root}/Porto/metadata.json": album("Porto"),
        }
        again = takeout_import(owner, make_zip(tmp_path / "takeout-2.zip", later))
        assert (again.records_written, again.records_duplicate) == (1, 1)  # the album is new
        refreshed(one)
        assert one.data["albums"] == ["Best of", "Lisbon", "Porto"]
        assert Event.objects.filter(user=owner, kind="photos.photo").count() == 2
        # Importing the first export again changes nothing.
        third = takeout_import(owner, make_zip(tmp_path / "takeout-3.zip", first))
        assert third.records_written == 0
        refreshed(one)
        assert one.data["albums"] == ["Best of", "Lisbon", "Porto"]

        albums = {a.title: a for a in Event.objects.filter(user=owner, kind="photos.album")}
        assert [p.title for p in photos_in_album(albums["Best of"])] == ["IMG_1.jpg", "IMG_2.jpg"]
        assert [p.title for p in photos_in_album(albums["Porto"])] == ["IMG_1.jpg"]
        assert [a.title for a in albums_of_photo(one)] == ["Best of", "Lisbon", "Porto"]
