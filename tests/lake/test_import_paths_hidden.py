"""Where the server keeps uploaded parts is never shown: not by the API, not on the pages.

An import's parts are shown by file name, size and sha256 only; errors about a
part name the file, not the folder it sits in on the server.
"""

import hashlib
import re

import pytest

from apps.lake.models import Import
from apps.lake.tasks import run_takeout_import
from apps.lake.uploads import upload_path
from tests.acting import one_of

pytestmark = pytest.mark.django_db

# Any absolute POSIX path of two levels or more ("/tmp/x", "/srv/datapunk/var").
ABSOLUTE_PATH = re.compile(r"(?<![\w.:/])/(?:[\w.-]+/)+[\w.-]+")


@pytest.fixture(autouse=True)
def upload_dir(tmp_path, settings):
    settings.UPLOAD_DIR = tmp_path / "uploads"
    return settings.UPLOAD_DIR


def _upload(client, data: bytes, name: str) -> int:
    response = client.post(
        "/api/uploads/",
        {"filename": name, "size": len(data), "sha256": hashlib.sha256(data).hexdigest()},
        content_type="application/json",
    )
    upload_id = response.json()["id"]
    client.put(
        f"/api/uploads/{upload_id}/chunk/",
        data,
        content_type="application/octet-stream",
        HTTP_UPLOAD_OFFSET="0",
    )
    assert client.post(f"/api/uploads/{upload_id}/complete/").status_code == 200
    return upload_id


def _start(client, upload_id: int) -> int:
    response = client.post(
        "/api/imports/", {"uploads": [upload_id]}, content_type="application/json"
    )
    assert response.status_code == 201, response.content
    return response.json()["id"]


def _assert_no_server_path(text: str, upload_dir, *, json: bool = True) -> None:
    top = f"/{upload_dir.parts[1]}/"  # "/tmp/": pages link /static/..., never this
    assert str(upload_dir) not in text and top not in text
    if json:  # an API answer holds no absolute path at all
        assert not ABSOLUTE_PATH.findall(text), ABSOLUTE_PATH.findall(text)


def test_parts_are_shown_by_name_size_and_sha256(client, owner, sample_zip, upload_dir):
    data = sample_zip.read_bytes()
    client.force_login(owner)
    upload_id = _upload(client, data, "takeout-001.zip")
    started = client.post(
        "/api/imports/", {"uploads": [upload_id]}, content_type="application/json"
    )
    _assert_no_server_path(started.content.decode(), upload_dir)
    run_id = started.json()["id"]
    run_takeout_import(run_id)
    # The server still knows where the part is (a resumed import reads it from there).
    assert one_of(owner, Import, pk=run_id).parts[0]["path"].startswith(str(upload_dir))

    detail = client.get(f"/api/imports/{run_id}/")
    listing = client.get("/api/imports/")

    expected = [
        {"name": "takeout-001.zip", "size": len(data), "sha256": hashlib.sha256(data).hexdigest()}
    ]
    assert detail.json()["parts"] == expected
    assert listing.json()["results"][0]["parts"] == expected
    for response in (detail, listing):
        _assert_no_server_path(response.content.decode(), upload_dir)
    for page in (client.get("/imports/"), client.get(f"/imports/{run_id}/")):
        assert page.status_code == 200
        _assert_no_server_path(page.content.decode(), upload_dir, json=False)


def test_a_part_gone_from_the_server_is_named_without_its_folder(
    client, owner, sample_zip, upload_dir
):
    client.force_login(owner)
    upload_id = _upload(client, sample_zip.read_bytes(), "takeout-001.zip")
    run_id = _start(client, upload_id)
    from apps.lake.models import Upload

    upload_path(one_of(owner, Upload, pk=upload_id)).unlink()  # the disk lost it

    run_takeout_import(run_id)

    run = one_of(owner, Import, pk=run_id)
    assert run.status == Import.Status.FAILED
    assert "takeout-001.zip" in run.error
    for response in (client.get(f"/api/imports/{run_id}/"), client.get("/api/imports/")):
        _assert_no_server_path(response.content.decode(), upload_dir)
    page = client.get(f"/imports/{run_id}/")
    assert "takeout-001.zip" in page.content.decode()
    _assert_no_server_path(page.content.decode(), upload_dir, json=False)
