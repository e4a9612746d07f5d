"""Semantic search API: GET /api/search/?q=...&source=&kind=&start=&end=&limit=. Thin."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.analytics.search import (
    SearchParamError,
    index_status,
    search_request_from_params,
    semantic_search,
)

_PARAMETERS = [
    OpenApiParameter("q", str, description="what you are looking for, in plain words"),
    OpenApiParameter("source", str, description="one or more sources, comma-separated"),
    OpenApiParameter("kind", str, description="one or more kinds; youtube.* for a prefix"),
    OpenApiParameter("start", str, description="from this date or ISO date-time (UTC)"),
    OpenApiParameter("end", str, description="until this date (inclusive) or date-time"),
    OpenApiParameter("limit", int, description="results, 1 to 50 (default 20)"),
]


class SearchView(APIView):
    """The signed-in user's events nearest in meaning to ``q``, best first.

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
            raise ValidationError({"detail": str(error)}) from None
        user_id = request.user.pk
        assert user_id is not None  # IsAuthenticated, the default permission
        hits = semantic_search(user_id=user_id, request=search)
        status = index_status(user_id=user_id)
        return Response(
            {
                "query": search.query,
                "results": [{**hit.event, "score": hit.score} for hit in hits],
                "indexing": {"embedded": status.embedded, "pending": status.pending},
            }
        )
