"""The settings page (the time zone of the user's days, mask on screen) and the browser's
zone report. Thin."""

from __future__ import annotations

import zoneinfo

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from apps.core.api_errors import json_error
from apps.core.timezones import TimeZoneError, set_zone, zone_of
from apps.core.user_settings import mask_on_screen, mask_on_screen_set


def _user_id(request: HttpRequest) -> int:
    user = request.user
    assert isinstance(user, User)  # login_required
    return user.pk


@login_required
def settings_page(request: HttpRequest) -> HttpResponse:
    error = ""
    if request.method == "POST" and request.POST.get("form") == "mask-on-screen":
        on = request.POST.get("mask_on_screen") == "on"
        mask_on_screen_set(user_id=_user_id(request), on=on)
        messages.success(
            request,
            "Mask on screen is on: pages mask every personal value."
            if on
            else "Mask on screen is off: pages show your values, high-risk ones masked.",
        )
        return redirect("settings")
    if request.method == "POST":
        try:
            set_zone(user_id=_user_id(request), name=request.POST.get("time_zone", ""), chosen=True)
        except TimeZoneError as exc:
            error = str(exc)
        else:
            messages.success(request, "Time zone saved; your daily series are being recomputed.")
            return redirect("settings")
    return render(
        request,
        "core/settings.html",
        {
            "nav": "settings",
            "error": error,
            "current_zone": zone_of(_user_id(request)).key,
            "mask_on_screen": mask_on_screen(user_id=_user_id(request)),
            "zones": sorted(zoneinfo.available_timezones()),
        },
        status=400 if error else 200,
    )


@login_required
@require_POST
def time_zone_detected(request: HttpRequest) -> JsonResponse:
    """The browser's zone (Intl), sent once after sign-in; never overrides a chosen zone."""
    try:
        stored = set_zone(
            user_id=_user_id(request), name=request.POST.get("time_zone", ""), chosen=False
        )
    except TimeZoneError as exc:
        return json_error(str(exc))
    return JsonResponse({"time_zone": zone_of(_user_id(request)).key, "stored": stored})
