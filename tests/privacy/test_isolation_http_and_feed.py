"""Cross-user reads through the API, the pages and the live feed: none succeed.

Requests run as the app runs them (``rls`` marker): the middleware or DRF's
authentication enters the user's context, nothing else does.
"""

from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore
from rest_framework.authtoken.models import Token

from apps.core.db.context import user_context
from apps.lake.models import Upload
from apps.lake.services import takeout_import_prepare
from apps.lake.tasks import run_takeout_import
from datapunk.asgi import application


@pytest.mark.django_db
def test_b_reads_nothing_of_a_through_the_api_and_pages(
    client, alice, bob, tmp_path, import_takeout
):
    alices = import_takeout(alice, points=200)
    bobs = import_takeout(bob, points=20)
    with user_context(alice.pk):
        upload = Upload.objects.create(user=alice, filename="a.zip", size=10, sha256="0" * 64)
    token = Token.objects.create(user=bob)

    client.force_login(bob)
    listed = client.get("/api/imports/").json()
    assert [item["id"] for item in listed["results"]] == [bobs.pk]
    for url in (
        f"/api/imports/{alices.pk}/",
        f"/api/imports/{alices.pk}/quarantine/",
        f"/api/uploads/{upload.pk}/",
        f"/imports/{alices.pk}/",
    ):
        assert client.get(url).status_code == 404, url
    response = client.put(
        f"/api/uploads/{upload.pk}/chunk/",
        b"x",
        content_type="application/octet-stream",
        HTTP_UPLOAD_OFFSET="0",
    )
    assert response.status_code == 404
    assert client.delete(f"/api/uploads/{upload.pk}/").status_code == 404
    client.logout()

    # A token request reaches the middleware anonymous: DRF's authentication
    # enters the context. Bob sees his own import (so a context was entered),
    # never Alice's.
    headers = {"HTTP_AUTHORIZATION": f"Token {token.key}"}
    listed = client.get("/api/imports/", **headers).json()
    assert [item["id"] for item in listed["results"]] == [bobs.pk]
    assert client.get(f"/api/imports/{alices.pk}/", **headers).status_code == 404
    assert client.get(f"/api/imports/{bobs.pk}/", **headers).status_code == 200
    # No credentials: refused, not an empty page.
    assert client.get("/api/imports/").status_code in (401, 403)


def _session_cookie(user) -> str:
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.save()
    return f"{settings.SESSION_COOKIE_NAME}={session.session_key}"


def _socket(cookie: str) -> WebsocketCommunicator:
    headers = [
        (b"origin", b"http://localhost"),
        (b"host", b"localhost"),
        (b"cookie", cookie.encode()),
    ]
    return WebsocketCommunicator(application, "/ws/feed/", headers=headers)


@pytest.mark.django_db(transaction=True)
async def test_b_hears_nothing_of_a_import_on_the_feed(alice, bob, tmp_path):
    from apps.lake.sample_takeout import build_sample_takeout

    alice_socket = _socket(await sync_to_async(_session_cookie)(alice))
    bob_socket = _socket(await sync_to_async(_session_cookie)(bob))
    assert (await alice_socket.connect())[0]
    assert (await bob_socket.connect())[0]

    def prepare() -> int:
        archive = build_sample_takeout(tmp_path / "takeout.zip", points=50)
        with user_context(alice.pk):
            return takeout_import_prepare(user=alice, paths=[archive]).pk

    import_id = await sync_to_async(prepare)()
    # The task as a worker runs it: it finds the owner itself, under real RLS.
    await sync_to_async(run_takeout_import)(import_id)

    heard = []
    while not heard or heard[-1]["type"] != "import.finished":
        heard.append(await alice_socket.receive_json_from(timeout=10))
    assert heard[-1]["data"]["import_id"] == import_id
    assert heard[-1]["data"]["status"] == "done"
    assert heard[-1]["data"]["records_written"] > 0
    assert await bob_socket.receive_nothing(timeout=0.5)
    await alice_socket.disconnect()
    await bob_socket.disconnect()


@pytest.mark.django_db(transaction=True)
async def test_a_consumer_reads_in_its_users_context_from_its_worker_thread(
    alice, bob, tmp_path, import_takeout
):
    from channels.db import database_sync_to_async

    from apps.core.db.context import run_as_user
    from apps.lake.models import Import

    def prepare() -> None:
        for user in (alice, bob):
            import_takeout(user, points=10)

    await sync_to_async(prepare)()

    def everything() -> list[int]:
        return list(Import.objects.values_list("user_id", flat=True))  # no filter at all

    assert await database_sync_to_async(run_as_user)(bob.pk, everything) == [bob.pk]
    assert await database_sync_to_async(everything)() == []  # no context: nothing
