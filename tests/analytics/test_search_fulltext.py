"""Full-text search through the GIN index under row-level security (issue #17):
the stored search_vector, the definer function, its isolation and its plans."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import ProgrammingError, connection, transaction

from apps.analytics.filters import event_filters_from_params
from apps.analytics.search.fulltext import newest_text_matches
from apps.analytics.search.fulltext_sql import RARE_WORD_CAP, SEARCH_ROLE
from apps.analytics.timeline import timeline_queryset
from apps.core.db.context import user_context
from apps.core.db.roles import APP_ROLE, table_owner
from apps.lake.takeout.records import EventRecord

from .conftest import at, store_events

pytestmark = pytest.mark.django_db


def _titles(user, words: str, **kwargs) -> list[str]:
    with user_context(user.pk):
        filters = event_filters_from_params({"q": words}, user=user)
        return [e.title for e in timeline_queryset(user=user, filters=filters, **kwargs)[:50]]


def test_the_app_role_reads_only_its_users_matches(owner, outsider):
    store_events(owner, EventRecord(kind="test.note", occurred_at=at(1), title="Zanzibar spice"))
    store_events(outsider, EventRecord(kind="test.note", occurred_at=at(2), title="zanzibar too"))
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_user::text")
        assert cursor.fetchone()[0] == APP_ROLE  # the tests run as the app role, under RLS
    with user_context(owner.pk):
        matches = newest_text_matches("zanzibar", limit=10)
    assert len(matches) == 1
    with user_context(outsider.pk):
        assert [m.occurred_at for m in newest_text_matches("zanzibar", limit=10)] == [at(2)]
    # No user in the connection: nothing, not everything.
    assert newest_text_matches("zanzibar", limit=10) == []


def test_english_stems_and_other_languages_match_as_written(owner):
    store_events(
        owner,
        EventRecord(
            kind="test.v", occurred_at=at(1), title="SHE DESTROY RICE AGAIN (Kay's Cooking)"
        ),
        EventRecord(
            kind="test.v", occurred_at=at(2), title="Pão de queijo caseiro", text="receita"
        ),
        EventRecord(kind="test.v", occurred_at=at(3), title="Grünkohl mit Pinkel"),
        EventRecord(kind="test.v", occurred_at=at(4), title="nothing here"),
    )
    assert _titles(owner, "cooked") == ["SHE DESTROY RICE AGAIN (Kay's Cooking)"]
    assert _titles(owner, "queijo") == ["Pão de queijo caseiro"]  # text, title: any field
    assert _titles(owner, "receita") == ["Pão de queijo caseiro"]
    assert _titles(owner, "grünkohl") == ["Grünkohl mit Pinkel"]  # no stemmer, as written
    assert _titles(owner, '"rice again" -nothing') == ["SHE DESTROY RICE AGAIN (Kay's Cooking)"]
    # The paged path (words alone, a limit) and the joined path agree.
    assert _titles(owner, "queijo", limit=10) == _titles(owner, "queijo")


def test_pages_of_a_common_word_walk_every_match_once(owner):
    """More matches than the function's first unordered look (RARE_WORD_CAP): the
    common-word path, newest first, page by page from a cursor."""
    count = RARE_WORD_CAP + 30
    base = at(20)
    store_events(
        owner,
        *[
            EventRecord(
                kind="test.many", occurred_at=base - dt.timedelta(minutes=i), title=f"coffee {i}"
            )
            for i in range(count)
        ],
        EventRecord(kind="test.many", occurred_at=base, title="tea"),
    )
    seen: list[tuple[dt.datetime, int]] = []
    before = None
    with user_context(owner.pk):
        while True:
            page = newest_text_matches("coffee", limit=97, before=before)
            if not page:
                break
            seen.extend((m.occurred_at, m.event_id) for m in page)
            before = seen[-1]
    assert len(seen) == len(set(seen)) == count
    assert seen == sorted(seen, reverse=True)


def test_a_long_text_is_cropped_not_refused(owner):
    # A tsvector holds at most 1 MB: the column crops the text so that the INSERT works.
    body = " ".join(f"word{i}" for i in range(200_000))
    store_events(owner, EventRecord(kind="test.mail", occurred_at=at(1), title="big", text=body))
    assert _titles(owner, "word5") == ["big"]
    assert _titles(owner, "word199999") == []  # past the crop


def test_the_search_role_may_read_four_columns_and_nothing_else(owner):
    store_events(owner, EventRecord(kind="test.note", occurred_at=at(1), title="secret title"))
    with table_owner(), connection.cursor() as cursor:
        cursor.execute(f"SET ROLE {SEARCH_ROLE}")
        try:
            cursor.execute("SELECT count(*) FROM lake_event WHERE search_vector @@ 'secret'")
            assert cursor.fetchone()[0] == 1  # BYPASSRLS: this is why it reads ids only
            with pytest.raises(ProgrammingError, match="permission denied"):
                with transaction.atomic():
                    cursor.execute("SELECT title FROM lake_event")
        finally:
            cursor.execute("RESET ROLE")
        cursor.execute(
            "SELECT has_function_privilege('public',"
            " 'datapunk_search.newest_matches(tsquery, integer, timestamptz, bigint)', 'EXECUTE')"
        )
        assert cursor.fetchone()[0] is False  # only the app role may call it


def _plan(cursor, sql: str, params: list) -> str:
    cursor.execute("EXPLAIN " + sql, params)
    return "\n".join(row[0] for row in cursor.fetchall())


def test_the_gin_index_serves_the_search_role_and_not_the_app_role(owner):
    """Why the function: the same match, planned as the app role under RLS, cannot use
    the GIN index (``@@`` is not LEAKPROOF, so it waits for the policy); planned as the
    function's role (no RLS, its explicit user filter) it can. Tiny test tables: seq
    scans are switched off to judge the plan's shape."""
    base = at(25)
    store_events(
        owner,
        *[
            EventRecord(kind="test.many", occurred_at=base - dt.timedelta(hours=i), title=f"e{i}")
            for i in range(300)
        ],
    )
    # The match alone (on so small a table a user filter's own index would win).
    match = "SELECT e.id FROM lake_event e WHERE e.search_vector @@ to_tsquery('simple', 'e17')"
    with table_owner(), connection.cursor() as cursor:
        cursor.execute("ANALYZE lake_event")
    with user_context(owner.pk), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        under_rls = _plan(cursor, match, [])
        with table_owner():
            cursor.execute(f"SET ROLE {SEARCH_ROLE}")
            try:
                as_search_role = _plan(cursor, match, [])
            finally:
                cursor.execute("RESET ROLE")
    assert "analytics_event_search_vector" not in under_rls, under_rls
    assert "analytics_event_search_vector" in as_search_role, as_search_role
