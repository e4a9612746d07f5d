from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from apps.lake.quarantine_display import quarantine_for_display
from apps.lake.selectors import (
    import_summary_by_product,
    imports_of,
    quarantine_of,
    skipped_entries_of,
)

# Long lists are cut on the page; the API pages through all of them.
PAGE_LIST_LIMIT = 100


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
            "failed": run.entries.filter(status="failed").order_by("path")[:PAGE_LIST_LIMIT],
            # The page never waits for the PII model (a running import's page is
            # followed over the feed, and a slow render misses its messages).
            "quarantine": quarantine_for_display(
                quarantine_of(run)[:PAGE_LIST_LIMIT], wait_for_model=False
            ),
            "skipped": skipped_entries_of(run)[:PAGE_LIST_LIMIT],
            "list_limit": PAGE_LIST_LIMIT,
        },
    )
