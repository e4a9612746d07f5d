"""What the audit log records, and that the admin shows it searchable and read-only."""

from __future__ import annotations

import pytest
from django.contrib.gis.geos import Point
from django.core.cache import cache
from rest_framework.authtoken.models import Token

from apps.core.db.context import system_context, user_context
from apps.lake.models import Place
from apps.privacy.audit import audit_connector_consent
from apps.privacy.models import AuditEntry

pytestmark = pytest.mark.django_db


def _entries(**filters) -> list[AuditEntry]:
    with system_context():
        return list(AuditEntry.objects.filter(**filters).order_by("pk"))


@pytest.fixture
def staff(make_user):
    return make_user("admin", is_staff=True, is_superuser=True)


def test_sign_in_failed_sign_in_and_sign_out_are_audited(client, alice):
    alice.email = "alice@example.org"
    alice.save()
    refused = client.post("/accounts/login/", {"login": "alice", "password": "wrong"})
    assert refused.status_code == 200  # the form again, with an error
    assert (
        client.post(
            "/accounts/login/", {"login": "alice", "password": "pw-for-tests-only"}
        ).status_code
        == 302
    )
    client.post("/accounts/logout/")
    client.post("/accounts/login/", {"login": "nobody-here", "password": "x"})
    client.post("/accounts/login/", {"login": alice.email, "password": "wrong"})

    failed = _entries(action="login.failed")
    assert [(e.user_id, e.detail["username"]) for e in failed] == [
        (alice.pk, "alice"),
        (None, "nobody-here"),
        (alice.pk, alice.email),  # by e-mail address
    ]
    assert all("wrong" not in str(e.detail) for e in failed)
    [login] = _entries(action="login")
    assert (login.user_id, login.actor_id, login.ip) == (alice.pk, alice.pk, "127.0.0.1")
    assert [e.user_id for e in _entries(action="logout")] == [alice.pk]
    # The user reads the entries about their account; another user does not.
    with user_context(alice.pk):
        assert AuditEntry.objects.filter(action__startswith="log").count() == 4


def test_token_use_is_audited_once_per_token_per_hour(client, alice):
    token = Token.objects.create(user=alice)
    cache.clear()
    for _ in range(3):
        assert (
            client.get("/api/imports/", HTTP_AUTHORIZATION=f"Token {token.key}").status_code == 200
        )
    [entry] = _entries(action="api.token")
    assert entry.user_id == alice.pk and entry.target == "/api/imports/"
    assert token.key not in str(entry.detail) and len(entry.detail["token"]) == 16


def test_admin_changes_are_audited_with_the_owner_and_the_staff_user(
    client, staff, alice, bob, admin_access
):
    with user_context(alice.pk):
        place = Place.objects.create(user=alice, place_id="p1", location=Point(1, 2, srid=4326))
    with user_context(bob.pk):
        others = [Place.objects.create(user=bob, place_id=f"b{i}") for i in range(2)]
    client.force_login(staff)
    # A superuser's audited access to every user's rows (system context), under real RLS.
    admin_access(client, None, reason="clean up test places")
    listing = client.get("/admin/lake/place/").content.decode()
    assert "p1" in listing and "b0" in listing

    response = client.post(
        f"/admin/lake/place/{place.pk}/change/",
        {
            "user": alice.pk,
            "place_id": "p1",
            "name": "renamed",
            "address": "",
            "semantic_type": "",
            "location": "SRID=4326;POINT (1 2)",
            "data": "{}",
        },
    )
    assert response.status_code == 302
    response = client.post(
        "/admin/lake/place/",
        {"action": "delete_selected", "_selected_action": [p.pk for p in others], "post": "yes"},
    )
    assert response.status_code == 302

    [change] = _entries(action="admin.change")
    assert (change.user_id, change.actor_id) == (alice.pk, staff.pk)
    assert change.target == f"lake.place:{place.pk}"
    deletions = _entries(action="admin.delete")  # several at once: logged in bulk by Django
    assert sorted(e.target for e in deletions) == sorted(f"lake.place:{p.pk}" for p in others)
    assert {(e.user_id, e.actor_id) for e in deletions} == {(bob.pk, staff.pk)}


def test_the_audit_admin_is_searchable_and_read_only(client, staff, alice, admin_access):
    audit_connector_consent(user_id=alice.pk, provider="spotify", granted=True, scopes=["read"])
    audit_connector_consent(user_id=alice.pk, provider="spotify", granted=False)
    client.force_login(staff)
    admin_access(client, "alice", reason="alice asks what connected to her account")
    page = client.get("/admin/privacy/auditentry/", {"q": "connector.revoke"}).content.decode()
    assert "1 audit entry" in page or "1 result" in page
    assert '<td class="field-target">connector:spotify</td>' in page
    assert (
        "connector:spotify"
        in client.get("/admin/privacy/auditentry/", {"q": str(alice.pk)}).content.decode()
    )
    entry = _entries(action="connector.consent")[0]
    assert client.get("/admin/privacy/auditentry/add/").status_code == 403
    assert (
        client.post(f"/admin/privacy/auditentry/{entry.pk}/delete/", {"post": "yes"}).status_code
        == 403
    )
    view = client.get(f"/admin/privacy/auditentry/{entry.pk}/change/")
    assert view.status_code == 200 and 'name="_save"' not in view.content.decode()
    client.post(f"/admin/privacy/auditentry/{entry.pk}/change/", {"action": "forged"})
    assert _entries(pk=entry.pk)[0].action == "connector.consent"
