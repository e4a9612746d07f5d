"""Full-text search in the database: the stored column, its GIN index, and the one
narrow function through which row-level security lets the index be used.

Why a function: under row-level security PostgreSQL evaluates the policy before any
condition whose functions are not LEAKPROOF, and ``@@`` (``ts_match_vq``) is not. The
GIN index can therefore never serve ``search_vector @@ query`` for the app role: the
planner walks every row of the user and filters (14 s for a word no event has, at
1,000,000 events). Marking ``ts_match_vq`` LEAKPROOF would need a superuser and would
hold for every table of the cluster; leaving RLS for the search would drop the
protection where it matters most.

Instead the index is read by ``datapunk_search.newest_matches``, a SECURITY DEFINER
function owned by the role ``datapunk_search``, which has BYPASSRLS but may read only
four columns of ``lake_event`` (id, user_id, occurred_at, search_vector; a column
grant, no title, text or data). It takes no user id: it reads the same connection
setting as the policy (``datapunk.user_id``), so it cannot be asked for another
user's rows, and it answers only ids, times and a rank. The events themselves are
then read by id as the app role, under the policy as ever: even a wrong id would
come back as nothing. The function builds its statement with EXECUTE so each call
is planned with its own query words (a rare word: the GIN index; a common one: the
keyset index newest first, stopping after a page).
"""

from __future__ import annotations

SEARCH_ROLE = "datapunk_search"
SEARCH_SCHEMA = "datapunk_search"

# Title weighs A, text B. 'english' stems English words ("cooking" finds "cooked");
# 'simple' keeps every word as written, so a language without a stemmer here (or a
# name, a code) still matches word for word. Text is cropped: a tsvector holds at
# most 1 MB, and a longer mail body would make the INSERT of its event fail.
SEARCH_VECTOR_SQL = (
    "setweight(to_tsvector('english'::regconfig, coalesce(title, '')), 'A')"
    " || setweight(to_tsvector('english'::regconfig, left(coalesce(text, ''), 20000)), 'B')"
    " || setweight(to_tsvector('simple'::regconfig, coalesce(title, '')), 'A')"
    " || setweight(to_tsvector('simple'::regconfig, left(coalesce(text, ''), 20000)), 'B')"
)


def tsquery_sql(placeholder: str = "%s") -> str:
    """The query side of both configurations (websearch syntax: words, "phrases", -not)."""
    return (
        f"(websearch_to_tsquery('english'::regconfig, {placeholder})"
        f" || websearch_to_tsquery('simple'::regconfig, {placeholder}))"
    )


# Matches a first, unordered look may gather before the word counts as common.
RARE_WORD_CAP = 500

NEWEST_MATCHES_FUNCTION = f"""
CREATE OR REPLACE FUNCTION {SEARCH_SCHEMA}.newest_matches(
    query tsquery,
    max_rows integer,
    before_at timestamptz DEFAULT NULL,
    before_id bigint DEFAULT NULL
) RETURNS TABLE (event_id bigint, occurred_at timestamptz, rank real)
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    -- The policy's own setting: whoever calls gets only their own rows.
    owner_id bigint := NULLIF(current_setting('datapunk.user_id', true), '')::bigint;
    after_cursor text := CASE WHEN before_at IS NULL THEN '' ELSE
        ' AND e.occurred_at <= $3 AND (e.occurred_at, e.id) < ($3, $4)' END;
    found_ids bigint[];
    found_at timestamptz[];
    found_rank real[];
BEGIN
    IF owner_id IS NULL OR query IS NULL OR numnode(query) = 0 THEN
        RETURN;
    END IF;
    IF max_rows IS NOT NULL THEN
        -- Asked newest first with a LIMIT, the planner walks the time index and tests
        -- every row (it cannot know a word is rare). So look first without an order:
        -- a rare word's few matches come from the GIN index in a few milliseconds.
        EXECUTE
            'SELECT array_agg(id), array_agg(occurred_at), array_agg(rank) FROM ('
            ' SELECT e.id, e.occurred_at, ts_rank_cd(e.search_vector, $2) AS rank'
            ' FROM public.lake_event e WHERE e.user_id = $1 AND e.search_vector @@ $2'
            || after_cursor || ' LIMIT {RARE_WORD_CAP}) AS found'
            INTO found_ids, found_at, found_rank
            USING owner_id, query, before_at, coalesce(before_id, 9223372036854775807);
        IF coalesce(cardinality(found_ids), 0) < {RARE_WORD_CAP} THEN
            RETURN QUERY
                SELECT f.id, f.at, f.rank FROM unnest(found_ids, found_at, found_rank)
                    AS f(id, at, rank)
                ORDER BY f.at DESC, f.id DESC LIMIT max_rows;
            RETURN;
        END IF;
        -- A common word: newest first through the time index, stopping at max_rows.
    END IF;
    RETURN QUERY EXECUTE
        'SELECT e.id, e.occurred_at, ts_rank_cd(e.search_vector, $2)'
        ' FROM public.lake_event e'
        ' WHERE e.user_id = $1 AND e.search_vector @@ $2'
        || after_cursor
        || ' ORDER BY e.occurred_at DESC, e.id DESC'
        || CASE WHEN max_rows IS NULL THEN '' ELSE ' LIMIT $5' END
        USING owner_id, query, before_at, coalesce(before_id, 9223372036854775807), max_rows;
END
$fn$
"""
