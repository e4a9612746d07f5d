"""A batch's places and visits: upserted one statement per row (they come by the
hundred, not the million). The transaction is the BatchWriter's (apps/lake/writer.py).
"""

from __future__ import annotations

from django.db.backends.utils import CursorWrapper

from apps.lake.normalize import PlaceRow, VisitRow


def _point_sql(lon_lat: tuple[float | None, float | None]) -> str | None:
    lon, lat = lon_lat
    return None if lon is None or lat is None else f"SRID=4326;POINT({lon!r} {lat!r})"


class PlaceBatch:
    """The places and visits of one batch of one user."""

    def __init__(self, *, user_id: int, entry_id: int | None):
        self.user_id = user_id
        self.entry_id = entry_id
        self.places: list[PlaceRow] = []
        self.visits: list[VisitRow] = []

    def __len__(self) -> int:
        return len(self.places) + len(self.visits)

    def reset(self) -> None:
        self.places, self.visits = [], []

    def write_places(self, cursor: CursorWrapper) -> int:
        """Upsert the places; returns how many were new (the rest merged into known ones)."""
        return self._upsert_places(
            cursor,
            [
                (
                    p.place_id,
                    p.name,
                    p.address,
                    p.semantic_type,
                    p.longitude,
                    p.latitude,
                    p.data_json,
                )
                for p in self.places
            ],
        )

    def _upsert_places(self, cursor, places: list[tuple]) -> int:
        """Upsert (place_id, name, address, semantic_type, lon, lat, data_json) rows;
        returns how many were inserted rather than merged into a known place."""
        # A place seen again keeps what it knew; new non-empty facts win.
        # xmax = 0 marks a row this statement inserted rather than updated.
        raw = cursor.cursor
        raw.executemany(
            """
            INSERT INTO lake_place
                (user_id, place_id, name, address, semantic_type, location, data, entry_id)
            VALUES (%s, %s, %s, %s, %s, %s::geography, %s, %s)
            ON CONFLICT (user_id, place_id) DO UPDATE SET
                name = COALESCE(NULLIF(EXCLUDED.name, ''), lake_place.name),
                address = COALESCE(NULLIF(EXCLUDED.address, ''), lake_place.address),
                semantic_type = COALESCE(NULLIF(EXCLUDED.semantic_type, ''), lake_place.semantic_type),
                location = COALESCE(lake_place.location, EXCLUDED.location),
                data = lake_place.data || EXCLUDED.data
            RETURNING (xmax = 0)
            """,
            [
                (
                    self.user_id,
                    place_id,
                    name,
                    address,
                    semantic_type,
                    _point_sql((longitude, latitude)),
                    data_json,
                    self.entry_id,
                )
                for place_id, name, address, semantic_type, longitude, latitude, data_json in places
            ],
            returning=True,
        )
        inserted = 0
        while True:
            inserted += sum(1 for (new,) in raw.fetchall() if new)
            if not raw.nextset():
                return inserted

    def write_visits(self, cursor: CursorWrapper) -> int:
        # A visit's place is known by what the visit says of it; it adds no data.
        named = [
            (v.place_id, v.name, v.address, v.semantic_type, v.longitude, v.latitude, "{}")
            for v in self.visits
            if v.place_id
        ]
        if named:
            self._upsert_places(cursor, named)
        written = 0
        for v in self.visits:
            cursor.execute(
                """
                INSERT INTO lake_visit (user_id, place_id, started_at, ended_at, location, confidence,
                                        data, content_hash, entry_id)
                VALUES (%s, (SELECT id FROM lake_place WHERE user_id = %s AND place_id = %s),
                        %s, %s, %s::geography, %s, %s, %s, %s)
                ON CONFLICT DO NOTHING
                """,
                [
                    self.user_id,
                    self.user_id,
                    v.place_id,
                    v.started_at,
                    v.ended_at,
                    _point_sql((v.longitude, v.latitude)),
                    v.confidence,
                    v.data_json,
                    v.content_hash,
                    self.entry_id,
                ],
            )
            written += cursor.rowcount
        return written
