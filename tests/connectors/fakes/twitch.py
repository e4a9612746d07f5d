"""Twitch as documented: id.twitch.tv OAuth (token, refresh, revoke; a dead
refresh token is 400 "Invalid refresh token"; client credentials give an app
access token), Helix with Client-Id, and /helix/channels/followed paged by an
opaque pagination cursor.

EventSub over webhooks as dev.twitch.tv/docs/eventsub/manage-subscriptions and
/handling-webhook-events describe it: POST /helix/eventsub/subscriptions takes
an app access token only, an https callback on port 443 and a secret of 10-100
characters, answers 202 with the subscription pending, then sends the
webhook_callback_verification (``send_verifications``: Twitch sends it after it
answered) signed with that secret; a 200 with the challenge as the body
enables it. DELETE ?id= ends it (204). ``notify`` and ``revoke`` send the
documented notification and revocation messages.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import secrets
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import requests

from tests.connectors.fakes.base import CLIENT_ID, CLIENT_SECRET, FakeProvider, Reply, Request

START = datetime(2026, 10, 1, 12, 0, tzinfo=UTC)


class FakeTwitch(FakeProvider):
    authorize_path = "/oauth2/authorize"
    token_path = "/oauth2/token"
    revoke_path = "/oauth2/revoke"
    invalid_grant = Reply(
        400, {"error": "Bad Request", "status": 400, "message": "Invalid refresh token"}
    )

    def _revoke(self, request: Request, match: re.Match) -> Reply:
        # dev.twitch.tv/docs/authentication/revoke-tokens: client_id and the
        # access token; anything else is 400 "Invalid token", an unknown
        # client 404 "client does not exist".
        token = request.form.get("token", "")
        if request.form.get("client_id") != CLIENT_ID:
            return Reply(404, {"status": 404, "message": "client does not exist"})
        with self.lock:
            if token not in self.access:
                return Reply(400, {"status": 400, "message": "Invalid token"})
            self.access.pop(token, None)
        return Reply(200, {})

    def __init__(self, *, follows: int = 0) -> None:
        super().__init__()
        self.user_id = "141981764"
        self.follows: list[dict[str, Any]] = []  # newest first
        self.add_follows(follows)
        self.app_tokens: set[str] = set()
        self.eventsub: dict[str, dict[str, Any]] = {}  # id -> subscription, with its secret
        self.unverified: list[str] = []  # ids whose verification is still to be sent
        self.verifications: list[dict[str, Any]] = []  # what each callback answered
        self.route("GET", "/helix/users", self._users)
        self.route("POST", "/helix/eventsub/subscriptions", self._eventsub_create)
        self.route("DELETE", "/helix/eventsub/subscriptions", self._eventsub_delete)
        self.route("GET", "/helix/channels/followed", self._followed)

    # -- app access tokens and EventSub ------------------------------------------
    def _token(self, request: Request, match: re.Match) -> Reply:
        if request.form.get("grant_type") != "client_credentials":
            return super()._token(request, match)
        if (request.form.get("client_id"), request.form.get("client_secret")) != (
            CLIENT_ID,
            CLIENT_SECRET,
        ):
            return Reply(403, {"status": 403, "message": "invalid client secret"})
        access, _ = self.issue_tokens(lifetime=5011271)
        with self.lock:
            self.app_tokens.add(access)
        return Reply(200, {"access_token": access, "expires_in": 5011271, "token_type": "bearer"})

    def _app_token_ok(self, request: Request) -> Reply | None:
        if not self._client_id_ok(request):
            return Reply(
                401,
                {
                    "error": "Unauthorized",
                    "status": 401,
                    "message": "Client ID and OAuth token do not match",
                },
            )
        if self.bearer(request) not in self.app_tokens:
            return Reply(
                400,
                {
                    "error": "Bad Request",
                    "status": 400,
                    "message": "auth must use app access token to create webhook subscription",
                },
            )
        return None

    def _eventsub_create(self, request: Request, match: re.Match) -> Reply:
        refused = self._app_token_ok(request)
        if refused:
            return refused
        body = request.json or {}
        transport = body.get("transport") or {}
        bad = None
        callback = str(transport.get("callback") or "")
        parts = urlsplit(callback)
        if body.get("type") not in ("stream.online", "stream.offline", "user.update"):
            bad = "unsupported subscription type"
        elif transport.get("method") != "webhook":
            bad = "unsupported transport method"
        elif parts.scheme != "https" or parts.port not in (None, 443):
            bad = "invalid transport callback: must use https on port 443"
        elif not 10 <= len(str(transport.get("secret") or "")) <= 100:
            bad = "invalid transport secret: must be 10-100 characters"
        if bad:
            return Reply(400, {"error": "Bad Request", "status": 400, "message": bad})
        for other in self.eventsub.values():
            if (other["type"], other["condition"], other["transport"]["callback"]) == (
                body["type"],
                body.get("condition"),
                callback,
            ):
                return Reply(
                    409,
                    {"error": "Conflict", "status": 409, "message": "subscription already exists"},
                )
        subscription = {
            "id": str(uuid.uuid4()),
            "status": "webhook_callback_verification_pending",
            "type": body["type"],
            "version": body.get("version", "1"),
            "condition": body.get("condition") or {},
            "created_at": _now(),
            "transport": {"method": "webhook", "callback": callback},
            "cost": 0,
        }
        self.eventsub[subscription["id"]] = {**subscription, "secret": transport["secret"]}
        self.unverified.append(subscription["id"])
        return Reply(
            202,
            {
                "data": [subscription],
                "total": len(self.eventsub),
                "total_cost": 0,
                "max_total_cost": 10000,
            },
        )

    def _eventsub_delete(self, request: Request, match: re.Match) -> Reply:
        refused = self._app_token_ok(request)
        if refused:
            return refused
        if self.eventsub.pop(request.query.get("id", ""), None) is None:
            return Reply(
                404, {"error": "Not Found", "status": 404, "message": "subscription not found"}
            )
        return Reply(204)

    def public(self, subscription_id: str) -> dict[str, Any]:
        return {k: v for k, v in self.eventsub[subscription_id].items() if k != "secret"}

    def deliver(
        self, subscription_id: str, message_type: str, payload: dict[str, Any], message_id: str = ""
    ) -> requests.Response:
        """One signed message to the subscription's callback, as Twitch sends it."""
        subscription = self.eventsub[subscription_id]
        body = json.dumps(payload, separators=(",", ":")).encode()
        message_id = message_id or str(uuid.uuid4())
        timestamp = _now()
        signature = hmac.new(
            subscription["secret"].encode(),
            message_id.encode() + timestamp.encode() + body,
            hashlib.sha256,
        ).hexdigest()
        return requests.post(
            self.reached(subscription["transport"]["callback"]),
            data=body,
            headers={
                "Content-Type": "application/json",
                "Twitch-Eventsub-Message-Id": message_id,
                "Twitch-Eventsub-Message-Retry": "0",
                "Twitch-Eventsub-Message-Type": message_type,
                "Twitch-Eventsub-Message-Signature": f"sha256={signature}",
                "Twitch-Eventsub-Message-Timestamp": timestamp,
                "Twitch-Eventsub-Subscription-Type": subscription["type"],
                "Twitch-Eventsub-Subscription-Version": subscription["version"],
            },
            timeout=120,  # as the Graph fake: the first store loads the PII model
        )

    def send_verifications(self) -> None:
        """The challenge of each new subscription; answered right, it is enabled."""
        while self.unverified:
            subscription_id = self.unverified.pop(0)
            challenge = secrets.token_urlsafe(24)
            response = self.deliver(
                subscription_id,
                "webhook_callback_verification",
                {"challenge": challenge, "subscription": self.public(subscription_id)},
            )
            ok = (
                response.status_code == 200
                and response.text == challenge
                and response.headers.get("Content-Type", "").startswith("text/plain")
            )
            self.verifications.append(
                {"id": subscription_id, "status": response.status_code, "ok": ok}
            )
            self.eventsub[subscription_id]["status"] = (
                "enabled" if ok else "webhook_callback_verification_failed"
            )

    def notify(
        self, subscription_id: str, event: dict[str, Any], message_id: str = ""
    ) -> requests.Response:
        return self.deliver(
            subscription_id,
            "notification",
            {"subscription": self.public(subscription_id), "event": event},
            message_id,
        )

    def revoke(self, subscription_id: str, reason: str) -> requests.Response:
        """Twitch ends a subscription (authorization_revoked, user_removed,
        notification_failures_exceeded, version_removed) and says so once."""
        self.eventsub[subscription_id]["status"] = reason
        response = self.deliver(
            subscription_id, "revocation", {"subscription": self.public(subscription_id)}
        )
        del self.eventsub[subscription_id]
        return response

    def add_follows(self, count: int) -> None:
        for _ in range(count):
            n = len(self.follows)
            self.follows.insert(
                0,
                {
                    "broadcaster_id": str(1000 + n),
                    "broadcaster_login": f"streamer{n}",
                    "broadcaster_name": f"Streamer{n}",
                    "followed_at": (START + timedelta(hours=n)).strftime("%Y-%m-%dT%H:%M:%SZ"),
                },
            )

    def _client_id_ok(self, request: Request) -> bool:
        return request.headers.get("client-id") == CLIENT_ID

    def _users(self, request: Request, match: re.Match) -> Reply:
        if not self._client_id_ok(request):
            return Reply(
                401,
                {"error": "Unauthorized", "status": 401, "message": "Client-Id header required"},
            )
        return Reply(
            200, {"data": [{"id": self.user_id, "login": "twitchdev", "display_name": "TwitchDev"}]}
        )

    def _followed(self, request: Request, match: re.Match) -> Reply:
        if not self._client_id_ok(request):
            return Reply(
                401,
                {"error": "Unauthorized", "status": 401, "message": "Client-Id header required"},
            )
        if request.query.get("user_id") != self.user_id:
            return Reply(
                400,
                {"error": "Bad Request", "status": 400, "message": "user_id must match the token"},
            )
        first = min(int(request.query.get("first", 20)), 100)
        offset = (
            int(base64.b64decode(request.query["after"]).decode())
            if "after" in request.query
            else 0
        )
        page = self.follows[offset : offset + first]
        more = offset + first < len(self.follows)
        pagination = (
            {"cursor": base64.b64encode(str(offset + first).encode()).decode()} if more else {}
        )
        return Reply(200, {"total": len(self.follows), "data": page, "pagination": pagination})


def _now() -> str:
    # RFC 3339 with nanoseconds, as Twitch writes its timestamps.
    moment = datetime.now(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond:06d}000Z"
