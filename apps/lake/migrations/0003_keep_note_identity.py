"""Keep notes are known by their creation time from now on (see takeout/keep.py).

Notes already stored were known by everything they held, so a note edited
between two exports may be stored twice. Each stored note gets its new
identity; several rows of one note become the row of its newest version, the
others kept in its data["history"], as an import does from now on.
"""

import hashlib
import json
from collections import defaultdict
from datetime import UTC

from django.db import migrations

VERSION_KEY = "userEditedTimestampUsec"


def _hash(*parts: str) -> bytes:
    # apps.lake.normalize.content_hash as of this migration (copied: a
    # migration must not change when the code does).
    digest = hashlib.blake2b(digest_size=16)
    for part in parts:
        digest.update(part.encode("utf-8", "surrogatepass"))
        digest.update(b"\x1f")
    return digest.digest()


def _version(data: dict) -> int:
    try:
        return int(data.get(VERSION_KEY) or 0)
    except (TypeError, ValueError):
        return 0


def notes_known_by_creation(apps, schema_editor) -> None:
    connection = schema_editor.connection
    with connection.cursor() as cursor:
        # Every user's notes: row-level security admits them all to the system
        # setting, for this migration's transaction only (apps/privacy/rls.py).
        cursor.execute("SELECT set_config('datapunk.system', 'on', true)")
        cursor.execute(
            """
            SELECT id, user_id, occurred_at, data FROM lake_event
            WHERE kind = 'keep.note' AND data ->> 'createdTimestampUsec' ~ '^[0-9]+$'
            """
        )
        rows = cursor.fetchall()
        notes: dict[tuple, list[tuple[int, dict]]] = defaultdict(list)
        for event_id, user_id, occurred_at, data in rows:
            data = json.loads(data) if isinstance(data, str) else data
            created = int(data["createdTimestampUsec"])
            if not created:
                continue
            identity = _hash(
                "keep.note",
                occurred_at.astimezone(UTC).isoformat(),
                "identity",
                f"created {created}",
            )
            notes[(user_id, identity, occurred_at)].append((event_id, data))
        for (_user_id, identity, occurred_at), versions in notes.items():
            versions.sort(key=lambda version: (_version(version[1]), version[0]))
            newest_id, newest = versions[-1]
            older = {}
            for _, data in versions[:-1]:
                for item in (*(data.get("history") or ()), data):
                    older[_version(item)] = {k: v for k, v in item.items() if k != "history"}
            older.pop(_version(newest), None)
            if versions[:-1]:
                cursor.execute(
                    "DELETE FROM lake_event WHERE id = ANY(%s) AND occurred_at = %s",
                    [[event_id for event_id, _ in versions[:-1]], occurred_at],
                )
                newest = {k: v for k, v in newest.items() if k != "history"}
                newest["history"] = [older[v] for v in sorted(older)]
            cursor.execute(
                "UPDATE lake_event SET content_hash = %s, data = %s::jsonb"
                " WHERE id = %s AND occurred_at = %s",
                [identity, json.dumps(newest), newest_id, occurred_at],
            )


class Migration(migrations.Migration):
    dependencies = [("lake", "0002_place_entry")]

    operations = [
        migrations.RunPython(notes_known_by_creation, migrations.RunPython.noop, elidable=True)
    ]
