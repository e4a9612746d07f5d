"""Unsafe or broken input is refused with a clear message and leaves stored data untouched."""

import io
import os
import tarfile
import zipfile

import pytest

from apps.lake import archive as archive_module
from apps.lake.archive import ArchiveRejected
from apps.lake.models import Event, Import, ImportEntry, LocationPoint, Quarantine
from apps.lake.services import takeout_import_prepare, takeout_import_run
from tests.acting import as_user, count_of, takeout_import

from .conftest import chrome_history, make_tgz, make_zip, records_json

pytestmark = pytest.mark.django_db


@pytest.fixture
def existing_rows(owner, tmp_path):
    """Data already in the lake that no failed import may touch."""
    part = make_zip(tmp_path / "earlier.zip", {"Takeout/Chrome/History.json": chrome_history(3)})
    takeout_import(owner, part)
    return count_of(owner, Event)


def _rejected(owner, path) -> str:
    with as_user(owner):
        imports_before = Import.objects.count()
        with pytest.raises(ArchiveRejected) as error:
            takeout_import_prepare(user=owner, paths=[path])
        assert Import.objects.count() == imports_before
    return str(error.value)


def test_zip_path_traversal_is_rejected(owner, tmp_path, existing_rows):
    with as_user(owner):
        path = make_zip(
            tmp_path / "evil.zip", {"Takeout/ok.json": "{}", "../../etc/cron.d/evil": "boom"}
        )
        assert "unsafe member path '../../etc/cron.d/evil'" in _rejected(owner, path)
        assert Event.objects.count() == existing_rows


def test_absolute_member_path_is_rejected(owner, tmp_path):
    with as_user(owner):
        path = make_zip(tmp_path / "evil.zip", {"/etc/passwd": "root"})
        assert "unsafe member path" in _rejected(owner, path)


def test_tar_traversal_and_links_are_rejected(owner, tmp_path):
    with as_user(owner):
        assert "unsafe member path" in _rejected(
            owner, make_tgz(tmp_path / "evil.tgz", {"../x.json": "{}"})
        )
        link = tmp_path / "link.tgz"
        with tarfile.open(link, "w:gz") as archive:
            info = tarfile.TarInfo("Takeout/passwd")
            info.type = tarfile.SYMTYPE
            info.linkname = "/etc/passwd"
            archive.addfile(info)
        assert "is a link or device" in _rejected(owner, link)


def test_zip_bomb_is_rejected_by_ratio(owner, tmp_path):
    with as_user(owner):
        path = make_zip(
            tmp_path / "bomb.zip", {"Takeout/Chrome/History.json": b"\0" * (30 * 1024 * 1024)}
        )
        assert "likely archive bomb" in _rejected(owner, path)


def test_tgz_bomb_is_rejected_without_expanding_it_all(owner, tmp_path):
    with as_user(owner):
        path = make_tgz(
            tmp_path / "bomb.tgz",
            {f"Takeout/f{i}.json": b" " * (8 * 1024 * 1024) for i in range(4)},
        )
        assert "likely archive bomb" in _rejected(owner, path)


def test_total_size_limit(owner, tmp_path, monkeypatch):
    with as_user(owner):
        monkeypatch.setattr(archive_module, "MAX_TOTAL_BYTES", 1000)
        path = make_zip(tmp_path / "big.zip", {"Takeout/Chrome/History.json": chrome_history(50)})
        message = _rejected(owner, path)
        assert "more than the 1000 bytes allowed (DATAPUNK_MAX_ARCHIVE_BYTES)" in message


def test_truncated_zip_is_rejected(owner, tmp_path, existing_rows):
    with as_user(owner):
        whole = make_zip(
            tmp_path / "whole.zip", {"Takeout/Location History/Records.json": records_json(2000)}
        )
        cut = tmp_path / "takeout-cut.zip"
        cut.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
        assert "not a readable zip archive (truncated or corrupt?)" in _rejected(owner, cut)
        assert Event.objects.count() == existing_rows


def test_truncated_tgz_is_rejected(owner, tmp_path):
    with as_user(owner):
        whole = make_tgz(
            tmp_path / "whole.tgz", {"Takeout/Location History/Records.json": records_json(2000)}
        )
        cut = tmp_path / "cut.tgz"
        cut.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
        assert "not a readable tar archive (truncated or corrupt?)" in _rejected(owner, cut)


