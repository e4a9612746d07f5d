"""A flush (the test runner's, between transactional tests) empties tables and leaves
every user-owned table under row-level security: post_migrate without a migration
plan does not re-apply the policies, and needs not."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.db import connection

from apps.core.db.roles import table_owner
from apps.privacy.rls import user_owned_tables

pytestmark = pytest.mark.django_db(transaction=True)


def _isolation() -> dict[str, tuple[bool, bool, int]]:
    with table_owner(), connection.cursor() as cursor:
        tables = user_owned_tables(cursor)
        cursor.execute(
            "SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity,"
            " (SELECT count(*) FROM pg_policies p WHERE p.tablename = c.relname)"
            " FROM pg_class c WHERE c.relname = ANY(%s)",
            [tables],
        )
        return {name: (enabled, forced, policies) for name, enabled, forced, policies in cursor}


def test_flush_keeps_every_user_table_isolated(make_user):
    before = _isolation()
    assert len(before) > 10
    assert all(enabled and forced and policies for enabled, forced, policies in before.values())
    make_user("someone")

    call_command("flush", interactive=False, verbosity=0)

    assert _isolation() == before
    from django.contrib.auth import get_user_model

    assert not get_user_model().objects.exists()
