"""Writes for devices: create, revoke, authenticate, and store what a device sent."""

from __future__ import annotations

import hashlib
import logging
import math
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.core.db.context import system_context, user_context
from apps.core.feed import FeedMessage, publish
from apps.lake.normalize import iso_utc
from apps.lake.pipeline import records_store
from apps.lake.takeout.records import BadRecord, LocationRecord, Record, excerpt_of
from apps.privacy.audit import audit_record
from apps.stream.devices.broker import broker_auth_write, broker_password_hash
from apps.stream.devices.credentials import device_forget, device_remember, known_device
from apps.stream.devices.signals import fixes_stored
from apps.stream.models import Device

logger = logging.getLogger(__name__)

# A phone's clock may run a little ahead; a fix further in the future is wrong.
FUTURE_TOLERANCE = timedelta(minutes=10)
# Phones report a few metres to a few kilometres (cell towers); beyond this
# the "fix" places the phone nowhere in particular.
MAX_ACCURACY_M = 100_000.0
# The Devices page shows "last seen" to the minute: a device's row is written at most
# this often, not once per fix (it was a round trip and a row lock per request).
LAST_SEEN_RESOLUTION = timedelta(seconds=60)
# A feed message shows at most this many fixes per device (an Overland batch has ~100).
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
        revoked = Device.objects.filter(pk=device_id, user_id=user_id, revoked_at__isnull=True)
        digests = list(revoked.values_list("credential_hash", flat=True))
        changed = revoked.update(revoked_at=timezone.now())
        if changed:
            for digest in digests:  # this process forgets it now; the others at their next store
                transaction.on_commit(partial(device_forget, digest))
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
    """The active device holding ``credential`` (and owned by ``username`` when given).

    Remembered in the process once found (credentials.py); a device revoked
    since is refused when its fixes are stored (device_items_store).
    """
    if not credential:
        return None
    digest = credential_hash(credential)
    device = known_device(digest)
    if device is None:
        # Looked up across users: whose device it is, is what we learn here.
        with system_context():
            device = (
                Device.objects.select_related("user")
                .filter(credential_hash=digest, revoked_at__isnull=True)
                .first()
            )
        if device is None or not device.user.is_active:
            return None
        device_remember(digest, device)
    return device if device_owned_by(device, username) else None


def device_owned_by(device: Device, username: str | None) -> bool:
    """True when no user name was given, or it names the device's owner."""
    return username is None or username == device.user.get_username()


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
    # The device was revoked (or its owner deactivated) before the store: nothing stored.
    refused: bool = False


@dataclass(slots=True)
class DeviceItem:
    """What one request (or MQTT message) of a device brought, checked, ready to store."""

    device: Device
    records: list[Record]
    received_at: datetime
    outcome: DeviceOutcome


def device_records_check(
    *, device: Device, records: Iterable[Record], now: datetime | None = None
) -> DeviceItem:
    """Judge each fix before any transaction: a fix outside the globe, in the
    future or with an absurd accuracy becomes a quarantined record with the reason."""
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
    return DeviceItem(device=device, records=checked, received_at=now, outcome=outcome)


def device_items_store(items: list[DeviceItem]) -> list[DeviceOutcome]:
    """Store what several devices sent in one transaction; one outcome per item.

    Items that arrive together share one commit (the devices' endpoints go
    through apps/stream/group_commit.py, the MQTT subscriber stores its
    batches here): per user one RLS context, one write of every fix, one
    ``last_seen_at`` update and one geofence advance, whatever the number of
    requests. Idempotent: a fix sent again (same time and place) is a
    duplicate, stored once. The fixes are published to the owner's live feed
    after commit, one message per device; the crossings they make are stored
    with them. Locks the owners' geofence states (geofence_crossings_advance).
    An item of a device no longer active (revoked, its owner deactivated:
    checked here, in the transaction, since credentials are remembered) is
    stored not at all and its outcome says ``refused``. Committed when this returns.
    """
    by_user: dict[int, list[DeviceItem]] = {}
    for item in items:
        by_user.setdefault(item.device.user_id, []).append(item)
    with transaction.atomic():
        for user_id, user_items in by_user.items():
            with user_context(user_id):
                active = _active_items(user_items)
                if active:
                    _user_items_store(user_id, active)
    return [item.outcome for item in items]


