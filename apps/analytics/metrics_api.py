"""GET /api/metrics/: one health metric as a series of the user's days or hours. Thin."""

from __future__ import annotations

import datetime as dt
import re

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.decorators import api_view
from rest_framework.request import Request
from rest_framework.response import Response

from apps.analytics.api import _date, _user
from apps.analytics.filters import FilterError
from apps.analytics.timeline import Cursor
from apps.core.api_errors import api_error
from apps.lake.metrics import (
    BUCKETS,
    MAX_MEASUREMENTS_PAGE,
    MetricError,
    metric_measurements,
    metric_series,
    preferred_stream,
)

# Any stored metric name, all lower case: Datapunk's ("steps"), a Fit type
# ("com.google.hydration") or a CSV header Datapunk does not map ("high latitude").
_NAME = re.compile(r"[^\x00-\x1fA-Z]{1,64}")


def _metric_params(params) -> tuple[str, str | None, dt.date | None, dt.date | None]:
    """The parameters both endpoints take: metric, stream (None: the preferred), the
    user's first and last day; FilterError (a 400) for any that is off."""
    metric = params.get("metric", "")
    if not _NAME.fullmatch(metric):
        raise FilterError("metric: a metric name such as steps, distance or heart_rate")
    stream = params.get("stream") or None
    if stream is not None and (len(stream) > 255 or "\x00" in stream):
        raise FilterError("stream: not a stream name")
    start, end = _date(params.get("start"), "start"), _date(params.get("end"), "end")
    if start and end and end < start:
        raise FilterError("end must not be before start")
    return metric, stream, start, end


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
    rate, weight), with min, max and the number of measurements, and for a bucket of one
    measurement its number as the source wrote it (``text``). Buckets start at the
    user's midnights (hours: ISO 8601 with offset)."""
    params = request.query_params
    try:
        metric, stream, start, end = _metric_params(params)
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


@extend_schema(
    parameters=[
        OpenApiParameter("metric", str, required=True, description="steps, heart_rate, ..."),
        OpenApiParameter("start", str, description="first day of the user's zone, YYYY-MM-DD"),
        OpenApiParameter("end", str, description="last day (inclusive), YYYY-MM-DD"),
        OpenApiParameter("stream", str, description="one stream by name (default: the preferred)"),
        OpenApiParameter("limit", int, description=f"1-{MAX_MEASUREMENTS_PAGE}, default 1000"),
        OpenApiParameter("cursor", str, description="next_cursor of the previous page"),
    ],
    responses={200: None, 400: None},
)
@api_view(["GET"])
def measurements(request: Request) -> Response:
    """The measurements of one stream of a metric, oldest first: start, end (ISO 8601
    with offset), ``value`` (the double sums use) and ``text`` (the number exactly as
    the export wrote it, e.g. "0.40129898838885744"; null for a computed one)."""
    params = request.query_params
    try:
        metric, stream, start, end = _metric_params(params)
        raw_limit = params.get("limit") or "1000"
        # isascii: str.isdigit() says yes to "²", which int() refuses (a 500, not a 400).
        if not (raw_limit.isascii() and raw_limit.isdigit()) or not (
            1 <= int(raw_limit) <= MAX_MEASUREMENTS_PAGE
        ):
            raise FilterError(f"limit: a number from 1 to {MAX_MEASUREMENTS_PAGE}")
        limit = int(raw_limit)
        token = params.get("cursor")
        after = Cursor.decode(token) if token else None
        user_id = _user(request).pk
        stream = stream or preferred_stream(user_id=user_id, metric=metric)
        rows = metric_measurements(
            user_id=user_id,
            metric=metric,
            start=start,
            end=end,
            stream=stream,
            after=(after.occurred_at, after.id) if after else None,
            limit=limit,
        )
    except (FilterError, MetricError) as exc:
        return api_error(str(exc))
    next_cursor = (
        Cursor(occurred_at=rows[-1]["start"], id=rows[-1]["id"]).encode()
        if len(rows) == limit
        else None
    )
    for row in rows:
        row["start"], row["end"] = row["start"].isoformat(), row["end"].isoformat()
    return Response(
        {"metric": metric, "stream": stream, "results": rows, "next_cursor": next_cursor}
    )
