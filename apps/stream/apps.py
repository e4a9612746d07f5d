from django.apps import AppConfig


class StreamConfig(AppConfig):
    name = "apps.stream"
    label = "stream"

    def ready(self) -> None:
        from apps.core.feed import register_message_types

        # apps/stream/devices: a phone's new fixes, for the live map.
        register_message_types("location.stored")
