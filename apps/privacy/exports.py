"""Download all my data: a zip of JSON (and CSV for events and points) of every
row the user owns, in every app.

The tables are found generically (``user_owned_models``): whatever another app
adds is exported without touching this module. Fields that hold secrets
(names with token/secret/password/credential, encrypted fields) are left
out, so connections come without their tokens; events pass through the
user's redaction policy (``redact_event_payloads``) like every API response.
The zip holds ``manifest.json`` with the rows per table. A model whose number
has its source's text in another field (``EXACT_NUMBER_FIELDS``, e.g. a health
measurement's ``value`` and ``value_text``) gets that number written with the
source's digits: "0.40129898838885744", not its double's shortest text.

The whole export runs in the owner's ``user_context``: row-level security
guarantees nothing of another user can be read into it.
"""

from __future__ import annotations

import csv
import logging
import os
import re
import tempfile
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
from django.conf import settings
from django.contrib.gis.geos import GEOSGeometry, Point
from django.db import models
from django.utils import timezone

from apps.core import advisory_locks
from apps.core.feed import publish
from apps.core.jobs import job_run_once
from apps.core.retry import CONNECTION_ERRORS
from apps.privacy.audit import audit_record
from apps.privacy.models import Export
from apps.privacy.ownership import user_owned_models
from apps.privacy.redaction import redact_event_payloads

logger = logging.getLogger(__name__)

FORMAT_VERSION = 1
# Rows fetched (and redacted) at a time: bounded memory whatever the lake's size.
CHUNK = 5_000
# Seconds between progress messages inside a large table.
REPORT_INTERVAL = 1.0
# Tables also written as CSV, for spreadsheets and other tools.
CSV_TABLES = frozenset({"lake_event", "lake_locationpoint"})
# Events carry text that may hold PII: the same redaction as the API.
REDACTED_TABLES = frozenset({"lake_event"})
# The text a JSON number may have (a source's "+5" or ".5" is not one: it stays the double).
_JSON_NUMBER = re.compile(r"-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][-+]?\d+)?")
_SECRET_NAME = re.compile(r"(^|_)(token|secret|password|credential)s?($|_)", re.IGNORECASE)
_LOCK_NAMESPACE = advisory_locks.EXPORT_RUN


def is_secret_field(field: models.Field) -> bool:
    """Fields an export leaves out: OAuth tokens, API secrets, anything encrypted."""
    return bool(_SECRET_NAME.search(field.name)) or "encrypt" in type(field).__name__.lower()


def export_path(export: Export) -> Path:
    return Path(settings.EXPORT_DIR) / str(export.user_id) / f"export-{export.pk}.zip"


def export_create(*, user_id: int, ip: str | None = None) -> Export:
    """A new pending export of ``user_id``'s data (queue ``run_export`` after commit)."""
    export = Export.objects.create(user_id=user_id)
    audit_record(
        action="export.requested",
        user_id=user_id,
        actor_id=user_id,
        target=f"export:{export.pk}",
        ip=ip,
    )
    return export


def _json_default(value: Any) -> Any:
    if isinstance(value, GEOSGeometry):
        if isinstance(value, Point):
            return {"type": "Point", "coordinates": [value.x, value.y]}
        return orjson.loads(value.json)
    if isinstance(value, (bytes, memoryview)):
        return bytes(value).hex()
    return str(value)  # Decimal, timedelta, anything else: its text


def _exact_numbers(row: dict[str, Any], fields: dict[str, str]) -> None:
    """``row``'s numbers written with their source's text where it has one (in place)."""
    for number, text_field in fields.items():
        text = row.get(text_field)
        if text and row.get(number) is not None and _JSON_NUMBER.fullmatch(text):
            row[number] = orjson.Fragment(text)


def _csv_value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, GEOSGeometry):
        return value.ewkt
    if isinstance(value, (bytes, memoryview)):
        return bytes(value).hex()
    if isinstance(value, (dict, list)):
        return orjson.dumps(value, default=_json_default).decode()
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


def _columns(model: type[models.Model]) -> list[str]:
    return [f.attname for f in model._meta.concrete_fields if not is_secret_field(f)]


def _rows(model: type[models.Model], user_id: int) -> Iterator[list[dict[str, Any]]]:
    """The user's rows of ``model`` in chunks, ordered by primary key.

    No transaction stays open across the yields: the caller records progress
    between chunks, and the progress page reads it from another connection.
    Outside a transaction Django declares the server-side cursor WITH HOLD, so
    the table is still read from one snapshot (the server keeps the result
    once the short declaring transaction commits).
    """
    columns = _columns(model)
    query = model._default_manager.filter(user_id=user_id).order_by("pk").values(*columns)
    chunk: list[dict[str, Any]] = []
    for row in query.iterator(chunk_size=CHUNK):
        chunk.append(row)
        if len(chunk) >= CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


