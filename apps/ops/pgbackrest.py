"""The one place that runs pgBackRest.

By default through ``scripts/postgres.sh pgbackrest``, which runs it as the
postgres user inside the Debian root beside the server (the archive_command
runs there too, so both see the same configuration and repository). With a
server of your own, set DATAPUNK_PGBACKREST_COMMAND (e.g. ``pgbackrest``, or
``sudo -u postgres pgbackrest``). Every failure becomes a ``PgBackRestError``
whose message is pgBackRest's own ERROR line, never a traceback.
"""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Callable, Iterator
from typing import Any

from django.conf import settings

# `info` reads a few small files: anything slower means the repository hangs
# (an unreachable NFS or S3 endpoint); a readiness probe must not hang with it.
INFO_TIMEOUT_SECONDS = 20.0

_ERROR_LINE = re.compile(r"^(?:\S+ \S+ P\d+ +)?ERROR: \[(\d+)\]: (.*)$")


class PgBackRestError(Exception):
    """pgBackRest could not do what was asked; the message says why, for a person."""


def command(*args: str) -> list[str]:
    return [
        *settings.DATAPUNK_PGBACKREST_COMMAND,
        f"--stanza={settings.DATAPUNK_BACKUP_STANZA}",
        *args,
    ]


# Console lines start with a timestamp and process id; anything else continues the line before.
_LOG_LINE = re.compile(r"^\d{4}-\d\d-\d\d \S+ P\d+ ")
# What a person can do about pgBackRest's commonest repository errors.
_HINTS = {
    "055": "the repository is missing, not mounted, or was never initialised for this stanza "
    "(scripts/postgres.sh start creates it; check /etc/pgbackrest/conf.d/repo.conf in the root)",
    "041": "the repository is not readable or writable by the postgres user",
    "047": "the repository is not writable by the postgres user",
    "064": "the repository could not be written: is its disk full?",
    "082": "WAL archiving is not reaching the repository (archive_command failing)",
}


def _explain(output: str, returncode: int) -> str:
    errors: list[str] = []
    collecting = False
    for raw in output.splitlines():
        line = raw.strip()
        match = _ERROR_LINE.match(line)
        if match:
            code, message = match.groups()
            hint = _HINTS.get(code)
            errors.append(f"{message} (pgBackRest error {code}{': ' + hint if hint else ''})")
            collecting = True
        elif collecting and line and not _LOG_LINE.match(raw):
            errors[-1] += f" {line}"
        else:
            collecting = False
    if errors:
        return "; ".join(errors)
    tail = " ".join(output.strip().splitlines()[-3:])
    return f"pgBackRest exited with status {returncode}: {tail or 'no output'}"


def run(*args: str, timeout: float | None = None) -> str:
    """Run pgBackRest and return its stdout; raise PgBackRestError on failure."""
    try:
        done = subprocess.run(
            command(*args), capture_output=True, text=True, timeout=timeout, check=False
        )
    except FileNotFoundError as exc:
        raise PgBackRestError(
            f"cannot run pgBackRest ({exc.filename}): set DATAPUNK_PGBACKREST_COMMAND"
        ) from None
    except subprocess.TimeoutExpired:
        raise PgBackRestError(
            f"pgBackRest did not answer within {timeout:.0f} s: is the repository reachable?"
        ) from None
    if done.returncode != 0:
        raise PgBackRestError(_explain(done.stdout + "\n" + done.stderr, done.returncode))
    return done.stdout


def stream(*args: str) -> Iterator[str]:
    """Run pgBackRest and yield its console lines as they come; raise on failure."""
    try:
        process = subprocess.Popen(
            command(*args),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            bufsize=1,
        )
    except FileNotFoundError as exc:
        raise PgBackRestError(
            f"cannot run pgBackRest ({exc.filename}): set DATAPUNK_PGBACKREST_COMMAND"
        ) from None
    seen: list[str] = []
    assert process.stdout is not None
    with process:
        for line in process.stdout:
            seen.append(line)
            yield line.rstrip("\n")
    if process.returncode != 0:
        raise PgBackRestError(_explain("".join(seen), process.returncode))


def info() -> dict[str, Any]:
    """The stanza's entry of ``pgbackrest info --output=json``."""
    output = run("info", "--output=json", timeout=INFO_TIMEOUT_SECONDS)
    try:
        stanzas = json.loads(output)
    except ValueError:
        raise PgBackRestError(f"pgBackRest info gave no JSON: {output[:200]!r}") from None
    if not stanzas:
        raise PgBackRestError(f"stanza {settings.DATAPUNK_BACKUP_STANZA} is not in the repository")
    stanza = stanzas[0]
    status = stanza.get("status", {})
    # 0 ok, 2 no valid backups yet, 6 a backup or expire is running: all readable.
    if status.get("code") not in (0, 2, 6):
        raise PgBackRestError(
            f"{status.get('message', 'unknown status')} (pgBackRest info status {status.get('code')}): "
            + _HINTS["055"]
        )
    return stanza


ProgressCallback = Callable[[str], None]
