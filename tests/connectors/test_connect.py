"""Connecting through allauth's own views against the fake provider, and the connections page."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
import requests
from allauth.socialaccount.models import SocialAccount, SocialToken

from apps.connectors.models import Connection
from apps.core.db.context import system_context
from apps.privacy.models import AuditEntry
from tests.acting import as_user, count_of, one_of, refreshed
from tests.connectors.conftest import make_connection

pytestmark = pytest.mark.django_db(transaction=True)


def _connect(client, provider: str, fake) -> str:
    """The browser's part: start at allauth, consent at the fake, come back."""
    start = client.post(f"/accounts/{provider}/login/?process=connect&next=/connections/")
    assert start.status_code == 302, start.content[:500]
    authorize = start["Location"]
    assert authorize.startswith(fake.url), authorize
    consent = requests.get(authorize, allow_redirects=False, timeout=5)
    assert consent.status_code == 302
    back = urlsplit(consent.headers["Location"])
    done = client.get(f"{back.path}?{back.query}")
    assert done.status_code == 302, done.content[:2000]
    return done["Location"]


def test_connecting_keeps_sealed_tokens_audits_and_leaves_allauth_none(client, owner, spotify):
    client.force_login(owner)

    landed = _connect(client, "spotify", spotify)

    assert landed == "/connections/"
    with as_user(owner):
        conn = one_of(owner, Connection, provider="spotify")
        entry = AuditEntry.objects.get(action="connector.consent", user_id=owner.pk)
        assert count_of(owner, SocialAccount, provider="spotify", uid="fakeuser") > 0
    assert conn.external_id == "fakeuser" and conn.display_name == "Fake User"
    assert conn.status == Connection.Status.ACTIVE
    assert conn.access_token in spotify.access and conn.refresh_token in spotify.refresh
    assert conn.scopes == [
        "user-read-recently-played",
        "user-library-read",
        "playlist-read-private",
        "playlist-read-collaborative",
    ]
    assert conn.token_expires_at is not None
    authorize = next(r for r in spotify.log if r.path == "/authorize")
    assert sorted(authorize.query["scope"].split()) == sorted(conn.scopes)
    assert SocialToken.objects.count() == 0
    assert entry.target == f"connection:{conn.pk}" and entry.detail["provider"] == "spotify"

    page = client.get("/connections/").content.decode()
    assert "Fake User" in page and "active" in page


def test_reconnecting_after_revocation_reactivates_and_keeps_the_cursor(client, owner, spotify):
    client.force_login(owner)
    _connect(client, "spotify", spotify)
    with as_user(owner):
        conn = one_of(owner, Connection)
        Connection.objects.filter(pk=conn.pk).update(
            status=Connection.Status.NEEDS_RECONSENT,
            access_token_sealed="",
            cursor={"played_after": "5"},
        )

    _connect(client, "spotify", spotify)

    with as_user(owner):
        refreshed(conn)
        assert count_of(owner, Connection) == 1
        assert AuditEntry.objects.filter(action="connector.consent", user_id=owner.pk).count() == 2
    assert conn.status == Connection.Status.ACTIVE and conn.access_token
    assert conn.cursor == {"played_after": "5"}


def test_an_account_connected_by_another_user_is_not_taken_over(client, owner, outsider, spotify):
    client.force_login(outsider)
    _connect(client, "spotify", spotify)
    client.force_login(owner)

    _connect(client, "spotify", spotify)

    with as_user(owner):
        assert not count_of(owner, Connection) > 0
    with as_user(outsider):
        assert count_of(outsider, Connection) == 1


def test_signing_in_with_a_provider_keeps_no_token(client, owner, spotify, settings):
    settings.SIGNUP_OPEN = True
    start = client.post("/accounts/spotify/login/")
    consent = requests.get(start["Location"], allow_redirects=False, timeout=5)
    back = urlsplit(consent.headers["Location"])
    client.get(f"{back.path}?{back.query}")

    with system_context():  # no one's: the new account's and everyone else's
        assert not Connection.objects.exists()
    assert SocialToken.objects.count() == 0


def test_the_page_needs_a_login_and_shows_every_connector(client, owner, spotify):
    assert client.get("/connections/").status_code == 302
    client.force_login(owner)

    page = client.get("/connections/").content.decode()

    for label in ("Spotify",):
        assert label in page
    assert 'action="/accounts/spotify/login/?process=connect' in page


def test_an_unconfigured_provider_says_how_to_set_it_up(client, owner, settings):
    settings.SOCIALACCOUNT_PROVIDERS = {}
    client.force_login(owner)

    page = client.get("/connections/").content.decode()

    assert "DATAPUNK_SPOTIFY_CLIENT_ID" in page
    assert "/accounts/spotify/login/" not in page


