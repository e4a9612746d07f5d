"""GET /api/metrics/: one health metric as a series of the user's days or hours. Thin."""

from __future__ import annotations

import re

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.decorators import api_view
from rest_framework.request import Request
from rest_framework.response import Response

from apps.analytics.api import _date, _user
from apps.analytics.filters import FilterError
from apps.core.api_errors import api_error
from apps.lake.metrics import BUCKETS, MetricError, metric_series, preferred_stream

_NAME = re.compile(r"[a-z][a-z0-9_]{0,63}")


@extend_schema(
    parameters=[
        OpenApiParameter(
            "metric", str, required=True, description="steps, distance, heart_rate, ..."
        ),
        OpenApiParameter("start", str, description="first day of the user's zone, YYYY-MM-DD"),
        OpenApiParameter("end", str, description="last day (inclusive), YYYY-MM-DD"),
        OpenApiParameter("bucket", str, enum=list(BUCKETS), description="default day"),
        OpenApiParameter("stream", str, description="one stream by name (default: the preferred)"),
    ],
    responses={200: None, 400: None},
)
@api_view(["GET"])
def metrics(request: Request) -> Response:
    """Buckets of one stream of a metric: the sum (steps, distance, ...) or mean (heart
    rate, weight), with min, max and the number of measurements. Buckets start at the
    user's midnights (hours: ISO 8601 with offset)."""
    params = request.query_params
    metric = params.get("metric", "")
    if not _NAME.fullmatch(metric):
        return api_error("metric: a metric name such as steps, distance or heart_rate")
    stream = params.get("stream") or None
    if stream is not None and (len(stream) > 255 or "\x00" in stream):
        return api_error("stream: not a stream name")
    try:
        start, end = _date(params.get("start"), "start"), _date(params.get("end"), "end")
        if start and end and end < start:
            raise FilterError("end must not be before start")
        user_id = _user(request).pk
        rows = metric_series(
            user_id=user_id,
            metric=metric,
            start=start,
            end=end,
            bucket=params.get("bucket", "day"),
            stream=stream,
        )
    except (FilterError, MetricError) as exc:
        return api_error(str(exc))
    for row in rows:
        row["bucket"] = row["bucket"].isoformat()
    return Response(
        {
            "metric": metric,
            "stream": stream or preferred_stream(user_id=user_id, metric=metric),
            "start": start,
            "end": end,
            "bucket": params.get("bucket", "day"),
            "results": rows,
        }
    )
