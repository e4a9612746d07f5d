"""A batch's events: staged, moved with ON CONFLICT, upserted, matched across history
formats. The transaction is the BatchWriter's (apps/lake/writer.py); these run inside it.
"""

from __future__ import annotations

from typing import Any

from django.db.backends.utils import CursorWrapper

from apps.core import advisory_locks
from apps.lake.normalize import EventRow, merge_event_rows

_STAGING_DDL = """
CREATE TEMP TABLE IF NOT EXISTS lake_stage_event (
    kind text, occurred_at timestamptz, ended_at timestamptz, title text, text text, url text,
    lon float8, lat float8, data jsonb, content_hash bytea, history_format text,
    merge_list text, version_key text
) ON COMMIT DELETE ROWS;
"""

_MOVE_EVENTS = """
INSERT INTO lake_event
    (user_id, source, kind, occurred_at, ended_at, title, text, url, location, data, content_hash, entry_id)
SELECT %s, %s, kind, occurred_at, ended_at, title, text, url,
       CASE WHEN lon IS NULL OR lat IS NULL THEN NULL
            ELSE ST_SetSRID(ST_MakePoint(lon, lat), 4326)::geography END,
       data, content_hash, %s
FROM lake_stage_event
WHERE merge_list IS NULL AND version_key IS NULL
ON CONFLICT DO NOTHING
RETURNING id, content_hash, occurred_at
"""

# Items that change between exports (see EventRecord.merge_list, .version_key)
# are upserted: the unique key still decides what is the same item, and the
# row takes what is new. xmax = 0 marks a row this statement inserted.
_UPSERT_EVENTS = """
INSERT INTO lake_event
    (user_id, source, kind, occurred_at, ended_at, title, text, url, location, data, content_hash, entry_id)
SELECT %(user_id)s, %(source)s, kind, occurred_at, ended_at, title, text, url,
       CASE WHEN lon IS NULL OR lat IS NULL THEN NULL
            ELSE ST_SetSRID(ST_MakePoint(lon, lat), 4326)::geography END,
       data, content_hash, %(entry_id)s
FROM lake_stage_event
WHERE {column} = %(key)s
ON CONFLICT (user_id, content_hash, occurred_at) DO UPDATE SET {update}
RETURNING id, content_hash, occurred_at, (xmax = 0)
"""
# The lists united (each entry once, in order); nothing to do when nothing is new.
_UNITE_LISTS = """
    data = jsonb_set(lake_event.data, ARRAY[%(key)s], (
        SELECT COALESCE(jsonb_agg(DISTINCT entry ORDER BY entry), '[]')
        FROM jsonb_array_elements(
            COALESCE(lake_event.data -> %(key)s, '[]') || COALESCE(EXCLUDED.data -> %(key)s, '[]')
        ) entry))
WHERE NOT COALESCE(lake_event.data -> %(key)s, '[]') @> COALESCE(EXCLUDED.data -> %(key)s, '[]')
"""
# The newest version's fields; every other version (one per version number)
# in data.history, oldest first. Nothing to do for a version already known.
_NEWER = "COALESCE((EXCLUDED.data ->> %(key)s)::numeric, 0) > COALESCE((lake_event.data ->> %(key)s)::numeric, 0)"
_KEEP_VERSIONS = f"""
    title = CASE WHEN {_NEWER} THEN EXCLUDED.title ELSE lake_event.title END,
    text = CASE WHEN {_NEWER} THEN EXCLUDED.text ELSE lake_event.text END,
    url = CASE WHEN {_NEWER} THEN EXCLUDED.url ELSE lake_event.url END,
    ended_at = CASE WHEN {_NEWER} THEN EXCLUDED.ended_at ELSE lake_event.ended_at END,
    location = CASE WHEN {_NEWER} THEN EXCLUDED.location ELSE lake_event.location END,
    data = (CASE WHEN {_NEWER} THEN EXCLUDED.data ELSE lake_event.data END - 'history')
        || jsonb_build_object('history', (
            SELECT COALESCE(jsonb_agg(version ORDER BY number), '[]') FROM (
                SELECT DISTINCT ON (COALESCE((version ->> %(key)s)::numeric, 0))
                       version, COALESCE((version ->> %(key)s)::numeric, 0) AS number
                FROM jsonb_array_elements(
                    COALESCE(lake_event.data -> 'history', '[]')
                    || COALESCE(EXCLUDED.data -> 'history', '[]')
                    || jsonb_build_array(lake_event.data - 'history', EXCLUDED.data - 'history')
                ) version
            ) versions
            WHERE number <> GREATEST(
                COALESCE((EXCLUDED.data ->> %(key)s)::numeric, 0),
                COALESCE((lake_event.data ->> %(key)s)::numeric, 0))
        ))
WHERE (EXCLUDED.data ->> %(key)s) IS DISTINCT FROM (lake_event.data ->> %(key)s)
    AND NOT COALESCE(lake_event.data -> 'history', '[]')
        @> jsonb_build_array(jsonb_build_object(%(key)s, EXCLUDED.data -> %(key)s))
"""
_UPSERTS = {
    "merge_list": _UPSERT_EVENTS.format(column="merge_list", update=_UNITE_LISTS),
    "version_key": _UPSERT_EVENTS.format(column="version_key", update=_KEEP_VERSIONS),
}


