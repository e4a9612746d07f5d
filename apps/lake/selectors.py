"""Reads of the lake for pages and the API."""

from __future__ import annotations

from django.db.models import Count, QuerySet, Sum

from apps.lake.models import (
    Event,
    Import,
    ImportEntry,
    LocationPoint,
    Place,
    Quarantine,
    Visit,
)


def imports_of(user) -> QuerySet[Import]:
    return Import.objects.filter(user=user).order_by("-created_at")


def import_summary_by_product(run: Import) -> list[dict]:
    """One row per (product, status): members and record counts, for summary tables."""
    rows = (
        ImportEntry.objects.filter(import_run=run)
        .values("product", "status")
        .annotate(
            members=Count("id"),
            written=Sum("records_written"),
            duplicate=Sum("records_duplicate"),
            quarantined=Sum("records_quarantined"),
        )
        .order_by("product", "status")
    )
    return [dict(row) for row in rows]


def quarantine_of(run: Import) -> QuerySet[Quarantine]:
    """What an import could not store, with why, member by member."""
    return (
        Quarantine.objects.filter(entry__import_run=run)
        .select_related("entry")
        .order_by("entry__path", "id")
    )


def skipped_entries_of(run: Import) -> QuerySet[ImportEntry]:
    """Members no parser understands: listed, never silently dropped."""
    return run.entries.filter(status=ImportEntry.Status.SKIPPED).order_by("part", "path")


def lake_overview(user) -> dict:
    """What the home page shows: how much of each kind is in the lake, and the latest events."""
    kinds = list(
        Event.objects.filter(user=user)
        .values("kind")
        .annotate(count=Count("id"))
        .order_by("-count", "kind")
    )
    return {
        "kinds": kinds,
        "events": sum(row["count"] for row in kinds),
        "points": LocationPoint.objects.filter(user=user).count(),
        "visits": Visit.objects.filter(user=user).count(),
        "places": Place.objects.filter(user=user).count(),
        "latest": Event.objects.filter(user=user).order_by("-occurred_at")[:15],
    }