def test_file_named_zip_that_is_not_an_archive(owner, tmp_path):
    with as_user(owner):
        path = tmp_path / "takeout.zip"
        path.write_bytes(b"<html>the download page, not the archive</html>")
        assert "named like an archive but is not one" in _rejected(owner, path)


def test_corrupt_member_found_mid_import_rolls_back_the_whole_import(
    owner, tmp_path, existing_rows
):
    with as_user(owner):
        path = make_zip(
            tmp_path / "corrupt.zip",
            {
                "Takeout/Location History/Records.json": records_json(500),
                "Takeout/Chrome/History.json": chrome_history(400),
            },
        )
        # Flip bytes in the middle of the second member's compressed data: the
        # central directory still reads, the CRC check fails only while importing.
        with zipfile.ZipFile(path) as archive:
            info = archive.getinfo("Takeout/Chrome/History.json")
        data = bytearray(path.read_bytes())
        start = (
            info.header_offset + 30 + len(info.filename) + len(info.extra) + info.compress_size // 2
        )
        data[start : start + 16] = bytes(16)
        path.write_bytes(bytes(data))

        run = takeout_import_run(import_id=takeout_import_prepare(user=owner, paths=[path]).pk)
        assert run.status == Import.Status.FAILED
        assert "corrupt" in run.error
        assert run.records_written == 0
        assert LocationPoint.objects.count() == 0  # the first member's rows were rolled back
        assert Event.objects.count() == existing_rows


def test_non_utf8_json_member_fails_alone_with_a_reason(owner, tmp_path):
    with as_user(owner):
        latin1 = '{"Browser History": [{"title": "Caf\xe9", "url": "https://x.org", "time_usec": 1700000000000000}]}'
        path = make_zip(
            tmp_path / "mixed.zip",
            {
                "Takeout/Chrome/History.json": latin1.encode("latin-1"),
                "Takeout/Location History/Records.json": records_json(20),
            },
        )
        run = takeout_import_run(import_id=takeout_import_prepare(user=owner, paths=[path]).pk)
        assert run.status == Import.Status.DONE
        failed = run.entries.get(status=ImportEntry.Status.FAILED)
        assert failed.path == "Takeout/Chrome/History.json"
        assert "UTF-8" in failed.error
        assert Event.objects.count() == 0
        assert LocationPoint.objects.count() == 20
        reason = Quarantine.objects.get(entry=failed).reason
        assert reason.startswith("Takeout/Chrome/History.json: ") and "UTF-8" in reason


def test_json_broken_half_way_rolls_back_that_member_only(owner, tmp_path, monkeypatch):
    with as_user(owner):
        from apps.lake import writer

        monkeypatch.setattr(writer, "POINT_BATCH", 100)  # so some batches commit before the break
        broken = records_json(1000)[:-5000]
        path = make_zip(
            tmp_path / "broken.zip",
            {
                "Takeout/Location History/Records.json": broken,
                "Takeout/Chrome/History.json": chrome_history(3),
            },
        )
        run = takeout_import_run(import_id=takeout_import_prepare(user=owner, paths=[path]).pk)
        entry = run.entries.get(path="Takeout/Location History/Records.json")
        assert entry.status == ImportEntry.Status.FAILED
        assert "invalid or truncated JSON" in entry.error
        assert LocationPoint.objects.count() == 0
        assert entry.records_written == 0
        assert Event.objects.count() == 3
        assert run.records_written == 3


def test_a_parser_crash_fails_its_member_only(owner, tmp_path, monkeypatch):
    with as_user(owner):
        from pathlib import PurePosixPath

        from apps.lake.takeout import registry
        from apps.lake.takeout.records import Parser

        real = registry.parser_for(PurePosixPath("Takeout/Chrome/History.json"))

        def crashing(stream, path):
            yield from list(real.parse(stream, path))[:2]
            raise RuntimeError("parser bug")

        broken = Parser(product="chrome.history", matches=real.matches, parse=crashing)
        original = registry.parser_for
        monkeypatch.setattr(
            registry,
            "parser_for",
            lambda path, head=b"": broken if path.name == "History.json" else original(path, head),
        )
        path = make_zip(
            tmp_path / "t.zip",
            {
                "Takeout/Chrome/History.json": chrome_history(5),
                "Takeout/Location History/Records.json": records_json(10),
            },
        )
        run = takeout_import_run(import_id=takeout_import_prepare(user=owner, paths=[path]).pk)
        assert run.status == Import.Status.DONE
        failed = run.entries.get(status=ImportEntry.Status.FAILED)
        assert failed.path == "Takeout/Chrome/History.json"
        assert "RuntimeError: parser bug" in failed.error
        assert Event.objects.count() == 0  # the two visits it yielded were rolled back
        assert LocationPoint.objects.count() == 10


