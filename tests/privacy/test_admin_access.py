"""Staff in the admin read their own rows; another user's only after opening an
access with a reason, and that access and every page read under it are audited."""

from __future__ import annotations

import time

import pytest

from apps.core.db.context import system_context, user_context
from apps.lake.models import Place
from apps.privacy.admin_access import SESSION_KEY
from apps.privacy.models import AuditEntry

pytestmark = pytest.mark.django_db


def _entries(**filters) -> list[AuditEntry]:
    with system_context():
        return list(AuditEntry.objects.filter(**filters).order_by("pk"))


@pytest.fixture
def staff(make_user):
    return make_user("support", is_staff=True, is_superuser=True)


@pytest.fixture
def places(staff, alice, bob):
    made = {}
    for user, name in ((staff, "staff-own-place"), (alice, "alice-place"), (bob, "bob-place")):
        with user_context(user.pk):
            made[name] = Place.objects.create(user=user, place_id=name)
    return made


def test_staff_read_only_their_own_rows_in_the_admin(client, staff, places):
    client.force_login(staff)
    listing = client.get("/admin/lake/place/").content.decode()
    assert "staff-own-place" in listing
    assert "alice-place" not in listing and "bob-place" not in listing
    # Not by its address either: the admin finds no such object.
    page = client.get(f"/admin/lake/place/{places['alice-place'].pk}/change/", follow=True)
    assert "alice-place" not in page.content.decode()
    assert "doesn’t exist" in page.content.decode() or "doesn't exist" in page.content.decode()
    assert _entries(action__startswith="admin.access") == []


def test_an_opened_access_shows_that_users_rows_and_is_audited(client, staff, alice, places):
    client.force_login(staff)
    form = client.get("/admin/access/")
    assert form.status_code == 200 and 'name="reason"' in form.content.decode()
    opened = client.post("/admin/access/", {"username": "alice", "reason": "ticket 4711"})
    assert opened.status_code == 302

    [entry] = _entries(action="admin.access.opened")
    assert (entry.user_id, entry.actor_id, entry.target) == (alice.pk, staff.pk, f"user:{alice.pk}")
    assert entry.detail["reason"] == "ticket 4711"

    listing = client.get("/admin/lake/place/").content.decode()
    assert "alice-place" in listing
    assert "bob-place" not in listing and "staff-own-place" not in listing
    assert "Reading <strong>alice</strong>" in listing
    reads = _entries(action="admin.access.request", target="/admin/lake/place/")
    assert [(e.user_id, e.actor_id) for e in reads] == [(alice.pk, staff.pk)]

    assert client.post("/admin/access/", {"end": "1"}).status_code == 302
    [closed] = _entries(action="admin.access.closed")
    assert (closed.user_id, closed.detail["why"]) == (alice.pk, "ended")
    listing = client.get("/admin/lake/place/").content.decode()
    assert "staff-own-place" in listing and "alice-place" not in listing


def test_no_access_without_a_reason(client, staff, places):
    client.force_login(staff)
    response = client.post("/admin/access/", {"username": "alice", "reason": "  "})
    assert response.status_code == 200
    assert "This field is required" in response.content.decode() or "say why" in (
        response.content.decode()
    )
    assert _entries(action__startswith="admin.access") == []
    assert "alice-place" not in client.get("/admin/lake/place/").content.decode()


def test_every_users_rows_only_for_a_superuser(client, make_user, places):
    from django.contrib.auth.models import Permission

    clerk = make_user("clerk", is_staff=True)
    clerk.user_permissions.add(Permission.objects.get(codename="view_place"))
    client.force_login(clerk)
    refused = client.post("/admin/access/", {"every_user": "on", "reason": "curious"})
    assert refused.status_code == 200
    assert "only a superuser" in refused.content.decode()
    assert _entries(action="admin.access.opened") == []

    client.force_login(make_user("root", is_staff=True, is_superuser=True))
    assert (
        client.post("/admin/access/", {"every_user": "on", "reason": "incident 7"}).status_code
        == 302
    )
    listing = client.get("/admin/lake/place/").content.decode()
    assert "alice-place" in listing and "bob-place" in listing
    [entry] = _entries(action="admin.access.opened")
    assert (entry.user_id, entry.target) == (None, "user:*")


def test_an_access_ends_by_itself(client, staff, places):
    client.force_login(staff)
    client.post("/admin/access/", {"username": "alice", "reason": "ticket 4712"})
    session = client.session
    session[SESSION_KEY] = {**session[SESSION_KEY], "expires_at": time.time() - 1}
    session.save()

    listing = client.get("/admin/lake/place/").content.decode()
    assert "alice-place" not in listing and "staff-own-place" in listing
    [closed] = _entries(action="admin.access.closed")
    assert closed.detail["why"] == "expired"