def test_sync_now_and_disconnect_refuse_other_users_ids_and_bad_input(
    client, owner, outsider, spotify
):
    theirs = make_connection(outsider, "spotify", spotify)
    client.force_login(owner)

    assert client.post(f"/connections/{theirs.pk}/sync/").status_code == 404
    assert client.post(f"/connections/{theirs.pk}/disconnect/").status_code == 404
    assert client.post("/connections/999999/sync/").status_code == 404
    assert client.get("/connections/abc/sync/").status_code == 404
    assert client.get(f"/connections/{theirs.pk}/sync/").status_code in (404, 405)
    assert refreshed(theirs).status == Connection.Status.ACTIVE and theirs.access_token
    client.logout()
    assert client.post(f"/connections/{theirs.pk}/disconnect/").status_code == 302  # to login
    assert refreshed(theirs).status == Connection.Status.ACTIVE


def test_sync_now_queues_the_sync(
    client, owner, spotify, eager_celery, django_capture_on_commit_callbacks
):
    conn = make_connection(owner, "spotify", spotify)
    client.force_login(owner)
    response = client.post(f"/connections/{conn.pk}/sync/", follow=True)

    assert "Sync of" in response.content.decode()
    assert refreshed(conn).last_sync_at is not None


def test_disconnect_deletes_the_tokens_and_the_social_account(client, owner, spotify):
    client.force_login(owner)
    _connect(client, "spotify", spotify)
    with as_user(owner):
        conn = one_of(owner, Connection)

    response = client.post(f"/connections/{conn.pk}/disconnect/", follow=True)

    assert response.status_code == 200
    assert refreshed(conn).status == Connection.Status.REVOKED
    assert conn.access_token_sealed == "" and conn.refresh_token_sealed == ""
    assert not count_of(owner, SocialAccount) > 0
    with as_user(owner):
        assert AuditEntry.objects.filter(action="connector.disconnect", user_id=owner.pk).exists()


def test_the_login_url_of_an_unconfigured_provider_is_a_404_not_a_500(client, owner, settings):
    settings.SOCIALACCOUNT_PROVIDERS = {}
    client.force_login(owner)
    client.raise_request_exception = False

    for provider in ("spotify", "google", "microsoft", "discord", "twitch"):
        start = client.post(f"/accounts/{provider}/login/?process=connect")
        back = client.get(f"/accounts/{provider}/login/callback/?code=x&state=y")
        assert (start.status_code, back.status_code) == (404, 404), provider
    with as_user(owner):
        assert not Connection.objects.exists()


def test_a_forged_callback_connects_nothing(client, owner, spotify):
    client.force_login(owner)
    client.raise_request_exception = False

    response = client.get("/accounts/spotify/login/callback/?code=stolen&state=forged")

    assert response.status_code < 500
    with as_user(owner):
        assert not Connection.objects.exists()
    assert not [r for r in spotify.log if r.path == "/api/token"]


def test_the_admin_lists_connections_without_their_tokens(
    admin_client, owner, spotify, admin_access
):
    conn = make_connection(owner, "spotify", spotify)
    admin_access(admin_client, "owner", reason="support: a connection that does not sync")

    listing = admin_client.get("/admin/connectors/connection/").content.decode()
    page = admin_client.get(f"/admin/connectors/connection/{conn.pk}/change/").content.decode()

    assert "spotify" in listing
    assert conn.access_token_sealed not in page and conn.access_token not in page


def test_the_page_links_each_providers_export_for_the_history_its_api_does_not_give(
    client, owner, settings
):
    import re

    settings.SOCIALACCOUNT_PROVIDERS = {}  # the links show whether or not an app is set up
    client.force_login(owner)

    page = client.get("/connections/").content.decode()

    links = dict(
        re.findall(
            r'<p class="export-help" data-export="(\w+)">.*?<a href="([^"]+)"', page, flags=re.S
        )
    )
    assert links == {
        "spotify": "https://www.spotify.com/account/privacy/",
        "google": "https://takeout.google.com/",
        "discord": "https://support.discord.com/hc/en-us/articles/360004027692",
        # Linked for a person's own copy; not imported (the page says so).
        "microsoft": "https://account.microsoft.com/privacy",
        "twitch": "https://www.twitch.tv/p/legal/privacy-choices/",
    }
    assert page.count('href="/imports/">Imports</a>') == 3
    assert page.count("Datapunk does not import it") == 2
    assert "Extended streaming history" in page
