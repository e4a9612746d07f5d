"""Microsoft identity platform v2 + Graph v1.0 as documented: tenant token
endpoint, /me, and delta queries (calendarView/delta, messages/delta) paged with
@odata.nextLink ($skiptoken) and ending with @odata.deltaLink ($deltatoken).

Change-notification subscriptions as learn.microsoft.com/graph/api/subscription-post-subscriptions
and /graph/change-notifications-delivery-webhooks describe them: POST
/subscriptions validates notificationUrl and lifecycleNotificationUrl (a POST
with ?validationToken=, answered 200 text/plain with the token within 10 s)
before it answers 201; an Outlook subscription lives at most 10,080 minutes;
PATCH renews, DELETE ends (204), an unknown id is 404. ``notify`` and
``lifecycle`` deliver the documented notification payloads.
"""

from __future__ import annotations

import copy
import re
import secrets
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

import requests

from tests.connectors.fakes.base import FakeProvider, Reply, Request

MAX_OUTLOOK_MINUTES = 10080
TENANT_ID = "84bd8158-6d4d-4958-8b9f-9d6445542f95"
NOT_FOUND = Reply(
    404, {"error": {"code": "ResourceNotFound", "message": "The object was not found."}}
)


def _bad_request(message: str) -> Reply:
    return Reply(400, {"error": {"code": "InvalidRequest", "message": message}})


START = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def _in_window(change: dict[str, Any], window: str) -> bool:
    """A calendarView delta lists the events starting in its window, and every removal."""
    if not window or "@removed" in change or "start" not in change:
        return True
    low, high = (datetime.fromisoformat(t.replace("Z", "+00:00")) for t in window.split("~"))
    start = datetime.fromisoformat(change["start"]["dateTime"][:19]).replace(tzinfo=UTC)
    return low <= start < high


class DeltaFeed:
    """A resource's changes in order; a delta token is a position in them."""

    def __init__(self) -> None:
        self.changes: list[dict[str, Any]] = []

    def add(self, item: dict[str, Any]) -> None:
        self.changes.append(copy.deepcopy(item))


