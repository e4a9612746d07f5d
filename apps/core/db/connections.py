"""The database connection of a long-lived worker thread (the ingest threads,
the group committer, the MQTT subscriber).

Django's ``close_old_connections`` is made for a request cycle: with the
default ``CONN_MAX_AGE`` of 0 it closes the connection every time, so a
thread calling it per request opened a new connection per request (a TCP
connect, SCRAM authentication and the role switch: it was most of a device
request's time). These threads keep theirs, and replace it only when it is
broken.
"""

from __future__ import annotations

from django.db import connection


def connection_keep_healthy() -> None:
    """Keep this thread's connection unless it is broken or left in a bad state;
    then close it, and the next query opens a fresh one.

    Between units of work only, never inside an atomic block. The RLS
    settings need no reset here, every context restores what it found
    (apps/core/db/context.py).
    """
    if connection.connection is None:
        return
    if connection.get_autocommit() != connection.settings_dict["AUTOCOMMIT"]:
        connection.close()
        return
    if connection.errors_occurred:
        if connection.is_usable():
            connection.errors_occurred = False
        else:
            connection.close()
