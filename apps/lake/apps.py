from django.apps import AppConfig


class LakeConfig(AppConfig):
    name = "apps.lake"
    label = "lake"
    verbose_name = "Lake (Takeout imports)"

    def ready(self) -> None:
        from apps.core.feed import register_message_types

        register_message_types("import.progress", "import.finished", "records.stored")