# History items (My Activity, YouTube) come as JSON (exact times) or HTML
# (whole seconds, other fields) from separate exports. One item is one row:
# same kind, same link (or, without one, same title), same second. The
# database cannot say "same second" in a unique key (a hypertable's unique
# keys hold the exact time), so a user's history batches take a transaction
# lock of theirs and match within it; no other writer adds history rows meanwhile.
_HISTORY_LOCK_NAMESPACE = advisory_locks.HISTORY_BATCH
# A row read from HTML still has the page's time text; JSON times are ISO 8601.
_SAME_HISTORY_ITEM = """
    e.user_id = %(user_id)s AND e.kind = s.kind AND e.url = s.url
    AND (s.url <> '' OR e.title = s.title)
"""
_FROM_HTML = r"NOT (e.data->>'time' ~ '^\d{4}-\d\d-\d\dT')"
# JSON arriving: it takes over the HTML-born row of its second (exact time,
# JSON's fields and identity; the HTML card kept under "html"). The chunk is
# the same: both times lie in one second, and chunks start at whole seconds.
# One HTML row per item, and none when the JSON row exists already (both were
# stored before this matching existed): those stay as they are, no conflict.
_HISTORY_JSON_TAKES_OVER = f"""
UPDATE lake_event e SET
    occurred_at = m.occurred_at, title = m.title, text = m.text, url = m.url,
    data = m.data || jsonb_build_object('html', e.data), content_hash = m.content_hash
FROM (
    SELECT DISTINCT ON (s.content_hash, s.occurred_at)
           s.*, e.id AS html_id, e.occurred_at AS html_at
    FROM lake_stage_event s JOIN lake_event e ON {_SAME_HISTORY_ITEM}
        AND e.occurred_at = date_trunc('second', s.occurred_at) AND {_FROM_HTML}
    WHERE s.history_format = 'json' AND NOT EXISTS (
        SELECT 1 FROM lake_event j WHERE j.user_id = %(user_id)s
        AND j.content_hash = s.content_hash AND j.occurred_at = s.occurred_at
    )
    ORDER BY s.content_hash, s.occurred_at, e.id
) m
WHERE e.user_id = %(user_id)s AND e.id = m.html_id AND e.occurred_at = m.html_at
"""
# HTML arriving: nothing to add if the item is stored already, from either format.
_HISTORY_HTML_KNOWN = f"""
DELETE FROM lake_stage_event s
WHERE s.history_format = 'html' AND EXISTS (
    SELECT 1 FROM lake_event e WHERE {_SAME_HISTORY_ITEM}
    AND e.occurred_at >= s.occurred_at AND e.occurred_at < s.occurred_at + interval '1 second'
)
"""


