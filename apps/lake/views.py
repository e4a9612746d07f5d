from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from apps.lake.selectors import import_summary_by_product, imports_of


@login_required
def import_list(request: HttpRequest) -> HttpResponse:
    return render(request, "lake/import_list.html", {"imports": imports_of(request.user)[:50]})


@login_required
def import_detail(request: HttpRequest, pk: int) -> HttpResponse:
    run = get_object_or_404(imports_of(request.user), pk=pk)
    return render(
        request,
        "lake/import_detail.html",
        {
            "run": run,
            "summary": import_summary_by_product(run),
            "failed": run.entries.filter(status="failed").order_by("path")[:100],
        },
    )
