"""The whole path a person takes: upload in the browser, a real Celery worker
imports, the page follows the progress over the websocket feed (daphne)."""

import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from apps.lake.sample_takeout import build_sample_takeout
from tests.browser import SCREENSHOTS
from tests.conftest import CELERY_WORKER

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_for_port(port: int, process: subprocess.Popen, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert process.poll() is None, "server exited"
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    pytest.fail(f"nothing listens on {port}")


@pytest.fixture
def services(child_env, tmp_path, background):
    """daphne and a Celery worker, on this test's database and a Redis database of their own."""
    port = _free_port()
    env = {**child_env, "DEBUG": "true", "DATAPUNK_UPLOAD_DIR": str(tmp_path / "uploads")}
    daphne_bin = str(Path(sys.executable).parent / "daphne")
    daphne = background(
        "daphne", [daphne_bin, "-b", "127.0.0.1", "-p", str(port), "datapunk.asgi:application"], env
    )
    background("worker", CELERY_WORKER, env)
    _wait_for_port(port, daphne)
    return f"http://127.0.0.1:{port}"


@pytest.fixture
def uploader(make_user, tmp_path):
    make_user("uploader", password="a long enough password")
    return build_sample_takeout(tmp_path / "takeout-20261123-001.zip", points=20_000, seed=5)


def test_upload_is_imported_by_a_worker_while_the_page_follows(uploader, services, browser):
    page = browser.new_page()
    page.goto(f"{services}/accounts/login/")
    page.fill("input[name=login]", "uploader")
    page.fill("input[name=password]", "a long enough password")
    page.click("button[type=submit]")
    page.wait_for_url(f"{services}/")

    page.goto(f"{services}/imports/")
    page.set_input_files("#parts", str(uploader))
    page.click("#upload")
    page.wait_for_url(f"{services}/imports/*/", timeout=60_000)
    # Nothing reloads this page but the feed: "done" and the summary arrive over the
    # websocket, or, when the import finished before the page's socket joined the feed
    # (the page can take seconds while daphne still loads the PII model its quarantine
    # list needs), from the progress the page reads once its socket is open.
    # (A selector, not wait_for_function: the page's Content-Security-Policy forbids eval.)
    page.wait_for_selector(".status:text-is('done')", timeout=90_000)
    page.wait_for_selector("text=location.records", timeout=30_000)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "upload-imported.png"), full_page=True)

    assert "takeout-20261123-001.zip" in page.content()
    # Points, events and the walk's steps (a measurement).
    assert page.locator(".written").first.inner_text() == str(20_000 + 34 + 1)
