"""The MQTT broker's accounts: one login per OwnTracks (MQTT) device, none shared.

Mosquitto reads who may connect from a password file and what each may publish
from an ACL file. Both are written here from the Devices table, whole, each
time a device is made or revoked, and the broker is then told to reload them
(SIGHUP, to the pid in settings.MQTT_BROKER_PIDFILE; under compose the broker's
own script reloads when the files change, scripts/mosquitto.sh).

A device logs in as ``<username>/<device name>`` (unique: neither a Django
username nor a device name holds a "/") with its credential as the password,
and may publish only under ``owntracks/<username>/<device name>``. The
subscriber has its own login that may only read ``owntracks/#``.
"""

from __future__ import annotations

import base64
import errno
import fcntl
import hashlib
import os
import secrets
import signal
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

from apps.core.db.context import system_context
from apps.stream.models import Device

TOPIC_ROOT = "owntracks"
# Mosquitto 2.0's own default for `mosquitto_passwd` (PBKDF2-SHA512, "$7$").
PBKDF2_ITERATIONS = 101
PASSWORD_FILE = "passwd"
ACL_FILE = "acl"


def broker_password_hash(password: str) -> str:
    """The password as mosquitto's password file holds it (``$7$`` PBKDF2-SHA512)."""
    salt = secrets.token_bytes(12)
    digest = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, PBKDF2_ITERATIONS)
    salt_text, digest_text = base64.b64encode(salt).decode(), base64.b64encode(digest).decode()
    return f"$7${PBKDF2_ITERATIONS}${salt_text}${digest_text}"


def broker_username(*, username: str, device_name: str) -> str:
    return f"{username}/{device_name}"


def device_topic(*, username: str, device_name: str) -> str:
    return f"{TOPIC_ROOT}/{username}/{device_name}"


@dataclass(frozen=True, slots=True)
class TopicDevice:
    """Whose device a topic names: ``owntracks/<username>/<device>[/...]``."""

    username: str
    device_name: str


def topic_device(topic: str) -> TopicDevice | None:
    # OwnTracks' default base topic is owntracks/%u/%d, which with our login
    # gives owntracks/<user>/<device>/<DeviceID>, and events go under /event:
    # the first two levels name the device, the payload's _type says what it is.
    parts = topic.split("/")
    if len(parts) < 3 or parts[0] != TOPIC_ROOT or not parts[1] or not parts[2]:
        return None
    return TopicDevice(username=parts[1], device_name=parts[2])


def _acl_line_safe(value: str) -> bool:
    # One login per line; a wildcard in a username would widen its own ACL.
    return not any(char.isspace() or char in "+#:" for char in value)


def broker_auth_files() -> tuple[str, str]:
    """The password file and the ACL file, as text, from the active MQTT devices."""
    passwords = [
        f"{settings.MQTT_SUBSCRIBER_USERNAME}:"
        f"{broker_password_hash(settings.MQTT_SUBSCRIBER_PASSWORD)}"
    ]
    acl = [f"user {settings.MQTT_SUBSCRIBER_USERNAME}", f"topic read {TOPIC_ROOT}/#", ""]
    with system_context():  # every user's devices: the broker serves them all
        devices = list(
            Device.objects.filter(
                kind=Device.Kind.OWNTRACKS_MQTT, revoked_at__isnull=True, user__is_active=True
            )
            .exclude(broker_password_hash="")
            .select_related("user")
            .order_by("pk")
        )
    for device in devices:
        username = device.user.get_username()
        if not (_acl_line_safe(username) and _acl_line_safe(device.name)):
            continue
        login = broker_username(username=username, device_name=device.name)
        topic = device_topic(username=username, device_name=device.name)
        passwords.append(f"{login}:{device.broker_password_hash}")
        acl += [f"user {login}", f"topic write {topic}", f"topic write {topic}/#", ""]
    return "\n".join(passwords) + "\n", "\n".join(acl)


def _replace(path: Path, text: str) -> None:
    temporary = path.with_name(f".{path.name}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as file:
        file.write(text)
    os.replace(temporary, path)  # the broker never reads half a file


def broker_reload() -> bool:
    """Tell the local broker to reread its files; False when none runs here."""
    try:
        pid = int(Path(settings.MQTT_BROKER_PIDFILE).read_text().strip())
        os.kill(pid, signal.SIGHUP)
    except (OSError, ValueError) as exc:
        if isinstance(exc, OSError) and exc.errno not in (errno.ENOENT, errno.ESRCH):
            raise
        return False
    return True


def broker_auth_write() -> Path:
    """Write the broker's password and ACL files from the Devices table, then reload it.

    Idempotent. Writers are serialised by a lock file, and each reads the table
    after taking it, so the last writer wins with the newest committed state.
    """
    directory = Path(settings.MQTT_AUTH_DIR)
    directory.mkdir(parents=True, exist_ok=True)
    with open(directory / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        passwords, acl = broker_auth_files()
        _replace(directory / PASSWORD_FILE, passwords)
        _replace(directory / ACL_FILE, acl)
        broker_reload()
    return directory