def _active_items(items: list[DeviceItem]) -> list[DeviceItem]:
    """The items whose device may still send; the others are marked refused."""
    active = set(
        Device.objects.filter(
            pk__in={item.device.pk for item in items},
            revoked_at__isnull=True,
            user__is_active=True,
        ).values_list("pk", flat=True)
    )
    kept = []
    for item in items:
        if item.device.pk in active:
            kept.append(item)
        else:
            item.outcome.refused = True
            item.outcome.points = []
            device_forget(item.device.credential_hash)
    return kept


def _user_items_store(user_id: int, items: list[DeviceItem]) -> None:
    by_source: dict[str, list[DeviceItem]] = {}
    for item in items:
        by_source.setdefault(item.device.kind, []).append(item)
    written = False
    for source, source_items in by_source.items():
        records = [record for item in source_items for record in item.records]
        result = records_store(user_id=user_id, source=source, records=records)
        written = written or bool(result.written)
        _attribute(source_items, result.written, result.duplicate, result.quarantined)
    newest = max(item.received_at for item in items)
    stale = {
        item.device.pk
        for item in items
        if item.device.last_seen_at is None
        or newest - item.device.last_seen_at > LAST_SEEN_RESOLUTION
    }
    if stale:  # a phone sending every second is not written every second
        Device.objects.filter(pk__in=stale).update(last_seen_at=newest)
        for item in items:  # the subscriber keeps its Device objects for a while
            if item.device.pk in stale:
                item.device.last_seen_at = newest
    fixes = [r.recorded_at for item in items for r in item.records if isinstance(r, LocationRecord)]
    if written and fixes:
        # In this transaction: a crossing is stored with the fix that made it.
        fixes_stored.send(sender=Device, user_id=user_id, earliest=min(fixes))
    if not written:
        return
    shown_by_device: dict[str, list[dict[str, Any]]] = {}
    for item in items:
        shown_by_device.setdefault(item.device.name, []).extend(item.outcome.points)
    # One message per user and group, each device's newest fixes in it: a
    # hundred phones in one group are one message, not a hundred.
    shown = [
        point
        for points in shown_by_device.values()
        for point in sorted(points, key=lambda point: point["at"])[-FEED_POINTS_SHOWN:]
    ]
    if shown:
        devices = [name for name, points in shown_by_device.items() if points]
        message: FeedMessage = {
            "type": "location.stored",
            "data": {"device": devices[0], "devices": devices, "points": shown},
        }
        transaction.on_commit(partial(publish, user_id, message))


def _attribute(items: list[DeviceItem], written: int, duplicate: int, quarantined: int) -> None:
    """Share a write's counts out over the items that made it, in order.

    The writer counts per call, not per record: exact for one item; for
    several, the counts are handed out in order, each item getting at most
    its own size (the endpoints' answers do not depend on them).
    """
    for item in items:
        size = len(item.records)
        bad = min(quarantined, sum(1 for r in item.records if isinstance(r, BadRecord)))
        quarantined -= bad
        new = min(written, size - bad)
        written -= new
        same = min(duplicate, size - bad - new)
        duplicate -= same
        item.outcome.written, item.outcome.duplicate, item.outcome.quarantined = new, same, bad


def device_records_store(
    *, device: Device, records: Iterable[Record], now: datetime | None = None
) -> DeviceOutcome:
    """Validate and store what ``device`` sent, alone; committed when this returns.

    As ``device_items_store`` for one item (idempotent, same locks).
    """
    return device_items_store([device_records_check(device=device, records=records, now=now)])[0]
