"""Full-text search through an index under row-level security (issue #17).

A stored generated ``search_vector`` on lake_event (english || simple), its GIN index,
the role and the SECURITY DEFINER function that read it for the signed-in user
(apps/analytics/search/fulltext_sql.py says why), and the old expression index
analytics_event_fts dropped: no query spells its expression any more.
"""

from django.db import migrations

from apps.analytics.search.fulltext_sql import (
    NEWEST_MATCHES_FUNCTION,
    SEARCH_ROLE,
    SEARCH_SCHEMA,
    SEARCH_VECTOR_SQL,
)
from apps.privacy.rls import APP_ROLE, _create_role_sql, _grant_to_owner

FORWARD = f"""
ALTER TABLE lake_event ADD COLUMN IF NOT EXISTS search_vector tsvector
    GENERATED ALWAYS AS ({SEARCH_VECTOR_SQL}) STORED;
CREATE INDEX IF NOT EXISTS analytics_event_search_vector ON lake_event USING gin (search_vector);
DROP INDEX IF EXISTS analytics_event_fts;
"""

SIGNATURE = f"{SEARCH_SCHEMA}.newest_matches(tsquery, integer, timestamptz, bigint)"

BACKWARD = f"""
DROP SCHEMA IF EXISTS {SEARCH_SCHEMA} CASCADE;
DROP INDEX IF EXISTS analytics_event_search_vector;
ALTER TABLE lake_event DROP COLUMN IF EXISTS search_vector;
CREATE INDEX IF NOT EXISTS analytics_event_fts
    ON lake_event USING gin (
        to_tsvector('english'::regconfig, coalesce("title", '') || ' ' || coalesce("text", ''))
    );
"""


def install_search_function(apps, schema_editor) -> None:
    connection = schema_editor.connection
    with connection.cursor() as cursor:
        # NOINHERIT, NOLOGIN: only the owner may take it, and only to define the function.
        cursor.execute(_create_role_sql(SEARCH_ROLE, "NOLOGIN NOSUPERUSER BYPASSRLS NOINHERIT"))
        cursor.execute(_create_role_sql(APP_ROLE, "NOLOGIN NOSUPERUSER NOBYPASSRLS NOINHERIT"))
        cursor.execute("SELECT pg_has_role(current_user, %s, 'SET')", [SEARCH_ROLE])
        if not cursor.fetchone()[0]:
            _grant_to_owner(connection, cursor, SEARCH_ROLE)
        cursor.execute(
            f"""
            CREATE SCHEMA IF NOT EXISTS {SEARCH_SCHEMA} AUTHORIZATION {SEARCH_ROLE};
            GRANT USAGE ON SCHEMA public TO {SEARCH_ROLE};
            REVOKE ALL ON lake_event FROM {SEARCH_ROLE};
            GRANT SELECT (id, user_id, occurred_at, search_vector) ON lake_event TO {SEARCH_ROLE};
            """
        )
        # Defined as the role itself, in its own schema: it owns the function (the
        # definer's rights are its rights), and a non-superuser owner needs no
        # privileges on that schema.
        cursor.execute("SELECT current_user::text, session_user::text")
        current, session = cursor.fetchone()
        cursor.execute(f"SET ROLE {SEARCH_ROLE}")
        try:
            cursor.execute(NEWEST_MATCHES_FUNCTION)
            cursor.execute(
                f"""
                REVOKE ALL ON FUNCTION {SIGNATURE} FROM PUBLIC;
                GRANT USAGE ON SCHEMA {SEARCH_SCHEMA} TO {APP_ROLE};
                GRANT EXECUTE ON FUNCTION {SIGNATURE} TO {APP_ROLE};
                """
            )
        finally:
            cursor.execute("RESET ROLE" if current == session else f"SET ROLE {current}")


class Migration(migrations.Migration):
    dependencies = [("analytics", "0005_geofence_state"), ("lake", "0004_health_metric_hypertable")]

    operations = [
        migrations.RunSQL(FORWARD, BACKWARD),
        migrations.RunPython(install_search_function, migrations.RunPython.noop),
    ]
