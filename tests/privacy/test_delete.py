"""Delete my data: no row of the user is left in any table; nobody else's row moves."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from rest_framework.authtoken.models import Token

from apps.core.db.context import system_context, user_context
from apps.core.db.roles import table_owner
from apps.lake.models import Upload
from apps.lake.uploads import upload_path
from apps.privacy.deletion import user_data_deleting
from apps.privacy.exports import export_create, export_path
from apps.privacy.models import AuditEntry
from apps.privacy.rls import rls_apply, user_owned_tables
from apps.privacy.tasks import run_export, run_user_data_delete
from tests.acting import refreshed

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def file_dirs(tmp_path, settings):
    settings.EXPORT_DIR = tmp_path / "exports"
    settings.UPLOAD_DIR = tmp_path / "uploads"


def _counts(user_id: int) -> dict[str, int]:
    """Rows of ``user_id`` in every table with a user_id column, found in the catalog."""
    with system_context(), connection.cursor() as cursor:
        counts = {}
        for table in user_owned_tables(cursor):
            cursor.execute(f'SELECT count(*) FROM "{table}" WHERE user_id = %s', [user_id])
            counts[table] = cursor.fetchone()[0]
    return counts


def _give_rows_and_files(user, import_takeout, name: str) -> list:
    import_takeout(user, points=200)
    with user_context(user.pk):
        upload = Upload.objects.create(user=user, filename=f"{name}.zip", size=1, sha256="0" * 64)
        upload_path(upload).parent.mkdir(parents=True)
        upload_path(upload).write_bytes(b"x")
        export = export_create(user_id=user.pk)
        cursor = connection.cursor()
        cursor.execute("INSERT INTO privacy_test_raw (user_id, note) VALUES (%s, 'raw')", [user.pk])
    run_export(user.pk, export.pk)
    with system_context():
        refreshed(export)
    return [upload_path(upload), export_path(export)]


@pytest.fixture
def raw_table():
    """A user-owned table some app made without a model: found all the same."""
    with table_owner(), connection.cursor() as cursor:
        cursor.execute("CREATE TABLE privacy_test_raw (id serial, user_id int NOT NULL, note text)")
    rls_apply()


def test_delete_leaves_no_row_of_the_user_in_any_table(
    alice, bob, tmp_path, raw_table, django_capture_on_commit_callbacks, import_takeout
):
    alice_files = _give_rows_and_files(alice, import_takeout, "alice")
    bob_files = _give_rows_and_files(bob, import_takeout, "bob")
    before_alice, before_bob = _counts(alice.pk), _counts(bob.pk)
    for table in (
        "lake_event",
        "lake_locationpoint",
        "lake_visit",
        "lake_place",
        "lake_import",
        "lake_upload",
        "privacy_export",
        "privacy_test_raw",
    ):
        assert before_alice[table] > 0, table
    heard = []
    user_data_deleting.connect(
        lambda sender, user_id, **kw: heard.append(user_id), weak=False, dispatch_uid="test-heard"
    )

    try:
        # The task as a worker runs it; its files go once its transaction commits.
        with django_capture_on_commit_callbacks(execute=True):
            run_user_data_delete(alice.pk, alice.pk)
    finally:
        user_data_deleting.disconnect(dispatch_uid="test-heard")

    after_alice = _counts(alice.pk)
    assert {t: n for t, n in after_alice.items() if n} == {
        # Only the audit log keeps entries about her, and it gained the deletion.
        "privacy_auditentry": before_alice["privacy_auditentry"] + 1
    }
    assert _counts(bob.pk) == before_bob
    assert heard == [alice.pk]
    assert not any(path.exists() for path in alice_files)
    assert all(path.exists() for path in bob_files)
    with system_context():
        entry = AuditEntry.objects.get(action="delete.finished")
    assert entry.user_id == alice.pk and entry.target == "data"
    expected = {t: n for t, n in before_alice.items() if n and t != "privacy_auditentry"}
    assert entry.detail["rows"] == expected
    assert get_user_model().objects.filter(pk=alice.pk).exists()  # the account stays

    run_user_data_delete(alice.pk, alice.pk)  # again: nothing more to remove
    assert _counts(bob.pk) == before_bob


def test_a_failing_receiver_does_not_stop_the_deletion(alice, tmp_path, import_takeout):
    import_takeout(alice, points=30)

    def revoke(sender, user_id, **kwargs):
        raise RuntimeError("provider unreachable")

    user_data_deleting.connect(revoke, weak=False, dispatch_uid="test-failing")
    try:
        run_user_data_delete(alice.pk, alice.pk)
    finally:
        user_data_deleting.disconnect(dispatch_uid="test-failing")
    assert not any(n for t, n in _counts(alice.pk).items() if t != "privacy_auditentry")
    with system_context():
        entry = AuditEntry.objects.get(action="delete.finished")
    assert "provider unreachable" in entry.detail["failed_receivers"][0]


def test_closing_the_account_removes_it_and_its_tokens(alice, bob, tmp_path, import_takeout):
    import_takeout(alice, points=30)
    Token.objects.create(user=alice)
    before_bob = _counts(bob.pk)
    run_user_data_delete(alice.pk, alice.pk, None, True)
    assert not get_user_model().objects.filter(pk=alice.pk).exists()
    assert not Token.objects.filter(user_id=alice.pk).exists()
    assert not any(n for t, n in _counts(alice.pk).items() if t != "privacy_auditentry")
    assert _counts(bob.pk) == before_bob


def test_the_api_asks_for_the_password_or_the_typed_username(
    client, alice, make_user, tmp_path, django_capture_on_commit_callbacks, import_takeout
):
    import_takeout(alice, points=30)
    client.force_login(alice)  # (audited: a login entry)
    before = _counts(alice.pk)
    for body in (
        {},
        {"password": "wrong"},
        {"confirm": "alice"},
        {"password": 123456},
        {"password": ["x"]},
        {"password": "pw-for-tests-only", "delete_account": "perhaps"},
    ):
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            response = client.post("/api/privacy/delete/", body, content_type="application/json")
        assert response.status_code == 400, body
        assert callbacks == []
    response = client.post("/api/privacy/delete/", "not json", content_type="application/json")
    assert response.status_code == 400
    assert _counts(alice.pk) == before

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post(
            "/api/privacy/delete/",
            {"password": "pw-for-tests-only"},
            content_type="application/json",
        )
    assert response.status_code == 202 and len(callbacks) == 1
    with system_context():
        assert AuditEntry.objects.filter(action="delete.requested", user_id=alice.pk).exists()

    social = make_user("social")
    social.set_unusable_password()
    social.save()
    client.force_login(social)
    assert (
        client.post(
            "/api/privacy/delete/", {"confirm": "nope"}, content_type="application/json"
        ).status_code
        == 400
    )
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post(
            "/api/privacy/delete/", {"confirm": "social"}, content_type="application/json"
        )
    assert response.status_code == 202 and len(callbacks) == 1
    client.logout()
    assert client.post(
        "/api/privacy/delete/", {"password": "x"}, content_type="application/json"
    ).status_code in (401, 403)


def test_the_password_asked_again_may_be_guessed_five_times_only(
    client, alice, django_capture_on_commit_callbacks
):
    client.force_login(alice)
    # A right password gives its attempt back: it is not one of the five.
    with django_capture_on_commit_callbacks(execute=False):
        right = client.post(
            "/api/privacy/delete/",
            {"password": "pw-for-tests-only"},
            content_type="application/json",
        )
    assert right.status_code == 202
    for n in range(5):
        wrong = client.post(
            "/api/privacy/delete/", {"password": f"guess {n}"}, content_type="application/json"
        )
        assert wrong.status_code == 400, n
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        locked = client.post(
            "/api/privacy/delete/",
            {"password": "pw-for-tests-only"},
            content_type="application/json",
        )
    assert locked.status_code == 429
    assert "Too many wrong passwords" in locked.json()["detail"]
    assert callbacks == []


@pytest.mark.django_db(transaction=True)  # a request outside a transaction: on_commit runs at once
def test_without_a_job_queue_the_answer_says_so(client, alice, settings):
    from datapunk.celery import app

    client.force_login(alice)
    transport_options = app.conf.broker_transport_options
    app.conf.broker_url = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    app.conf.broker_transport_options = {**transport_options, "max_retries": 0}
    # Connection and producer pools are made for the broker URL in force; a task
    # published earlier in this process (a PII scan after an import) made them.
    app._pool = None
    app.amqp._producer_pool = None
    try:
        response = client.post(
            "/api/privacy/delete/",
            {"password": "pw-for-tests-only"},
            content_type="application/json",
        )
        export = client.post("/api/privacy/exports/")
    finally:
        app.conf.broker_url = settings.CELERY_BROKER_URL
        # Put back what settings gave (visibility_timeout), not an empty dict:
        # later tests in this process read it.
        app.conf.broker_transport_options = transport_options
        app._pool = None
        app.amqp._producer_pool = None
    assert response.status_code == 503
    assert "job queue" in response.json()["detail"]
    assert export.status_code == 202 and export.json()["status"] == "failed"
    assert "job queue" in export.json()["error"]
