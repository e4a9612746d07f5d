"""Write the MQTT broker's password and ACL files from the Devices table, and reload it."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from apps.stream.devices.broker import broker_auth_write


class Command(BaseCommand):
    help = "Write the broker's logins (one per MQTT device, one for the subscriber)."

    def handle(self, *args: Any, **options: Any) -> None:
        directory = broker_auth_write()
        if options["verbosity"] >= 1:
            self.stderr.write(f"[mqtt] wrote {directory}/passwd and {directory}/acl")
