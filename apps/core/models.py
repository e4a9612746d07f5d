"""Per-user settings that are not about one app's data (the time zone of the user's days,
masking PII on screen)."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class UserSettings(models.Model):
    """One row per user; absent until the browser reports a zone or the user saves a
    setting (``time_zone`` stays "" until a zone is known)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="datapunk_settings"
    )
    # An IANA name ("Asia/Kolkata"); validated by apps/core/timezones.py before it is saved.
    time_zone = models.CharField(max_length=64)
    # False while the zone is only what the browser reported at sign-in: the browser may
    # update it again; once the user picks one on the settings page, only they change it.
    time_zone_chosen = models.BooleanField(default=False)
    # "Mask on screen" (for sharing one's screen): the pages mask every PII finding, as
    # the API does, instead of showing the owner their own values marked. Off by default:
    # the pages are the owner reading their own data (apps/privacy/pii/on_screen.py).
    mask_on_screen = models.BooleanField(default=False)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"settings of user {self.user_id}: {self.time_zone}"
