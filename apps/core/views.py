from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache

from apps.core.health import backup_check, readiness
from apps.lake.selectors import lake_overview


@never_cache
def health_live(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


@never_cache
def health_ready(request: HttpRequest) -> JsonResponse:
    checks = readiness()
    failed = sorted(name for name, state in checks.items() if state != "ok")
    status = 200 if not failed else 503
    # Non-fatal: reported beside the checks, never part of "failed" or the status code.
    backup = backup_check()
    return JsonResponse(
        {
            "status": "ok" if not failed else "fail",
            "failed": failed,
            "checks": checks,
            "backup": backup,
            "warnings": ["backup"] if backup["status"] != "ok" else [],
        },
        status=status,
    )


@login_required
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "core/home.html", lake_overview(request.user))
