"""Readiness checks: is every service Datapunk needs answering?"""

from __future__ import annotations

from collections.abc import Callable

import redis
from django.conf import settings
from django.db import connection

from apps.core.dbbackend.base import REQUIRED_EXTENSIONS

# A readiness probe must answer quickly even when a service hangs.
TIMEOUT_SECONDS = 2.0


def check_database() -> str | None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return None


def check_extensions() -> dict[str, str | None]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT extname, extversion FROM pg_extension")
        installed = dict(cursor.fetchall())
    return {
        name: None if name in installed else "extension not installed in this database"
        for name in REQUIRED_EXTENSIONS
    }


def _ping(url: str) -> None:
    client = redis.Redis.from_url(
        url, socket_timeout=TIMEOUT_SECONDS, socket_connect_timeout=TIMEOUT_SECONDS
    )
    try:
        client.ping()
    finally:
        client.close()


def check_redis() -> str | None:
    _ping(settings.REDIS_URL)
    return None


def check_broker() -> str | None:
    # The project's Celery app (datapunk/celery.py), current once settings load.
    from celery import current_app as app

    with app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, timeout=TIMEOUT_SECONDS)
    return None


def celery_workers_answering(timeout: float = 1.0) -> int:
    """How many Celery workers answer a ping on the broker; 0 when none runs."""
    from celery import current_app as app

    return len(app.control.ping(timeout=timeout) or [])


def _run(check: Callable[[], str | None]) -> str | None:
    try:
        return check()
    except Exception as exc:  # a probe reports every failure, whatever its kind
        return f"{type(exc).__name__}: {exc}".strip()


def readiness() -> dict[str, str]:
    """Each check's name mapped to "ok" or the reason it failed."""
    results: dict[str, str | None] = {"database": _run(check_database)}
    if results["database"] is None:
        try:
            results.update(check_extensions())
        except Exception as exc:
            results.update({name: f"unknown: {exc}" for name in REQUIRED_EXTENSIONS})
    else:
        results.update({name: "database unreachable" for name in REQUIRED_EXTENSIONS})
    results["redis"] = _run(check_redis)
    results["broker"] = _run(check_broker)
    return {name: error or "ok" for name, error in results.items()}


# Checks reported beside readiness and never fatal (a failing one is a warning,
# not a reason to leave the load balancer). Apps register theirs in ready():
# apps/ops registers the backup's. A report is {"status": "ok" | "fail",
# "detail": why, for the log, ...further fields for operators}.
WarningCheck = Callable[[], dict[str, object]]
_warning_checks: dict[str, WarningCheck] = {}


def warning_check_register(name: str, check: WarningCheck) -> None:
    """Report ``check`` under ``name`` on the readiness page; idempotent per name."""
    _warning_checks[name] = check


def warning_checks() -> dict[str, dict[str, object]]:
    """Each registered warning check's name mapped to its report, in registration order."""
    return {name: check() for name, check in _warning_checks.items()}