def _latin1_name(folder, name: bytes) -> None:
    os.makedirs(os.fsencode(folder), exist_ok=True)
    with open(os.path.join(os.fsencode(folder), name), "wb") as handle:
        handle.write(b"{}")


def test_folder_with_a_file_name_that_is_not_utf8_is_rejected(owner, tmp_path, existing_rows):
    with as_user(owner):
        folder = tmp_path / "Takeout"
        (folder / "Chrome").mkdir(parents=True)
        (folder / "Chrome" / "History.json").write_text(chrome_history(2))
        _latin1_name(folder / "Keep", b"Gr\xfc\xdfe.json")

        message = _rejected(owner, folder)
        assert "'Keep/Gr\ufffd\ufffde.json' is not valid UTF-8; rename it" in message
        assert Event.objects.count() == existing_rows


def test_tar_member_name_that_is_not_utf8_is_rejected(owner, tmp_path):
    with as_user(owner):
        path = tmp_path / "takeout.tar"
        # GNU headers keep the name's bytes as encoded (PAX would store UTF-8).
        with tarfile.open(path, "w", format=tarfile.GNU_FORMAT, encoding="latin-1") as archive:
            info = tarfile.TarInfo("Takeout/Keep/Grüße.json")
            info.size = 2
            archive.addfile(info, io.BytesIO(b"{}"))
        assert "is not valid UTF-8; rename it" in _rejected(owner, path)


def test_lone_file_whose_own_name_is_not_utf8_is_rejected(owner, tmp_path):
    with as_user(owner):
        _latin1_name(tmp_path, b"Zeitachse-\xe9t\xe9.json")
        [name] = [n for n in os.listdir(tmp_path) if n.startswith("Zeitachse")]
        assert "is not valid UTF-8" in _rejected(owner, tmp_path / name)


def _place_visit(i: int) -> dict:
    start = f"2021-08-01T{i // 3600 % 24:02d}:{i // 60 % 60:02d}:{i % 60:02d}Z"
    return {
        "placeVisit": {
            "location": {
                "latitudeE7": 387223000 + i,
                "longitudeE7": -91393000,
                "placeId": f"ChIJ-{i}",
                "name": f"place {i}",
            },
            "duration": {"startTimestamp": start, "endTimestamp": start},
        }
    }


def test_a_member_cut_off_after_a_committed_batch_leaves_no_place_behind(owner, tmp_path):
    with as_user(owner):
        import json

        from apps.lake.models import Place, Visit
        from apps.lake.writer import OTHER_BATCH

        folder = "Takeout/Location History (Timeline)/Semantic Location History/2021"
        # An earlier import knows place 0; the broken member mentions it again.
        earlier = {"timelineObjects": [_place_visit(0)]}
        run_first = takeout_import_run(
            import_id=takeout_import_prepare(
                user=owner,
                paths=[
                    make_zip(tmp_path / "a.zip", {f"{folder}/2021_JULY.json": json.dumps(earlier)})
                ],
            ).pk
        )
        assert run_first.records_written == 1 and Place.objects.filter(user=owner).count() == 1

        visits = [_place_visit(i) for i in range(OTHER_BATCH + 1000)]
        text = json.dumps({"timelineObjects": visits})
        cut = make_zip(tmp_path / "b.zip", {f"{folder}/2021_AUGUST.json": text[: len(text) - 500]})
        run = takeout_import_run(import_id=takeout_import_prepare(user=owner, paths=[cut]).pk)

        entry = run.entries.get()
        assert entry.status == ImportEntry.Status.FAILED and "truncated" in entry.error
        assert list(Place.objects.filter(user=owner).values_list("place_id", flat=True)) == [
            "ChIJ-0"
        ]
        assert Visit.objects.filter(user=owner).count() == 1  # the earlier import's
