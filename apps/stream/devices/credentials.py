"""Which device a credential is, remembered in the process.

A phone sends its credential with every fix; looking it up each time was a
system context (three round trips) and a query per request. A credential's
device never changes (the hash is set when the device is made), so what is
remembered here is only *which* device it is; whether that device may still
send is checked where its fixes are stored, in the storing transaction
(services.device_items_store: one query per group, so a device revoked in
another process is refused from its revocation's commit on). Revoking in this
process also forgets the credential at once (apps/stream/remembered.py).

Keyed by the credential's SHA-256 (what the table holds), never the credential.
"""

from __future__ import annotations

from apps.stream.models import Device
from apps.stream.remembered import Remembered

# Enough for every phone of a large household server; the oldest is dropped.
CACHE_MAX_DEVICES = 10_000
# Looked up again after this long: a renamed or deactivated user shows up here
# (the storing transaction refuses a deactivated one at once anyway).
CACHE_SECONDS = 300.0

_known: Remembered[Device] = Remembered(max_entries=CACHE_MAX_DEVICES, seconds=CACHE_SECONDS)


def known_device(digest: str, *, now: float | None = None) -> Device | None:
    """The device of a credential's hash, if it was verified here lately."""
    return _known.get(digest, now=now)


def device_remember(digest: str, device: Device, *, now: float | None = None) -> None:
    _known.put(digest, device, now=now)


def device_forget(digest: str) -> None:
    """Forget a credential (its device was revoked, or refused when storing)."""
    _known.forget(digest)
