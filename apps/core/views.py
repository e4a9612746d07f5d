import hmac
import logging

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django_prometheus.exports import ExportToDjangoView

from apps.core.health import readiness, warning_checks

logger = logging.getLogger(__name__)


@never_cache
def health_live(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


def _is_operator(request: HttpRequest) -> bool:
    """Staff, or a scraper sending DATAPUNK_METRICS_TOKEN as a bearer token."""
    token = settings.METRICS_TOKEN
    offered = request.headers.get("Authorization", "")
    return bool(request.user.is_authenticated and request.user.is_staff) or bool(
        token and hmac.compare_digest(offered.encode(), f"Bearer {token}".encode())
    )


@never_cache
def health_ready(request: HttpRequest) -> JsonResponse:
    """Names and states only: why a check failed (hosts, users, paths) goes to the log.
    The backup's label, age and size are for operators (_is_operator) only."""
    checks = readiness()
    failed = sorted(name for name, state in checks.items() if state != "ok")
    for name in failed:
        logger.warning("readiness check %s failed: %s", name, checks[name])
    # Non-fatal (the backup's, apps/ops): reported beside the checks, never part of
    # "failed" or the status code. Their reasons (repository paths, pgBackRest's
    # words) go to the log like the others'; labels, ages, sizes to operators only.
    operator = _is_operator(request)
    reports: dict[str, object] = {}
    warnings = []
    for name, report in warning_checks().items():
        detail = report.pop("detail")
        if report["status"] != "ok":
            logger.warning("%s check failed: %s", name, detail)
            warnings.append(name)
        reports[name] = report if operator else {"status": report["status"]}
    return JsonResponse(
        {
            "status": "ok" if not failed else "fail",
            "failed": failed,
            "checks": {name: "ok" if state == "ok" else "fail" for name, state in checks.items()},
            **reports,
            "warnings": warnings,
        },
        status=200 if not failed else 503,
    )


@never_cache
def metrics(request: HttpRequest) -> HttpResponse:
    """Prometheus metrics, for staff or a scraper with DATAPUNK_METRICS_TOKEN."""
    if _is_operator(request):
        return ExportToDjangoView(request)
    return HttpResponse(
        "metrics are for staff or a scraper sending 'Authorization: Bearer "
        "<DATAPUNK_METRICS_TOKEN>'\n",
        status=403,
        content_type="text/plain",
    )
