import hmac
import logging

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django_prometheus.exports import ExportToDjangoView

from apps.core.health import readiness
from apps.lake.selectors import lake_overview

logger = logging.getLogger(__name__)


@never_cache
def health_live(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


@never_cache
def health_ready(request: HttpRequest) -> JsonResponse:
    """Names and states only: why a check failed (hosts, users, paths) goes to the log."""
    checks = readiness()
    failed = sorted(name for name, state in checks.items() if state != "ok")
    for name in failed:
        logger.warning("readiness check %s failed: %s", name, checks[name])
    return JsonResponse(
        {
            "status": "ok" if not failed else "fail",
            "failed": failed,
            "checks": {name: "ok" if state == "ok" else "fail" for name, state in checks.items()},
        },
        status=200 if not failed else 503,
    )


@never_cache
def metrics(request: HttpRequest) -> HttpResponse:
    """Prometheus metrics, for staff or a scraper with DATAPUNK_METRICS_TOKEN."""
    token = settings.METRICS_TOKEN
    offered = request.headers.get("Authorization", "")
    if (request.user.is_authenticated and request.user.is_staff) or (
        token and hmac.compare_digest(offered.encode(), f"Bearer {token}".encode())
    ):
        return ExportToDjangoView(request)
    return HttpResponse(
        "metrics are for staff or a scraper sending 'Authorization: Bearer "
        "<DATAPUNK_METRICS_TOKEN>'\n",
        status=403,
        content_type="text/plain",
    )


@login_required
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "core/home.html", lake_overview(request.user))