class FakeGraph(FakeProvider):
    authorize_path = "/common/oauth2/v2.0/authorize"
    token_path = "/common/oauth2/v2.0/token"
    revoke_path = "/no-revocation"

    def __init__(self, *, events: int = 0, messages: int = 0) -> None:
        super().__init__()
        self.calendar, self.mail = DeltaFeed(), DeltaFeed()
        # Delta and skip tokens of an older generation are gone (410), as
        # Graph's are once it drops a sync state.
        self.generation = 0
        for _ in range(events):
            self.add_event()
        for _ in range(messages):
            self.add_message()
        self.subscriptions: dict[str, dict[str, Any]] = {}
        self.validations: list[dict[str, Any]] = []  # each handshake: url, token, answer
        self.route("GET", "/v1.0/me", self._me)
        self.route("POST", "/v1.0/subscriptions", self._subscribe)
        self.route("PATCH", "/v1.0/subscriptions/(?P<id>[^/]+)", self._renew)
        self.route("DELETE", "/v1.0/subscriptions/(?P<id>[^/]+)", self._unsubscribe)
        self.route(
            "GET",
            "/v1.0/me/calendarView/delta",
            self._delta_route(self.calendar, "/v1.0/me/calendarView/delta"),
        )
        self.route(
            "GET",
            "/v1.0/me/mailFolders/inbox/messages/delta",
            self._delta_route(self.mail, "/v1.0/me/mailFolders/inbox/messages/delta"),
        )

    def add_event(self, **changes: Any) -> dict[str, Any]:
        n = len({c["id"] for c in self.calendar.changes})
        start = START + timedelta(hours=3 * n)
        event = {
            "@odata.etag": f'W/"etag-{n}"',
            "id": f"AAMkEvent{n:04d}=",
            "subject": f"Meeting {n}",
            "bodyPreview": "Agenda attached.",
            "start": {"dateTime": start.strftime("%Y-%m-%dT%H:%M:%S.0000000"), "timeZone": "UTC"},
            "end": {
                "dateTime": (start + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S.0000000"),
                "timeZone": "UTC",
            },
            "location": {"displayName": f"Room {n % 5}"},
            "organizer": {
                "emailAddress": {"name": "Samantha Booth", "address": "samanthab@example.com"}
            },
            "webLink": f"https://outlook.office365.com/owa/?itemid=Event{n}",
            **changes,
        }
        self.calendar.add(event)
        return event

    def update_event(self, event: dict[str, Any], **changes: Any) -> None:
        self.calendar.add({**event, **changes, "@odata.etag": 'W/"changed"'})

    def remove_event(self, event: dict[str, Any]) -> None:
        self.calendar.add({"id": event["id"], "@removed": {"reason": "deleted"}})

    def add_message(self) -> None:
        n = len(self.mail.changes)
        self.mail.add(
            {
                "@odata.etag": f'W/"m-{n}"',
                "id": f"AAMkMessage{n:04d}=",
                "subject": f"Invoice {n}",
                "receivedDateTime": (START + timedelta(minutes=37 * n)).strftime(
                    "%Y-%m-%dT%H:%M:%SZ"
                ),
                "from": {"emailAddress": {"name": "Billing", "address": "billing@example.com"}},
                "toRecipients": [{"emailAddress": {"name": "Dana", "address": "dana@example.com"}}],
                "isRead": False,
                "conversationId": f"conv{n // 2}",
                "internetMessageId": f"<{n}@example.com>",
                "hasAttachments": n % 3 == 0,
            }
        )

    def expire_delta_tokens(self) -> None:
        """Graph dropped every sync state: the links handed out so far answer 410."""
        self.generation += 1

    # -- change notifications ---------------------------------------------------
    def _validate(self, url: str) -> bool:
        token = (
            "Validation: Testing client application reachability for subscription "
            f"Request-Id: {uuid.uuid4()}"
        )
        answer: dict[str, Any] = {"url": url, "token": token}
        try:
            response = requests.post(
                f"{self.reached(url)}?validationToken={quote(token)}",
                data=b"",
                headers={"Content-Type": "text/plain; charset=utf-8"},
                timeout=10,  # Graph waits 10 seconds for the token
            )
        except requests.RequestException as exc:
            answer["error"] = repr(exc)
            self.validations.append(answer)
            return False
        answer.update(
            status=response.status_code,
            content_type=response.headers.get("Content-Type", ""),
            body=response.text,
        )
        self.validations.append(answer)
        return (
            response.status_code == 200
            and answer["content_type"].startswith("text/plain")
            and response.text == token
        )

    def _expiry(self, value: Any) -> datetime | Reply:
        try:
            moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        except ValueError:
            return _bad_request("expirationDateTime is not a valid date.")
        now = datetime.now(UTC)
        if moment <= now:
            return _bad_request("Subscription expiration must be in the future.")
        if moment > now + timedelta(minutes=MAX_OUTLOOK_MINUTES):
            return _bad_request(
                f"Subscription expiration can only be {MAX_OUTLOOK_MINUTES} minutes in the future."
            )
        return moment

    def _subscribe(self, request: Request, match: re.Match) -> Reply:
        body = request.json or {}
        for name in ("changeType", "notificationUrl", "resource", "expirationDateTime"):
            if not body.get(name):
                return _bad_request(f"{name} is required.")
        urls = [body["notificationUrl"]] + (
            [body["lifecycleNotificationUrl"]] if body.get("lifecycleNotificationUrl") else []
        )
        if any(not url.startswith("https://") for url in urls):
            return _bad_request("The notification URL must use https.")
        if len(body.get("clientState") or "") > 128:
            return _bad_request("clientState is limited to 128 characters.")
        expiry = self._expiry(body["expirationDateTime"])
        if isinstance(expiry, Reply):
            return expiry
        for url in dict.fromkeys(urls):
            if not self._validate(url):
                return _bad_request(
                    "Subscription validation request failed. Notification endpoint must "
                    "respond with 200 OK to validation request."
                )
        subscription = {
            "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#subscriptions/$entity",
            "id": str(uuid.uuid4()),
            "resource": body["resource"],
            "applicationId": "24d3b144-21ae-4080-943f-7067b395b913",
            "changeType": body["changeType"],
            "clientState": body.get("clientState"),
            "notificationUrl": body["notificationUrl"],
            "lifecycleNotificationUrl": body.get("lifecycleNotificationUrl"),
            "expirationDateTime": expiry.strftime("%Y-%m-%dT%H:%M:%S.%f0Z"),
            "creatorId": "8ee44408-0679-472c-bc2a-692812af3437",
            "latestSupportedTlsVersion": body.get("latestSupportedTlsVersion", "v1_2"),
            "notificationContentType": "application/json",
        }
        self.subscriptions[subscription["id"]] = subscription
        return Reply(201, subscription)

    def _renew(self, request: Request, match: re.Match) -> Reply:
        subscription = self.subscriptions.get(match["id"])
        if subscription is None:
            return NOT_FOUND
        expiry = self._expiry((request.json or {}).get("expirationDateTime"))
        if isinstance(expiry, Reply):
            return expiry
        subscription["expirationDateTime"] = expiry.strftime("%Y-%m-%dT%H:%M:%S.%f0Z")
        return Reply(200, subscription)

    def _unsubscribe(self, request: Request, match: re.Match) -> Reply:
        if self.subscriptions.pop(match["id"], None) is None:
            return NOT_FOUND
        return Reply(204)

    def _post(self, url: str, notifications: list[dict[str, Any]]) -> requests.Response:
        # Graph wants an answer within 3 s; the fake waits longer, since the
        # first event stored in a process loads the PII model (slow on a busy machine).
        return requests.post(self.reached(url), json={"value": notifications}, timeout=120)

    def change_notification(
        self, subscription_id: str, change_type: str = "created", item_id: str = ""
    ) -> dict[str, Any]:
        """A change notification as documented (no resource data: includeResourceData off)."""
        subscription = self.subscriptions[subscription_id]
        item_id = item_id or f"AAMk{secrets.token_hex(8)}"
        odata_type = (
            "#Microsoft.Graph.Event"
            if "events" in subscription["resource"]
            else "#Microsoft.Graph.Message"
        )
        resource = f"Users/7a2b/{'Events' if 'Event' in odata_type else 'Messages'}/{item_id}"
        return {
            "id": "lsgTZMr9KwAAA",
            "subscriptionId": subscription_id,
            "subscriptionExpirationDateTime": subscription["expirationDateTime"],
            "clientState": subscription["clientState"],
            "changeType": change_type,
            "resource": resource,
            "tenantId": TENANT_ID,
            "resourceData": {
                "@odata.type": odata_type,
                "@odata.id": resource,
                "@odata.etag": f'W/"{secrets.token_hex(4)}"',
                "id": item_id,
            },
        }

    def notify(self, notification: dict[str, Any]) -> requests.Response:
        """Deliver a change notification to its subscription's notificationUrl."""
        subscription = self.subscriptions[notification["subscriptionId"]]
        return self._post(subscription["notificationUrl"], [notification])

    def lifecycle(self, subscription_id: str, event: str) -> requests.Response:
        """A lifecycle notification (reauthorizationRequired, subscriptionRemoved,
        missed) to the lifecycleNotificationUrl; a removed subscription is gone here."""
        subscription = self.subscriptions[subscription_id]
        notification = {
            "subscriptionId": subscription_id,
            "subscriptionExpirationDateTime": subscription["expirationDateTime"],
            "tenantId": TENANT_ID,
            "clientState": subscription["clientState"],
            "lifecycleEvent": event,
        }
        if event == "subscriptionRemoved":
            del self.subscriptions[subscription_id]
        return self._post(
            subscription["lifecycleNotificationUrl"] or subscription["notificationUrl"],
            [notification],
        )

    def _me(self, request: Request, match: re.Match) -> Reply:
        return Reply(
            200, {"id": "graph-user-1", "displayName": "Dana Swope", "mail": "dana@example.com"}
        )

    def _delta_route(self, feed: DeltaFeed, path: str):
        def route(request: Request, match: re.Match) -> Reply:
            prefer = request.headers.get("prefer", "")
            size_match = re.search(r"odata\.maxpagesize=(\d+)", prefer)
            size = int(size_match.group(1)) if size_match else 10
            # calendarView/delta reads the window of the first query; the links
            # carry it (and the fake's generation: see expire_delta_tokens).
            window = request.query.get("window", "")
            if "$skiptoken" in request.query or "$deltatoken" in request.query:
                if int(request.query.get("generation", -1)) != self.generation:
                    return Reply(
                        410,
                        {
                            "error": {
                                "code": "SyncStateNotFound",
                                "message": "The sync state generation is not found.",
                            }
                        },
                    )
            if "$skiptoken" in request.query:
                start, end = map(int, request.query["$skiptoken"].split("-"))
            elif "$deltatoken" in request.query:
                start, end = int(request.query["$deltatoken"]), len(feed.changes)
            else:
                if "startDateTime" in request.query:
                    window = f"{request.query['startDateTime']}~{request.query['endDateTime']}"
                if path.endswith("calendarView/delta") and "startDateTime" not in request.query:
                    return Reply(
                        400,
                        {
                            "error": {
                                "code": "ErrorInvalidParameter",
                                "message": "startDateTime is required",
                            }
                        },
                    )
                start, end = 0, len(feed.changes)
            stop = min(start + size, end)
            body: dict[str, Any] = {
                "@odata.context": "https://graph.microsoft.com/v1.0/$metadata",
                "value": [c for c in feed.changes[start:stop] if _in_window(c, window)],
            }
            state = f"generation={self.generation}" + (f"&window={window}" if window else "")
            if stop < end:
                body["@odata.nextLink"] = f"{self.url}{path}?$skiptoken={stop}-{end}&{state}"
            else:
                body["@odata.deltaLink"] = f"{self.url}{path}?$deltatoken={end}&{state}"
            return Reply(200, body)

        return route
