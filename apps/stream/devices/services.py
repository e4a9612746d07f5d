"""Writes for devices: create, revoke, authenticate, and store what a device sent."""

from __future__ import annotations

import hashlib
import logging
import math
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.analytics.geofences import geofence_crossings_advance
from apps.lake.normalize import iso_utc
from apps.lake.takeout.records import BadRecord, LocationRecord, Record, excerpt_of
from apps.privacy.audit import audit_record
from apps.privacy.context import system_context, user_context
from apps.stream.devices.broker import broker_auth_write, broker_password_hash
from apps.stream.events import publish
from apps.stream.models import Device
from apps.stream.pipeline import records_store

logger = logging.getLogger(__name__)

# A phone's clock may run a little ahead; a fix further in the future is wrong.
FUTURE_TOLERANCE = timedelta(minutes=10)
# Phones report a few metres to a few kilometres (cell towers); beyond this
# the "fix" places the phone nowhere in particular.
MAX_ACCURACY_M = 100_000.0
# One feed message shows at most this many fixes (an Overland batch has ~100).
FEED_POINTS_SHOWN = 500


class DeviceNameTaken(Exception):
    """The user already has an active device of that name (the message is for them)."""


@dataclass(frozen=True, slots=True)
class IssuedDevice:
    device: Device
    credential: str  # shown once


def credential_hash(credential: str) -> str:
    return hashlib.sha256(credential.encode()).hexdigest()


def device_create(*, user_id: int, name: str, kind: str, ip: str | None = None) -> IssuedDevice:
    """A new device with a fresh credential (returned once, stored as its hash).

    Not idempotent: each call issues a new credential. Raises DeviceNameTaken.
    """
    name = name.strip()
    if not name or len(name) > 64 or "/" in name or "+" in name or "#" in name:
        raise DeviceNameTaken("A device name is 1 to 64 characters without / + or #.")
    credential = f"dpd_{secrets.token_urlsafe(24)}"
    try:
        with transaction.atomic():
            device = Device.objects.create(
                user_id=user_id,
                name=name,
                kind=kind,
                credential_hash=credential_hash(credential),
                broker_password_hash=(
                    broker_password_hash(credential) if kind == Device.Kind.OWNTRACKS_MQTT else ""
                ),
            )
    except IntegrityError:  # the unique constraint decides, also under concurrency
        raise DeviceNameTaken(f"You already have a device named {name!r}.") from None
    with transaction.atomic():
        audit_record(action="stream.device.create", user_id=user_id, target=str(device.pk), ip=ip)
    if kind == Device.Kind.OWNTRACKS_MQTT:
        transaction.on_commit(_broker_accounts_update)
    return IssuedDevice(device=device, credential=credential)


def device_revoke(*, user_id: int, device_id: int, ip: str | None = None) -> bool:
    """Revoke one of the user's devices; idempotent (False when there was nothing to revoke)."""
    with transaction.atomic():
        changed = Device.objects.filter(
            pk=device_id, user_id=user_id, revoked_at__isnull=True
        ).update(revoked_at=timezone.now())
        if changed:
            audit_record(
                action="stream.device.revoke", user_id=user_id, target=str(device_id), ip=ip
            )
            # Also for HTTP devices: cheap, and the broker's files never lag the table.
            transaction.on_commit(_broker_accounts_update)
    return bool(changed)


def _broker_accounts_update() -> None:
    """Rewrite the broker's logins after commit; a failure leaves the device
    made or revoked (the subscriber checks revocation too) and is logged."""
    try:
        broker_auth_write()
    except Exception:
        logger.exception("the MQTT broker's password and ACL files could not be written")


def device_authenticate(*, credential: str, username: str | None = None) -> Device | None:
    """The active device holding ``credential`` (and owned by ``username`` when given)."""
    if not credential:
        return None
    # Looked up across users: whose device it is, is what we learn here.
    with system_context():
        device = (
            Device.objects.select_related("user")
            .filter(credential_hash=credential_hash(credential), revoked_at__isnull=True)
            .first()
        )
    if device is None or not device.user.is_active:
        return None
    if username is not None and username != device.user.get_username():
        return None
    return device


def fix_problem(record: LocationRecord, now: datetime) -> str | None:
    """Why a phone's fix cannot be stored as where the phone was, or None."""
    latitude, longitude = record.latitude, record.longitude
    if not (math.isfinite(latitude) and math.isfinite(longitude)):
        return "coordinates are not numbers"
    if not (-90.0 <= latitude <= 90.0 and -180.0 <= longitude <= 180.0):
        return f"coordinates outside the globe: {latitude}, {longitude}"
    if record.recorded_at > now + FUTURE_TOLERANCE:
        return f"recorded in the future ({iso_utc(record.recorded_at)}; received {iso_utc(now)})"
    accuracy = record.accuracy_m
    if accuracy is not None and not (0 <= accuracy <= MAX_ACCURACY_M):
        return f"absurd accuracy: {accuracy} m"
    return None


@dataclass(slots=True)
class DeviceOutcome:
    received: int = 0
    written: int = 0
    duplicate: int = 0
    quarantined: int = 0
    points: list[dict[str, Any]] = field(default_factory=list)


def device_records_store(
    *, device: Device, records: Iterable[Record], now: datetime | None = None
) -> DeviceOutcome:
    """Validate and store what ``device`` sent; committed when this returns.

    Idempotent: a fix sent again (same time and place) is a duplicate, stored
    once. A fix outside the globe, in the future or with an absurd accuracy goes
    to quarantine with the reason. The new fixes are published to the owner's
    live feed after commit, and the geofence crossings they make are stored
    with them. Locks the owner's geofence states (geofence_crossings_advance).
    """
    now = now or timezone.now()
    outcome = DeviceOutcome()
    checked: list[Record] = []
    for record in records:
        outcome.received += 1
        if isinstance(record, LocationRecord):
            problem = fix_problem(record, now)
            if problem is not None:
                record = BadRecord(f"{device.kind} {device.name}: {problem}", excerpt_of(record))
            else:
                record.data = {**(record.data or {}), "device": device.name}
                outcome.points.append(
                    {
                        "lat": record.latitude,
                        "lon": record.longitude,
                        "at": iso_utc(record.recorded_at),
                        "accuracy_m": record.accuracy_m,
                        "device": device.name,
                    }
                )
        checked.append(record)
    with transaction.atomic(), user_context(device.user_id):
        result = records_store(user_id=device.user_id, source=device.kind, records=checked)
        Device.objects.filter(pk=device.pk).update(last_seen_at=now)
        outcome.written, outcome.duplicate = result.written, result.duplicate
        outcome.quarantined = result.quarantined
        fixes = [r.recorded_at for r in checked if isinstance(r, LocationRecord)]
        if result.written and fixes:
            # In this transaction: a crossing is stored with the fix that made it.
            geofence_crossings_advance(user_id=device.user_id, earliest=min(fixes))
        if result.written and outcome.points:
            shown = sorted(outcome.points, key=lambda point: point["at"])[-FEED_POINTS_SHOWN:]
            user_id = device.user_id
            transaction.on_commit(
                lambda: publish(
                    user_id,
                    {"type": "location.stored", "data": {"device": device.name, "points": shown}},
                )
            )
    return outcome
