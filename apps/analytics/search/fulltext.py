"""Full-text matches of the signed-in user's events, through the GIN index.

Reads ``datapunk_search.newest_matches`` (fulltext_sql.py says why a function): ids,
times and ranks only; callers read the events themselves under row-level security.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import connection

from apps.analytics.search.fulltext_sql import SEARCH_SCHEMA, tsquery_sql


@dataclass(frozen=True)
class TextMatch:
    event_id: int
    occurred_at: dt.datetime
    rank: float  # ts_rank_cd: title words weigh more than text words


def newest_text_matches(
    query: str,
    *,
    limit: int | None,
    before: tuple[dt.datetime, int] | None = None,
) -> list[TextMatch]:
    """The current user's events matching ``query`` (websearch syntax), newest first,
    strictly older than ``before`` (occurred_at, id) when given; all of them if
    ``limit`` is None. The user is the connection's (``user_context``)."""
    if not query.strip():
        return []
    before_at, before_id = before if before is not None else (None, None)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT event_id, occurred_at, rank FROM"
            f" {SEARCH_SCHEMA}.newest_matches({tsquery_sql()}, %s, %s, %s)",
            [query, query, limit, before_at, before_id],
        )
        return [TextMatch(row[0], row[1], float(row[2])) for row in cursor.fetchall()]
