from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache

from apps.core.health import readiness


@never_cache
def health_live(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


@never_cache
def health_ready(request: HttpRequest) -> JsonResponse:
    checks = readiness()
    failed = sorted(name for name, state in checks.items() if state != "ok")
    status = 200 if not failed else 503
    return JsonResponse(
        {"status": "ok" if not failed else "fail", "failed": failed, "checks": checks},
        status=status,
    )
