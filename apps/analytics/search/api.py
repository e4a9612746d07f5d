"""Semantic search API: GET /api/search/?q=...&source=&kind=&start=&end=&limit=. Thin."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.analytics.api import FILTER_PARAMETERS
from apps.analytics.search.hybrid import HybridHit, hybrid_search
from apps.analytics.search.selectors import (
    SearchParamError,
    index_status,
    search_request_from_params,
)
from apps.core.api_errors import bad_request

# The timeline's filters that search takes too (both read them with apps/analytics/filters.py).
_TIMELINE = {parameter.name: parameter for parameter in FILTER_PARAMETERS}
_PARAMETERS = [
    OpenApiParameter("q", str, description="what you are looking for, in plain words"),
    *(_TIMELINE[name] for name in ("source", "kind", "start", "end")),
    OpenApiParameter("limit", int, description="results, 1 to 50 (default 20)"),
]


class SearchView(APIView):
    """The signed-in user's events for ``q``, best first: full-text and meaning fused
    (apps/analytics/search/hybrid.py). ``results`` holds only matches (the words, or
    close enough in meaning); when there is none, ``nearest`` holds the closest few.

    ``indexing`` tells how many of the user's text events are embedded so far
    (a fresh import is embedded in the background).
    """

    @extend_schema(
        parameters=_PARAMETERS,
        responses=inline_serializer(
            "SearchResponse",
            {
                "query": serializers.CharField(),
                "results": serializers.ListField(child=serializers.DictField()),
                "nearest": serializers.ListField(child=serializers.DictField()),
                "indexing": serializers.DictField(),
            },
        ),
    )
    def get(self, request: Request) -> Response:
        try:
            search = search_request_from_params(
                request.query_params, user=request.user, require_query=True
            )
        except SearchParamError as error:
            raise bad_request(error) from None
        user_id = request.user.pk
        assert user_id is not None  # IsAuthenticated, the default permission
        found = hybrid_search(user_id=user_id, request=search)
        status = index_status(user_id=user_id)
        return Response(
            {
                "query": search.query,
                "results": [_hit(hit) for hit in found.hits],
                "nearest": [_hit(hit) for hit in found.nearest],
                "indexing": {"embedded": status.embedded, "pending": status.pending},
            }
        )


def _hit(hit: HybridHit) -> dict:
    return {**hit.event, "score": hit.score, "similarity": hit.similarity, "words": hit.words}
