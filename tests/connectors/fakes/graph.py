"""Microsoft identity platform v2 + Graph v1.0 as documented: tenant token
endpoint, /me, and delta queries (calendarView/delta, messages/delta) paged with
@odata.nextLink ($skiptoken) and ending with @odata.deltaLink ($deltatoken)."""

from __future__ import annotations

import copy
import re
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.connectors.fakes.base import FakeProvider, Reply, Request

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
        self.route("GET", "/v1.0/me", self._me)
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
