"""Google: YouTube activity (what the Data API still lists), Fit sessions and heart rate
(measurements of lake_healthmetric, apps/lake/metrics.py).

The YouTube Data API has not listed watch history since 2016: activities.list
(mine=true) gives the user's own uploads, likes, playlist additions and
subscriptions. Watch history comes with Takeout.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from apps.connectors.base import ApiSession, Connector, SyncPage, cursor_time, mapped, parse_time
from apps.lake.takeout.records import EventRecord, MetricRecord

API = "https://www.googleapis.com"
YOUTUBE_PAGE = 50
MAX_PAGES = 200
# The merged heart-rate stream Google Fit derives from every source.
HEART_RATE_SOURCE = "derived:com.google.heart_rate.bpm:com.google.android.gms:merge_heart_rate_bpm"
# Its name as a stream of the health-metric hypertable: Takeout's All Data file name.
HEART_RATE_STREAM = HEART_RATE_SOURCE.replace(":", "_")
# How far back the first sync reads heart rate (Fit keeps more; it is a lot of points).
HEART_RATE_BACKFILL = timedelta(days=30)
HEART_RATE_PAGE = 1000
# A watch uploads what it measured when it next reaches the phone, hours or
# days later: each sync reads again this much before where the last one ended
# (the points already stored are the same rows again).
HEART_RATE_OVERLAP = timedelta(days=2)


def _millis(value: Any) -> datetime:
    return datetime.fromtimestamp(int(value) / 1000, tz=UTC)


def _nanos(value: Any) -> datetime:
    seconds, nanos = divmod(int(value), 1_000_000_000)
    return datetime.fromtimestamp(seconds, tz=UTC).replace(microsecond=nanos // 1000)


def _video_id(details: dict[str, Any]) -> str:
    for part in details.values():
        if isinstance(part, dict):
            resource = part.get("resourceId") or part
            if isinstance(resource, dict) and resource.get("videoId"):
                return str(resource["videoId"])
    return ""


def youtube_activity_record(item: dict[str, Any]) -> EventRecord:
    """One item of GET youtube/v3/activities (part=snippet,contentDetails)."""
    snippet = item["snippet"]
    video = _video_id(item.get("contentDetails") or {})
    return EventRecord(
        kind="youtube.activity",
        occurred_at=parse_time(snippet["publishedAt"]),
        title=snippet.get("title") or "",
        text=snippet.get("type") or "",
        url=f"https://www.youtube.com/watch?v={video}" if video else "",
        data=item,
        copy_fields=("etag", "snippet.thumbnails"),
    )


def fit_session_record(item: dict[str, Any], *, deleted: bool = False) -> EventRecord:
    """One session of GET fitness/v1/users/me/sessions."""
    return EventRecord(
        kind="fit.session_deleted" if deleted else "fit.session",
        occurred_at=_millis(item["startTimeMillis"]),
        ended_at=_millis(item["endTimeMillis"]) if item.get("endTimeMillis") else None,
        title=item.get("name") or f"activity {item.get('activityType', '?')}",
        text=item.get("description") or "",
        data=item,
        copy_fields=("modifiedTimeMillis",),
    )


def heart_rate_record(point: dict[str, Any]) -> MetricRecord:
    """One point of a com.google.heart_rate.bpm dataset: a measurement of the merged
    stream in the health-metric hypertable (the stream Takeout's All Data file of the
    same name holds, so a sync and an import of the same beats store them once)."""
    bpm = point["value"][0]["fpVal"]
    if not isinstance(bpm, int | float) or isinstance(bpm, bool):
        raise ValueError(f"heart rate is not a number: {bpm!r}")
    start = _nanos(point["startTimeNanos"])
    end = _nanos(point["endTimeNanos"]) if point.get("endTimeNanos") else start
    return MetricRecord("heart_rate", start, end, float(bpm), "bpm", HEART_RATE_STREAM)


class GoogleConnector(Connector):
    provider = "google"
    label = "Google (YouTube, Fit)"
    source = "google"
    scopes = (
        "profile",
        "email",
        "https://www.googleapis.com/auth/youtube.readonly",
        "https://www.googleapis.com/auth/fitness.activity.read",
        "https://www.googleapis.com/auth/fitness.heart_rate.read",
    )
    # Without these Google gives no refresh token (or only on the first consent).
    auth_params = {"access_type": "offline", "prompt": "consent"}
    token_url = "https://oauth2.googleapis.com/token"
    revoke_url = "https://oauth2.googleapis.com/revoke"
    app_console = "https://console.cloud.google.com/apis/credentials"
    export_url = "https://takeout.google.com/"
    export_holds = (
        "Google Takeout: YouTube watch and search history, Fit's full history, location "
        "history and more; the API lists no watch history and Fit takes no new projects"
    )

    def pages(self, api: ApiSession, cursor: dict[str, Any]) -> Iterator[SyncPage]:
        yield from self._youtube(api, cursor)
        yield from self._fit_sessions(api, cursor)
        yield from self._heart_rate(api, cursor)

    def _youtube(self, api: ApiSession, cursor: dict[str, Any]) -> Iterator[SyncPage]:
        # publishedAfter is the cursor; pages of one walk share it, and it
        # moves to the newest activity once the walk is complete.
        since = cursor.get("youtube_after")
        newest = cursor_time(since)
        token: str | None = None
        for _ in range(MAX_PAGES):
            params: dict[str, Any] = {
                "part": "snippet,contentDetails",
                "mine": "true",
                "maxResults": YOUTUBE_PAGE,
            }
            if since:
                params["publishedAfter"] = since
            if token:
                params["pageToken"] = token
            body = api.get(f"{API}/youtube/v3/activities", params)
            items = body.get("items") or []
            for item in items:
                moment = cursor_time((item.get("snippet") or {}).get("publishedAt"))
                if moment and (newest is None or moment > newest):
                    newest = moment
            token = body.get("nextPageToken")
            if not token and newest:
                cursor["youtube_after"] = newest.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
            yield SyncPage(mapped(items, youtube_activity_record), dict(cursor))
            if not token or not items:
                break

    def _fit_sessions(self, api: ApiSession, cursor: dict[str, Any]) -> Iterator[SyncPage]:
        # Without start and end times the sessions endpoint is a sync feed:
        # nextPageToken is where the next call (and the next sync) continues.
        for _ in range(MAX_PAGES):
            # includeDeleted: deletions come in deletedSession only when asked for
            # (and only without startTime/endTime, which this feed never sends).
            params: dict[str, Any] = {"includeDeleted": "true"}
            if cursor.get("fit_sessions_token"):
                params["pageToken"] = cursor["fit_sessions_token"]
            body = api.get(f"{API}/fitness/v1/users/me/sessions", params)
            sessions = body.get("session") or []
            deleted = body.get("deletedSession") or []
            if body.get("nextPageToken"):
                cursor["fit_sessions_token"] = body["nextPageToken"]
            records = mapped(sessions, fit_session_record) + mapped(
                deleted, lambda item: fit_session_record(item, deleted=True)
            )
            yield SyncPage(records, dict(cursor))
            if not (sessions or deleted) or not body.get("nextPageToken"):
                break

    def _heart_rate(self, api: ApiSession, cursor: dict[str, Any]) -> Iterator[SyncPage]:
        now_ns = int(datetime.now(UTC).timestamp()) * 1_000_000_000
        backfill_ns = int((datetime.now(UTC) - HEART_RATE_BACKFILL).timestamp()) * 1_000_000_000
        until_ns = int(cursor.get("heart_rate_until_ns") or 0)
        overlap_ns = int(HEART_RATE_OVERLAP.total_seconds()) * 1_000_000_000
        start_ns = max(until_ns - overlap_ns, backfill_ns) if until_ns else backfill_ns
        url = f"{API}/fitness/v1/users/me/dataSources/{HEART_RATE_SOURCE}/datasets/{start_ns}-{now_ns}"
        token: str | None = None
        for _ in range(MAX_PAGES):
            params: dict[str, Any] = {"limit": HEART_RATE_PAGE}
            if token:
                params["pageToken"] = token
            body = api.get(url, params)
            token = body.get("nextPageToken")
            if not token:
                # The window is read: the next sync starts where it ended.
                cursor["heart_rate_until_ns"] = str(now_ns)
            yield SyncPage(mapped(body.get("point"), heart_rate_record), dict(cursor))
            if not token:
                break