# Spotify's plays (apps/lake/takeout/spotify.py, "One play, three records"):
# the API's recently-played item, the extended history's stream and the
# account data's play of one listening are one row, the stream's. They come
# from separate logs, so their times are compared with a tolerance, under the
# same per-user lock as history items:
# - API (``played_at``) and stream (``ts``): the same URI, the two stop times
#   at most SPOTIFY_API_TOLERANCE apart;
# - account data (``endTime``, to the minute) and stream: the same track or
#   episode name and the same milliseconds played, ``ts`` within a minute of
#   ``endTime`` either way (Spotify does not say whether it truncates or rounds).
# A stream arriving takes over what was stored (the stored row's fields kept in
# data.history; delete and insert, so its exact time may cross a chunk); an API
# or account play arriving after its stream adds nothing.
SPOTIFY_API_TOLERANCE = "10 seconds"
_STREAM_URI = "COALESCE({t}.data->>'spotify_track_uri', {t}.data->>'spotify_episode_uri')"
_SPOTIFY_STREAM_TAKES_OVER = f"""
WITH m AS (
    SELECT DISTINCT ON (e.id) e.id, e.occurred_at AS at, e.data AS old, s.ctid AS staged
    FROM lake_stage_event s JOIN lake_event e
      ON e.user_id = %(user_id)s AND e.kind = s.kind AND NOT (e.data ? 'ts')
     AND e.occurred_at >= s.occurred_at - interval '1 minute'
     AND e.occurred_at <= s.occurred_at + interval '1 minute'
     AND NOT (e.content_hash = s.content_hash AND e.occurred_at = s.occurred_at)
     AND (
        (e.data ? 'played_at' AND e.data->'track'->>'uri' = {_STREAM_URI.format(t="s")}
         AND e.occurred_at >= s.occurred_at - interval '{SPOTIFY_API_TOLERANCE}'
         AND e.occurred_at <= s.occurred_at + interval '{SPOTIFY_API_TOLERANCE}')
        OR (e.data ? 'endTime' AND e.title = s.title
            AND (e.data->>'msPlayed')::numeric = (s.data->>'ms_played')::numeric))
    WHERE s.history_format = 'spotify_play' AND s.data ? 'ts'
    ORDER BY e.id, abs(extract(epoch FROM e.occurred_at - s.occurred_at))
), gone AS (
    DELETE FROM lake_event e USING m
    WHERE e.user_id = %(user_id)s AND e.id = m.id AND e.occurred_at = m.at
    RETURNING m.staged, m.old
)
UPDATE lake_stage_event s SET data = jsonb_set(
    s.data, '{{history}}', COALESCE(s.data->'history', '[]') || g.olds)
FROM (SELECT staged, jsonb_agg(old) AS olds FROM gone GROUP BY staged) g
WHERE s.ctid = g.staged
"""
_SPOTIFY_PLAY_KNOWN = f"""
DELETE FROM lake_stage_event s
WHERE s.history_format = 'spotify_play' AND NOT (s.data ? 'ts') AND EXISTS (
    SELECT 1 FROM lake_event e
    WHERE e.user_id = %(user_id)s AND e.kind = s.kind AND e.data ? 'ts'
    AND e.occurred_at >= s.occurred_at - interval '1 minute'
    AND e.occurred_at <= s.occurred_at + interval '1 minute'
    AND (
        (s.data ? 'played_at' AND s.data->'track'->>'uri' = {_STREAM_URI.format(t="e")}
         AND e.occurred_at >= s.occurred_at - interval '{SPOTIFY_API_TOLERANCE}'
         AND e.occurred_at <= s.occurred_at + interval '{SPOTIFY_API_TOLERANCE}')
        OR (s.data ? 'endTime' AND e.title = s.title
            AND (s.data->>'msPlayed')::numeric = (e.data->>'ms_played')::numeric))
)
"""

# ON COMMIT DELETE ROWS empties the staging table when a batch commits; a
# batch written inside an outer transaction (a test, a caller's atomic block)
# commits nothing, so each batch empties it before use as well.
_CLEAR_EVENT_STAGE = "DELETE FROM lake_stage_event"


# A stream's few events (a webhook, an ingest request) go in with one statement;
# staging and COPY pay off only for larger batches (imports, syncs).
SMALL_EVENT_BATCH = 200

_INSERT_EVENTS = """
INSERT INTO lake_event
    (user_id, source, kind, occurred_at, ended_at, title, text, url, location, data, content_hash, entry_id)
SELECT %s, %s, kind, occurred_at, ended_at, title, text, url,
       CASE WHEN lon IS NULL OR lat IS NULL THEN NULL
            ELSE ST_SetSRID(ST_MakePoint(lon, lat), 4326)::geography END,
       data::jsonb, content_hash, %s
FROM unnest(%s::text[], %s::timestamptz[], %s::timestamptz[], %s::text[], %s::text[], %s::text[],
            %s::float8[], %s::float8[], %s::text[], %s::bytea[])
     AS r(kind, occurred_at, ended_at, title, text, url, lon, lat, data, content_hash)
ON CONFLICT DO NOTHING
RETURNING id, content_hash, occurred_at
"""


