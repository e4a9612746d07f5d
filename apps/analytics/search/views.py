"""The search page: a query box, the timeline's filters, results with time and kind."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from apps.analytics.search.hybrid import HybridResult, hybrid_search
from apps.analytics.search.selectors import (
    SearchParamError,
    index_status,
    search_facets,
    search_request_from_params,
)


@login_required
def search_page(request: HttpRequest) -> HttpResponse:
    user_id = request.user.pk
    assert user_id is not None  # login_required: a signed-in user
    error = ""
    found = HybridResult(hits=[], nearest=[])
    try:
        search = search_request_from_params(request.GET, user=request.user, require_query=False)
        found = hybrid_search(user_id=user_id, request=search, for_owner_page=True)
    except SearchParamError as problem:
        error = str(problem)
    sources, kinds = search_facets(user_id=user_id)
    return render(
        request,
        "analytics/search.html",
        {
            "query": request.GET.get("q", ""),
            "chosen": {
                name: request.GET.get(name, "") for name in ("source", "kind", "start", "end")
            },
            "error": error,
            "hits": found.hits,
            "nearest": found.nearest,
            "status": index_status(user_id=user_id),
            "sources": sources,
            "kinds": kinds,
        },
        status=400 if error else 200,
    )
