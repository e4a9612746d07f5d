"""Twitch: the channels a user follows (Helix), newest first."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from apps.connectors.base import (
    ApiSession,
    Connector,
    OAuthApp,
    PushContext,
    PushSubscription,
    SyncPage,
    cursor_time,
    mapped,
    parse_time,
    rebase,
)
from apps.lake.takeout.records import EventRecord
from apps.stream.outbound import ClientError, outbound_call

HELIX = "https://api.twitch.tv/helix"
PAGE = 100
MAX_PAGES = 200


def follow_record(item: dict[str, Any]) -> EventRecord:
    """One item of GET /helix/channels/followed."""
    return EventRecord(
        kind="twitch.follow",
        occurred_at=parse_time(item["followed_at"]),
        title=item.get("broadcaster_name") or item["broadcaster_login"],
        url=f"https://www.twitch.tv/{item['broadcaster_login']}",
        data=item,
    )


class TwitchConnector(Connector):
    provider = "twitch"
    label = "Twitch"
    source = "twitch"
    scopes = ("user:read:follows",)
    token_url = "https://id.twitch.tv/oauth2/token"
    # POST /oauth2/revoke takes client_id and the *access* token
    # (dev.twitch.tv/docs/authentication/revoke-tokens); a refresh token is 400.
    revoke_url = "https://id.twitch.tv/oauth2/revoke"
    revoke_token = "access"
    app_console = "https://dev.twitch.tv/console/apps"
    export_url = "https://www.twitch.tv/p/legal/privacy-choices/"
    export_holds = (
        "a data request under “Privacy choices” (chat messages, watch sessions, "
        "purchases); the API gives the channels you follow"
    )
    export_read = False

    # EventSub over webhooks (dev.twitch.tv/docs/eventsub/manage-subscriptions):
    # the user's own channel going live and offline (no scope needed; the
    # user authorized this client, so they cost nothing). They never expire.
    push_label = "Twitch EventSub"
    push_topics = ("stream.online", "stream.offline")

    def api_headers(self, access_token: str, app: OAuthApp) -> dict[str, str]:
        return {"Authorization": f"Bearer {access_token}", "Client-Id": app.client_id}

    def app_access_token(self, push: PushContext) -> str:
        """An app access token (client credentials grant): webhook subscriptions
        are made and deleted with it, never with the user's token. One per run."""
        if "app_token" not in push.cache:
            response = outbound_call(
                provider=self.provider,
                connection_key=None,
                method="POST",
                url=rebase(self.provider, self.token_url),
                data={
                    "client_id": push.app.client_id,
                    "client_secret": push.app.secret,
                    "grant_type": "client_credentials",
                },
            )
            push.cache["app_token"] = response.json()["access_token"]
        return str(push.cache["app_token"])

    def _eventsub(self, push: PushContext, method: str, **kwargs: Any) -> Any:
        return outbound_call(
            provider=self.provider,
            connection_key=str(push.connection_id),
            method=method,
            url=rebase(self.provider, f"{HELIX}/eventsub/subscriptions"),
            headers=self.api_headers(self.app_access_token(push), push.app),
            **kwargs,
        )

    def push_subscribe(
        self, push: PushContext, *, topic: str, callback: str, secret: str
    ) -> PushSubscription:
        """POST /helix/eventsub/subscriptions: 202, pending until our callback
        answers Twitch's webhook_callback_verification with its challenge."""
        response = self._eventsub(
            push,
            "POST",
            json={
                "type": topic,
                "version": "1",
                "condition": {"broadcaster_user_id": push.external_id},
                "transport": {"method": "webhook", "callback": callback, "secret": secret},
            },
        )
        made = response.json()["data"][0]
        return PushSubscription(
            external_id=made["id"],
            topic=topic,
            status="enabled" if made.get("status") == "enabled" else "pending",
        )

    def push_unsubscribe(self, push: PushContext, *, external_id: str) -> None:
        self._eventsub(push, "DELETE", params={"id": external_id})

    def is_revocation(self, error: ClientError) -> bool:
        # Twitch answers a dead refresh token with 400 "Invalid refresh token".
        return super().is_revocation(error) or (
            error.status == 400 and "invalid refresh token" in error.body.lower()
        )

    def pages(self, api: ApiSession, cursor: dict[str, Any]) -> Iterator[SyncPage]:
        # Newest follow first. Walk down to what the last sync saw; the cursor
        # moves once the walk is complete (a stopped walk is redone, deduped).
        since = cursor_time(cursor.get("followed_since"))
        newest = since
        after: str | None = None
        for _ in range(MAX_PAGES):
            params: dict[str, Any] = {"user_id": api.external_id, "first": PAGE}
            if after:
                params["after"] = after
            body = api.get(f"{HELIX}/channels/followed", params)
            items = body.get("data") or []
            fresh = [
                i
                for i in items
                if since is None or (cursor_time(i.get("followed_at")) or since) > since
            ]
            for item in fresh:
                moment = cursor_time(item.get("followed_at"))
                if moment and (newest is None or moment > newest):
                    newest = moment
            after = (body.get("pagination") or {}).get("cursor")
            done = len(fresh) < len(items) or not after or not items
            if done and newest:
                cursor["followed_since"] = newest.isoformat()
            yield SyncPage(mapped(fresh, follow_record), dict(cursor))
            if done:
                break
