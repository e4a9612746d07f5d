"""Reads for the Devices page."""

from __future__ import annotations

from django.db.models import QuerySet

from apps.stream.models import Device


def devices_of(*, user_id: int) -> QuerySet[Device]:
    return Device.objects.filter(user_id=user_id).order_by("revoked_at", "-created_at")
