from django.apps import AppConfig


class LakeConfig(AppConfig):
    name = "apps.lake"
    label = "lake"
    verbose_name = "Lake (Takeout imports)"
