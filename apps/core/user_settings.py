"""The "mask on screen" switch of UserSettings (the time zone has apps/core/timezones.py)."""

from __future__ import annotations

from apps.core.models import UserSettings


def mask_on_screen(*, user_id: int) -> bool:
    """The user's "mask on screen" switch (off for a user who never saved settings)."""
    return bool(
        UserSettings.objects.filter(user_id=user_id)
        .values_list("mask_on_screen", flat=True)
        .first()
    )


def mask_on_screen_set(*, user_id: int, on: bool) -> None:
    """Turn "mask on screen" on or off. Idempotent. A row created here has no time zone
    yet (``time_zone=""``, see timezones.has_zone): the browser's report still fills it."""
    UserSettings.objects.update_or_create(user_id=user_id, defaults={"mask_on_screen": on})