def _event_tuple(e: EventRow) -> tuple:
    """An event row in the column order of staging and of _INSERT_EVENTS' arrays."""
    return (
        e.kind,
        e.occurred_at,
        e.ended_at,
        e.title,
        e.text,
        e.url,
        e.longitude,
        e.latitude,
        e.data_json,
        e.content_hash,
    )


class EventBatch:
    """The events of one batch of one user and source."""

    def __init__(self, *, user_id: int, source: str, entry_id: int | None):
        self.user_id = user_id
        self.source = source
        self.entry_id = entry_id
        self.rows: list[EventRow] = []
        # Upserted events of this batch by (content_hash, occurred_at): one
        # statement may not touch a row twice, so the batch merges them first.
        self._upserted: dict[tuple[bytes, object], int] = {}
        self.merged = 0

    def add(self, row: EventRow) -> int:
        """Queue ``row``; returns the batch's size."""
        if row.merge_list or row.version_key:
            key = (row.content_hash, row.occurred_at)
            index = self._upserted.get(key)
            if index is not None:
                self.rows[index] = merge_event_rows(self.rows[index], row)
                self.merged += 1
                return len(self.rows)
            self._upserted[key] = len(self.rows)
        self.rows.append(row)
        return len(self.rows)

    def reset(self) -> None:
        self.rows, self._upserted, self.merged = [], {}, 0

    def write(self, cursor: CursorWrapper) -> list[tuple[int, EventRow]]:
        """Insert the batch's events; returns (id, row) of each row stored anew."""
        if len(self.rows) <= SMALL_EVENT_BATCH and not any(
            e.history_format or e.merge_list or e.version_key for e in self.rows
        ):
            cursor.execute(
                _INSERT_EVENTS,
                [
                    self.user_id,
                    self.source,
                    self.entry_id,
                    *(
                        list(column)
                        for column in zip(*(_event_tuple(e) for e in self.rows), strict=True)
                    ),
                ],
            )
            stored = cursor.fetchall()
        else:
            stored = self._stage_and_move_events(cursor)
        # The database's dedupe key (content hash, time) names which rows were inserted.
        rows = {(e.content_hash, e.occurred_at): e for e in reversed(self.rows)}
        return [
            (event_id, rows[(bytes(digest), occurred_at)])
            for event_id, digest, occurred_at in stored
        ]

    def _stage_and_move_events(self, cursor) -> list[tuple[int, bytes, Any]]:
        """Larger batches, and items matched across exports: through staging.
        Returns (id, content_hash, occurred_at) of each row inserted."""
        cursor.execute(_STAGING_DDL)
        cursor.execute(_CLEAR_EVENT_STAGE)
        with cursor.cursor.copy(
            "COPY lake_stage_event (kind, occurred_at, ended_at, title, text, url, lon, lat, data,"
            " content_hash, history_format, merge_list, version_key) FROM STDIN"
        ) as copy:
            for e in self.rows:
                copy.write_row(
                    (
                        *_event_tuple(e),
                        e.history_format or None,
                        e.merge_list or None,
                        e.version_key or None,
                    )
                )
        if any(e.history_format for e in self.rows):
            cursor.execute(
                "SELECT pg_advisory_xact_lock(%s, %s)", [_HISTORY_LOCK_NAMESPACE, self.user_id]
            )
            # Statistics of this batch, so that both statements look up the
            # events by their index (user, kind, time) rather than scan them.
            cursor.execute("ANALYZE lake_stage_event")
            cursor.execute(_HISTORY_JSON_TAKES_OVER, {"user_id": self.user_id})
            cursor.execute(_HISTORY_HTML_KNOWN, {"user_id": self.user_id})
            cursor.execute(_SPOTIFY_STREAM_TAKES_OVER, {"user_id": self.user_id})
            cursor.execute(_SPOTIFY_PLAY_KNOWN, {"user_id": self.user_id})
        cursor.execute(_MOVE_EVENTS, [self.user_id, self.source, self.entry_id])
        inserted = list(cursor.fetchall())
        for column, sql in _UPSERTS.items():
            for key in sorted({getattr(e, column) for e in self.rows} - {""}):
                cursor.execute(
                    sql,
                    {
                        "user_id": self.user_id,
                        "source": self.source,
                        "entry_id": self.entry_id,
                        "key": key,
                    },
                )
                inserted.extend(
                    (event_id, digest, occurred_at)
                    for event_id, digest, occurred_at, new in cursor.fetchall()
                    if new
                )
        return inserted
