"""Store what OwnTracks devices publish to the MQTT broker (apps/stream/devices/mqtt.py)."""

from __future__ import annotations

import gc
import signal
from typing import Any

from django.core.management.base import BaseCommand

from apps.stream.devices.broker import broker_auth_write
from apps.stream.devices.mqtt import Subscriber


class Command(BaseCommand):
    help = "Subscribe to owntracks/# (QoS 1, persistent session) and store each point."

    def handle(self, *args: Any, **options: Any) -> None:
        broker_auth_write()  # the broker knows the subscriber's login and every device's
        subscriber = Subscriber()
        for number in (signal.SIGTERM, signal.SIGINT):
            signal.signal(number, lambda *_: subscriber.stop_event.set())
        self.stderr.write(
            f"[mqtt] subscribing at {subscriber.address.host}:{subscriber.address.port}"
        )
        gc.freeze()  # Django's long-lived objects out of the collector's full passes (asgi.py)
        subscriber.run()
