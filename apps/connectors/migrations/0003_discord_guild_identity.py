"""Discord guilds are known by their id from now on (connector and data package alike).

Guilds already stored were known by everything the API said of them, so a
guild renamed between two syncs may be stored twice. Each stored guild row
gets its new identity; several rows of one guild become the newest one.
"""

import hashlib
from collections import defaultdict

from django.db import migrations

UNDATED = "1970-01-01T00:00:00+00:00"


def _hash(*parts: str) -> bytes:
    # apps.lake.normalize.content_hash as of this migration (copied: a
    # migration must not change when the code does).
    digest = hashlib.blake2b(digest_size=16)
    for part in parts:
        digest.update(part.encode("utf-8", "surrogatepass"))
        digest.update(b"\x1f")
    return digest.digest()


def guilds_known_by_id(apps, schema_editor) -> None:
    with schema_editor.connection.cursor() as cursor:
        # Every user's rows: row-level security admits them all to the system
        # setting, for this migration's transaction only (apps/privacy/rls.py).
        cursor.execute("SELECT set_config('datapunk.system', 'on', true)")
        cursor.execute(
            "SELECT id, user_id, occurred_at, data ->> 'id' FROM lake_event"
            " WHERE kind = 'discord.guild' AND data ->> 'id' ~ '^[0-9]+$' ORDER BY id"
        )
        guilds: dict[tuple, list[tuple[int, object]]] = defaultdict(list)
        for event_id, user_id, occurred_at, guild_id in cursor.fetchall():
            guilds[(user_id, guild_id)].append((event_id, occurred_at))
        for (_user_id, guild_id), rows in guilds.items():
            identity = _hash("discord.guild", UNDATED, "identity", f"guild:{guild_id}")
            *older, (newest_id, occurred_at) = rows
            if older:
                cursor.execute(
                    "DELETE FROM lake_event WHERE id = ANY(%s)", [[event_id for event_id, _ in older]]
                )
            cursor.execute(
                "UPDATE lake_event SET content_hash = %s WHERE id = %s AND occurred_at = %s",
                [identity, newest_id, occurred_at],
            )


class Migration(migrations.Migration):
    dependencies = [
        ("connectors", "0002_connection_sync_notes"),
        ("lake", "0004_health_metric_hypertable"),
    ]

    operations = [
        migrations.RunPython(guilds_known_by_id, migrations.RunPython.noop, elidable=True)
    ]
