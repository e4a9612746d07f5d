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


def photos_in_album(album: Event) -> QuerySet[Event]:
    """The photos of a ``photos.album`` event, oldest first (matched by the album's folder)."""
    return Event.objects.filter(
        user_id=album.user_id,
        kind="photos.photo",
        data__albums__contains=[album.data.get("album_folder", "")],
    ).order_by("occurred_at", "id")


def albums_of_photo(photo: Event) -> QuerySet[Event]:
    """The ``photos.album`` events of the albums a photo is in."""
    return Event.objects.filter(
        user_id=photo.user_id,
        kind="photos.album",
        data__album_folder__in=photo.data.get("albums") or [],
    ).order_by("title", "id")


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
