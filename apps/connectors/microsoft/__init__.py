"""Microsoft Graph: calendar events (calendarView delta) and mail metadata (messages delta)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings

from apps.connectors.base import (
    ApiSession,
    Connector,
    PushContext,
    PushSubscription,
    SyncPage,
    mapped,
    parse_time,
)
from apps.lake.takeout.records import EventRecord
from apps.stream.outbound import ClientError

GRAPH = "https://graph.microsoft.com/v1.0"
# A calendarView delta reads a fixed window (Graph keeps it in the delta
# link): a year back and a year ahead of the day the query began. The query is
# begun afresh (a new window, read whole; what is stored already adds nothing)
# once its window is this old, so events further ahead keep arriving.
CALENDAR_WINDOW = timedelta(days=365)
CALENDAR_WINDOW_RENEW = timedelta(days=30)
# Graph's answers to a delta token it no longer knows: 410 Gone (calendar and
# mail: "SyncStateNotFound"), or these codes: the only way on is a full resync.
RESYNC_CODES = ("syncstatenotfound", "syncstateinvalid", "resyncrequired")
PAGE_SIZE = 50
# Change notifications (learn.microsoft.com/graph/api/resources/subscription):
# an Outlook event or message subscription lives at most 10,080 minutes (under
# 7 days); asked for a little less, renewed by the beat task two days ahead, so
# a day of failed renewals still leaves time.
SUBSCRIPTION_LIFETIME = timedelta(minutes=10080 - 30)
SUBSCRIPTION_RENEW_AHEAD = timedelta(days=2)
MAX_PAGES = 200
MAIL_FIELDS = (
    "subject,from,sender,toRecipients,ccRecipients,receivedDateTime,sentDateTime,"
    "internetMessageId,conversationId,hasAttachments,importance,isRead,categories,"
    "parentFolderId,webLink,flag"
)
# What changes while the item stays the same (read flags, etags, folders).
EVENT_COPY_FIELDS = ("@odata.etag", "changeKey", "lastModifiedDateTime")
MAIL_COPY_FIELDS = (
    "@odata.etag",
    "changeKey",
    "lastModifiedDateTime",
    "isRead",
    "flag",
    "categories",
    "parentFolderId",
)

# Graph names Windows time zones unless asked for UTC (the sync asks; items
# from elsewhere may not). The common ones, after CLDR's windowsZones.xml.
WINDOWS_ZONES = {
    "UTC": "UTC",
    "Coordinated Universal Time": "UTC",
    "GMT Standard Time": "Europe/London",
    "Greenwich Standard Time": "Atlantic/Reykjavik",
    "W. Europe Standard Time": "Europe/Berlin",
    "Romance Standard Time": "Europe/Paris",
    "Central Europe Standard Time": "Europe/Budapest",
    "Central European Standard Time": "Europe/Warsaw",
    "E. Europe Standard Time": "Europe/Chisinau",
    "FLE Standard Time": "Europe/Kiev",
    "GTB Standard Time": "Europe/Bucharest",
    "Russian Standard Time": "Europe/Moscow",
    "Eastern Standard Time": "America/New_York",
    "Central Standard Time": "America/Chicago",
    "Mountain Standard Time": "America/Denver",
    "US Mountain Standard Time": "America/Phoenix",
    "Pacific Standard Time": "America/Los_Angeles",
    "Alaskan Standard Time": "America/Anchorage",
    "Hawaiian Standard Time": "Pacific/Honolulu",
    "Atlantic Standard Time": "America/Halifax",
    "E. South America Standard Time": "America/Sao_Paulo",
    "India Standard Time": "Asia/Calcutta",
    "China Standard Time": "Asia/Shanghai",
    "Tokyo Standard Time": "Asia/Tokyo",
    "Korea Standard Time": "Asia/Seoul",
    "Singapore Standard Time": "Asia/Singapore",
    "AUS Eastern Standard Time": "Australia/Sydney",
    "New Zealand Standard Time": "Pacific/Auckland",
}


def graph_time(value: dict[str, Any] | None) -> datetime | None:
    """A Graph dateTimeTimeZone ({"dateTime": ..., "timeZone": ...}) as an aware datetime."""
    if not value or not value.get("dateTime"):
        return None
    moment = datetime.fromisoformat(value["dateTime"].replace("Z", "+00:00"))
    if moment.tzinfo is not None:
        return moment
    name = value.get("timeZone") or "UTC"
    try:
        zone = ZoneInfo(WINDOWS_ZONES.get(name, name))
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {name!r}") from None
    return moment.replace(tzinfo=zone)


def _removed(kind: str, item: dict[str, Any]) -> EventRecord:
    # Graph tells only that it is gone, not when: the moment we heard of it.
    return EventRecord(kind=kind, occurred_at=datetime.now(UTC), title=item["id"], data=item)


def event_record(item: dict[str, Any]) -> EventRecord:
    """One event of GET /me/events or /me/calendarView/delta."""
    if "@removed" in item:
        return _removed("calendar.event_removed", item)
    location = (item.get("location") or {}).get("displayName") or ""
    return EventRecord(
        kind="calendar.event",
        occurred_at=graph_time(item["start"]),
        ended_at=graph_time(item.get("end")),
        title=item.get("subject") or "",
        text=location or item.get("bodyPreview") or "",
        url=item.get("webLink") or "",
        data=item,
        copy_fields=EVENT_COPY_FIELDS,
    )


def message_record(item: dict[str, Any]) -> EventRecord:
    """One message (metadata only) of GET /me/mailFolders/inbox/messages/delta."""
    if "@removed" in item:
        return _removed("outlook.message_removed", item)
    sender = ((item.get("from") or {}).get("emailAddress")) or {}
    who = sender.get("name") or ""
    if sender.get("address"):
        who = f"{who} <{sender['address']}>".strip()
    return EventRecord(
        kind="outlook.message",
        occurred_at=parse_time(item["receivedDateTime"]),
        title=item.get("subject") or "",
        text=who,
        url=item.get("webLink") or "",
        data=item,
        copy_fields=MAIL_COPY_FIELDS,
    )


def now_utc() -> datetime:
    return datetime.now(UTC)


def needs_resync(error: ClientError) -> bool:
    """Graph says the delta token is gone and the resource must be read afresh."""
    body = error.body.casefold()
    return error.status == 410 or any(code in body for code in RESYNC_CODES)


class MicrosoftConnector(Connector):
    provider = "microsoft"
    label = "Microsoft (Outlook calendar and mail)"
    source = "microsoft"
    # Mail.ReadBasic: headers without bodies, all a timeline needs.
    scopes = ("User.Read", "Calendars.Read", "Mail.ReadBasic", "offline_access")
    token_url = "https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token"
    app_console = "https://entra.microsoft.com/#view/Microsoft_AAD_RegisteredApps"
    export_url = "https://account.microsoft.com/privacy"
    export_holds = (
        "the privacy dashboard's “Download your data” (Bing searches, Edge browsing, "
        "location and app activity); calendar and mail the API gives in full"
    )
    export_read = False

    push_label = "Microsoft Graph change notifications"
    push_topics = ("me/events", "me/mailFolders('Inbox')/messages")
    push_renew_ahead = SUBSCRIPTION_RENEW_AHEAD

    def push_subscribe(
        self, push: PushContext, *, topic: str, callback: str, secret: str
    ) -> PushSubscription:
        """POST /subscriptions; Graph validates the callback (validationToken)
        before it answers 201, so the subscription is enabled once created."""
        asked = now_utc() + SUBSCRIPTION_LIFETIME
        body = push.api.call(
            "POST",
            f"{GRAPH}/subscriptions",
            json={
                "changeType": "created,updated,deleted",
                "notificationUrl": callback,
                # The same view answers both: lifecycle notifications carry lifecycleEvent.
                "lifecycleNotificationUrl": callback,
                "resource": topic,
                "expirationDateTime": asked.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "clientState": secret,
                "latestSupportedTlsVersion": "v1_2",
            },
        )
        return PushSubscription(
            external_id=body["id"],
            topic=topic,
            status="enabled",
            expires_at=parse_time(body.get("expirationDateTime")) or asked,
        )

    def push_renew(self, push: PushContext, *, external_id: str) -> datetime | None:
        asked = now_utc() + SUBSCRIPTION_LIFETIME
        body = push.api.call(
            "PATCH",
            f"{GRAPH}/subscriptions/{external_id}",
            json={"expirationDateTime": asked.strftime("%Y-%m-%dT%H:%M:%SZ")},
        )
        return parse_time((body or {}).get("expirationDateTime")) or asked

    def push_unsubscribe(self, push: PushContext, *, external_id: str) -> None:
        push.api.call("DELETE", f"{GRAPH}/subscriptions/{external_id}")

    def token_endpoint(self) -> str:
        own = getattr(settings, "SOCIALACCOUNT_PROVIDERS", {}).get("microsoft", {})
        return self.token_url.format(tenant=own.get("TENANT", "common"))

    def refresh_fields(self) -> dict[str, str]:
        return {"scope": " ".join(self.scopes)}

    def pages(self, api: ApiSession, cursor: dict[str, Any]) -> Iterator[SyncPage]:
        now = now_utc()
        began = parse_time(cursor.get("calendar_window_from"))
        if began is None or now - began >= CALENDAR_WINDOW_RENEW:
            # A cursor of before the window was recorded is renewed too.
            cursor.pop("calendar_link", None)
            cursor["calendar_window_from"] = now.strftime("%Y-%m-%dT%H:%M:%SZ")
        began = parse_time(cursor["calendar_window_from"]) or now
        start = (began - CALENDAR_WINDOW).strftime("%Y-%m-%dT%H:%M:%SZ")
        end = (began + CALENDAR_WINDOW).strftime("%Y-%m-%dT%H:%M:%SZ")
        yield from self._delta(
            api,
            cursor,
            key="calendar_link",
            first=f"{GRAPH}/me/calendarView/delta?startDateTime={start}&endDateTime={end}",
            mapper=event_record,
            prefer=f'odata.maxpagesize={PAGE_SIZE}, outlook.timezone="UTC"',
        )
        yield from self._delta(
            api,
            cursor,
            key="mail_link",
            first=f"{GRAPH}/me/mailFolders/inbox/messages/delta?$select={MAIL_FIELDS}",
            mapper=message_record,
            prefer=f"odata.maxpagesize={PAGE_SIZE}",
        )

    def _delta(
        self,
        api: ApiSession,
        cursor: dict[str, Any],
        *,
        key: str,
        first: str,
        mapper: Any,
        prefer: str,
    ) -> Iterator[SyncPage]:
        # Graph's delta query: follow @odata.nextLink to the last page, which
        # carries @odata.deltaLink, the start of the next sync. Either link is
        # stored after each page, so a stopped sync resumes at its page.
        url = cursor.get(key) or first
        for _ in range(MAX_PAGES):
            try:
                body = api.get(url, headers={"Prefer": prefer})
            except ClientError as exc:
                if url == first or not needs_resync(exc):
                    raise
                # The delta token expired: read the whole resource again from
                # the first query (what is stored already adds nothing).
                cursor.pop(key, None)
                yield SyncPage(
                    [],
                    dict(cursor),
                    notes=[
                        f"Microsoft Graph no longer knew where the last {key.split('_')[0]} "
                        f"sync stopped ({exc.status}): it was read again in full"
                    ],
                )
                url = first
                continue
            next_link = body.get("@odata.nextLink")
            cursor[key] = next_link or body.get("@odata.deltaLink") or url
            yield SyncPage(mapped(body.get("value"), mapper), dict(cursor))
            if not next_link:
                break
            url = next_link
