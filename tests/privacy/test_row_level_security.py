"""Row-level security: user B never reads or writes user A's rows, even unfiltered.

These tests run as the app does (as every test does, tests/conftest.py): the connection is the app
role, with no context until a test enters one.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.db import DatabaseError, connection, transaction
from django.db.utils import ProgrammingError

from apps.core.db.context import no_user_context, system_context, user_context
from apps.core.db.roles import APP_ROLE, BulkRoleRefused, table_owner
from apps.lake.models import Event, Import, LocationPoint
from apps.lake.takeout.records import LocationRecord
from apps.lake.writer import BatchWriter
from apps.privacy.audit import audit_record
from apps.privacy.models import AuditEntry
from apps.privacy.ownership import user_owned_models
from apps.privacy.rls import POLICY, isolated_tables, rls_apply, user_owned_tables

pytestmark = pytest.mark.django_db


def _count(model, **filters) -> int:
    return model.objects.filter(**filters).count()


def test_the_connection_is_the_app_role_not_owner_not_superuser():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT current_user, session_user, r.rolsuper, r.rolbypassrls "
            "FROM pg_roles r WHERE r.rolname = current_user"
        )
        current, session, superuser, bypass = cursor.fetchone()
        cursor.execute(
            "SELECT count(*) FROM pg_tables WHERE schemaname = 'public' AND tableowner = current_user"
        )
        owned = cursor.fetchone()[0]
    assert current == APP_ROLE and session != APP_ROLE
    assert superuser is False and bypass is False
    assert owned == 0


def test_every_user_owned_table_is_forced_under_the_policy():
    with connection.cursor() as cursor:
        tables = user_owned_tables(cursor)
        isolated = set(isolated_tables(cursor))
        cursor.execute("SELECT DISTINCT tablename FROM pg_policies WHERE schemaname = 'public'")
        with_policy = {name for (name,) in cursor.fetchall()}
    model_tables = {model._meta.db_table for model in user_owned_models(include_append_only=True)}
    # The lake's tables at least; whatever other apps add is found the same way.
    assert {"lake_event", "lake_locationpoint", "lake_visit", "privacy_auditentry"} <= model_tables
    assert model_tables <= set(tables)
    assert set(tables) <= isolated
    assert set(tables) <= with_policy


def test_a_table_added_later_is_born_isolated():
    with table_owner(), connection.cursor() as cursor:
        cursor.execute(
            "CREATE TABLE privacy_test_later (id serial, user_id int NOT NULL, note text)"
        )
    rls_apply()  # what post_migrate runs after every migrate
    with connection.cursor() as cursor:
        assert "privacy_test_later" in isolated_tables(cursor)
        with user_context(1):
            cursor.execute("INSERT INTO privacy_test_later (user_id, note) VALUES (1, 'mine')")
            with pytest.raises(ProgrammingError, match="row-level security"), transaction.atomic():
                cursor.execute("INSERT INTO privacy_test_later (user_id, note) VALUES (2, 'x')")
        with user_context(2):
            cursor.execute("SELECT count(*) FROM privacy_test_later")
            assert cursor.fetchone()[0] == 0
        cursor.execute("SELECT policyname FROM pg_policies WHERE tablename = 'privacy_test_later'")
        assert cursor.fetchall() == [(POLICY,)]


def test_unfiltered_orm_reads_only_the_context_users_rows(alice, bob, tmp_path, import_takeout):
    import_takeout(alice, points=200)
    import_takeout(bob, points=50)
    with system_context():
        totals = {m: m.objects.count() for m in user_owned_models()}
        alices = {m: _count(m, user_id=alice.pk) for m in user_owned_models()}
    # The sample fills the lake's main tables for both users.
    for model in (Event, LocationPoint, Import):
        assert alices[model] > 0 and totals[model] > alices[model]

    with user_context(bob.pk):
        for model in user_owned_models():
            assert _count(model, user_id=alice.pk) == 0, model
            assert model.objects.count() == totals[model] - alices[model], model
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM lake_event WHERE user_id = %s", [alice.pk])
            assert cursor.fetchone()[0] == 0
    with user_context(alice.pk):
        for model in user_owned_models():
            assert model.objects.count() == alices[model], model
    # Outside any context (a forgotten user_context) nothing at all.
    with no_user_context():
        for model in user_owned_models():
            assert model.objects.count() == 0, model


def test_b_cannot_write_change_or_delete_a_rows(alice, bob, tmp_path, import_takeout):
    import_takeout(alice, points=200)
    with system_context():
        alices_events = _count(Event, user_id=alice.pk)
    with user_context(bob.pk):
        assert Event.objects.filter(user_id=alice.pk).update(title="mine now") == 0
        assert Event.objects.all().delete()[0] == 0  # bob has none; alice's are not his
        assert Import.objects.filter(user_id=alice.pk).delete()[0] == 0
        with pytest.raises(ProgrammingError, match="row-level security"), transaction.atomic():
            Import.objects.create(user_id=alice.pk, fingerprint="forged")
        Event.objects.create(
            user_id=bob.pk,
            source="test",
            kind="test.note",
            occurred_at=datetime(2024, 1, 1, tzinfo=UTC),
            content_hash=b"0123456789abcdef",
        )
        with pytest.raises(ProgrammingError, match="row-level security"), transaction.atomic():
            Event.objects.filter(user_id=bob.pk).update(user_id=alice.pk)  # give away = plant
    with system_context():
        assert _count(Event, user_id=alice.pk) == alices_events
        assert not Event.objects.filter(title="mine now").exists()


def test_the_bulk_copy_role_writes_only_for_the_context_user(alice, bob):
    point = LocationRecord(
        recorded_at=datetime(2024, 1, 1, tzinfo=UTC),
        latitude=48.1,
        longitude=11.5,
    )
    with user_context(bob.pk), pytest.raises(BulkRoleRefused):
        with BatchWriter(user_id=alice.pk, source="test") as writer:
            writer.add(point)
            writer.flush()
    with user_context(alice.pk):
        with BatchWriter(user_id=alice.pk, source="test") as writer:
            writer.add(point)
            assert writer.flush().written == 1
        with connection.cursor() as cursor:
            cursor.execute("SELECT current_user")
            assert cursor.fetchone()[0] == APP_ROLE  # back from the bulk role
        assert LocationPoint.objects.count() == 1


def test_audit_rows_cannot_be_changed_or_removed_by_the_app_role(alice, bob):
    with user_context(alice.pk):
        entry = audit_record(action="test.event", user_id=alice.pk, actor_id=alice.pk)
    audit_record(action="login.failed", user_id=None, detail={"username": "nobody"})
    for context in (lambda: user_context(alice.pk), system_context):
        with context(), connection.cursor() as cursor:
            for statement in (
                "UPDATE privacy_auditentry SET action = 'forged'",
                "DELETE FROM privacy_auditentry",
                "TRUNCATE privacy_auditentry",
            ):
                with pytest.raises(ProgrammingError, match="permission denied"):
                    with transaction.atomic():
                        cursor.execute(statement)
        with context(), pytest.raises(DatabaseError), transaction.atomic():
            AuditEntry.objects.filter(pk=entry.pk).update(action="forged")
    with user_context(alice.pk):
        assert list(AuditEntry.objects.values_list("action", flat=True)) == ["test.event"]
    with user_context(bob.pk):
        assert AuditEntry.objects.count() == 0
    with system_context():
        assert AuditEntry.objects.get(pk=entry.pk).action == "test.event"