class _ExportRun:
    def __init__(self, export: Export):
        self.export = export
        self.partial: Path | None = None
        self.user_id = export.user_id
        self._last_report = 0.0

    def execute(self) -> Export:
        export = self.export
        tables = user_owned_models(include_append_only=True)
        export.start(tables_total=len(tables), tables_done=0, rows_written=0)
        export.refresh_from_db()
        final = export_path(export)
        final.parent.mkdir(parents=True, exist_ok=True)
        partial = self.partial = final.with_suffix(".zip.partial")
        counts: dict[str, int] = {}
        excluded: dict[str, list[str]] = {}
        with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for model in tables:
                table = model._meta.db_table
                secret = [f.name for f in model._meta.concrete_fields if is_secret_field(f)]
                if secret:
                    excluded[table] = secret
                counts[table] = self._write_table(archive, model)
                Export.objects.filter(pk=export.pk).update(tables_done=models.F("tables_done") + 1)
                self._report(final=True)
            manifest = {
                "format": FORMAT_VERSION,
                "user_id": self.user_id,
                "export_id": export.pk,
                "generated_at": timezone.now().isoformat(),
                "tables": counts,
                "excluded_fields": excluded,
                "files": {
                    "json": "one <table>.json per table: a list of rows",
                    "csv": sorted(f"{t}.csv" for t in counts if t in CSV_TABLES),
                },
            }
            archive.writestr("manifest.json", orjson.dumps(manifest, option=orjson.OPT_INDENT_2))
        os.replace(partial, final)
        export.finish(counts=counts, file_size=final.stat().st_size)
        export.refresh_from_db()
        audit_record(
            action="export.finished",
            user_id=self.user_id,
            actor_id=self.user_id,
            target=f"export:{export.pk}",
            detail={"tables": counts, "bytes": export.file_size},
        )
        self._report(final=True)
        return export

    def _write_table(self, archive: zipfile.ZipFile, model: type[models.Model]) -> int:
        table = model._meta.db_table
        written = 0
        # A zip takes one member at a time: the CSV goes to a side file first.
        with tempfile.TemporaryFile("w+", encoding="utf-8", newline="") as csv_side:
            writer = csv.writer(csv_side) if table in CSV_TABLES else None
            exact: dict[str, str] = getattr(model, "EXACT_NUMBER_FIELDS", {})
            if writer is not None:
                writer.writerow(_columns(model))
            with archive.open(f"{table}.json", "w", force_zip64=True) as out:
                out.write(b"[")
                for chunk in _rows(model, self.user_id):
                    if table in REDACTED_TABLES:
                        chunk = redact_event_payloads(user_id=self.user_id, payloads=chunk)
                    for row in chunk:
                        if exact:
                            _exact_numbers(row, exact)
                        out.write(b",\n" if written else b"\n")
                        out.write(orjson.dumps(row, default=_json_default))
                        if writer is not None:
                            writer.writerow([_csv_value(value) for value in row.values()])
                        written += 1
                    Export.objects.filter(pk=self.export.pk).update(
                        rows_written=models.F("rows_written") + len(chunk)
                    )
                    self._report()
                out.write(b"\n]\n")
            if writer is not None:
                csv_side.seek(0)
                with archive.open(f"{table}.csv", "w", force_zip64=True) as out:
                    while block := csv_side.read(1 << 20):
                        out.write(block.encode())
        return written

    def _report(self, *, final: bool = False) -> None:
        now = time.monotonic()
        if not final and now - self._last_report < REPORT_INTERVAL:
            return
        self._last_report = now
        self.export.refresh_from_db()
        export = self.export
        publish(
            self.user_id,
            {
                "type": "export.finished"
                if export.status == Export.Status.DONE
                else "export.progress",
                "data": {
                    "export_id": export.pk,
                    "status": export.status,
                    "tables_done": export.tables_done,
                    "tables_total": export.tables_total,
                    "rows_written": export.rows_written,
                },
            },
        )


def export_run(*, export_id: int) -> Export | None:
    """Write the export's zip. Call inside the owner's ``user_context``, outside a
    transaction: each progress update commits on its own, for the page to show.

    Idempotent: a finished export is returned as it is; an interrupted one is
    written again from the start (the zip appears only when complete).
    Locks: a session advisory lock on the export; None when another process
    holds it. Failures are recorded on the row (status failed, error).
    """
    return job_run_once(Export, export_id, lock=_LOCK_NAMESPACE, work=_export_locked)


def _export_locked(export: Export) -> Export:
    run = _ExportRun(export)
    try:
        return run.execute()
    except CONNECTION_ERRORS:
        raise  # the task retries; the export is written again from the start
    except Exception as exc:
        if run.partial is not None:
            run.partial.unlink(missing_ok=True)
        logger.exception("export %s failed", export.pk)
        export.fail(f"{type(exc).__name__}: {exc}")
        audit_record(
            action="export.failed",
            user_id=export.user_id,
            target=f"export:{export.pk}",
            detail={"error": f"{type(exc).__name__}: {exc}"[:500]},
        )
        export.refresh_from_db()
        publish(
            export.user_id,
            {
                "type": "export.finished",
                "data": {"export_id": export.pk, "status": export.status, "error": export.error},
            },
        )
        return export
