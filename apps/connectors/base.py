"""What every connector is: its scopes, its OAuth endpoints, its pages of records.

A connector module (apps/connectors/<provider>/) subclasses ``Connector``,
maps the provider's documented payloads into EventRecords and registers
itself in apps/connectors/registry.py. Everything else (tokens, retries,
rate limits, storing, cursors) is generic and lives in services.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar
from urllib.parse import urlsplit, urlunsplit

from django.conf import settings

from apps.lake.takeout.records import BadRecord, EventRecord, MetricRecord, excerpt_of
from apps.stream.outbound import ClientError, Unauthorized, outbound_call


class ConnectorError(Exception):
    """A connector cannot work for a reason the user can act on."""


class NotConfigured(ConnectorError):
    """No OAuth app (client id and secret) is set up for this provider."""


class TokenRevoked(ConnectorError):
    """The provider no longer accepts this connection's tokens: the user must consent again."""


# What a connector's page holds: events, measurements (apps/lake/metrics.py), or quarantine.
SyncRecord = EventRecord | MetricRecord | BadRecord


@dataclass(frozen=True, slots=True)
class OAuthApp:
    client_id: str
    secret: str


@dataclass(slots=True)
class TokenSet:
    access_token: str
    refresh_token: str = ""  # "" keeps the refresh token we have (many providers resend none)
    expires_at: datetime | None = None
    scopes: list[str] | None = None  # None: unchanged


@dataclass(slots=True)
class SyncPage:
    """Records of one page and the whole cursor once they are stored.

    The sync service stores the records and this cursor in one transaction, so
    a crash between pages resumes after the last stored page.
    """

    records: list[SyncRecord]
    cursor: dict[str, Any] = field(default_factory=dict)
    # What the sync skipped and why (a playlist the app may not read, ...):
    # shown on the connections page until the next sync.
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class PushSubscription:
    """What a provider answered to a subscription's creation."""

    external_id: str
    topic: str
    status: str  # WebhookSubscription.Status: "enabled" or "pending" (verification to come)
    expires_at: datetime | None = None


@dataclass(slots=True)
class PushContext:
    """What a connector needs to make, renew or end one connection's subscriptions."""

    api: ApiSession  # the user's token (Graph subscribes as the user)
    app: OAuthApp
    connection_id: int
    external_id: str  # the account's id at the provider
    cache: dict[str, Any] = field(default_factory=dict)  # e.g. Twitch's app access token


def provider_app(provider: str) -> OAuthApp:
    """The OAuth app of ``provider``: settings (env) or an allauth SocialApp in admin."""
    from allauth.socialaccount.adapter import get_adapter
    from allauth.socialaccount.models import SocialApp

    try:
        app = get_adapter().get_app(None, provider=provider)
    except (SocialApp.DoesNotExist, SocialApp.MultipleObjectsReturned):
        raise NotConfigured(
            f"No OAuth app is configured for {provider}: set DATAPUNK_{provider.upper()}_CLIENT_ID "
            "and _SECRET, or add a social application in the admin."
        ) from None
    return OAuthApp(client_id=app.client_id, secret=app.secret)


def rebase(provider: str, url: str) -> str:
    """``url`` sent to the base URL configured for ``provider``, if any.

    Production leaves CONNECTOR_BASE_URLS empty: the providers' own hosts.
    Tests (and proxies) point a provider at one server that speaks all its paths.
    """
    base = getattr(settings, "CONNECTOR_BASE_URLS", {}).get(provider) or ""
    if not base:
        return url
    target = urlsplit(base)
    parts = urlsplit(url)
    return urlunsplit(
        (target.scheme, target.netloc, target.path.rstrip("/") + parts.path, parts.query, "")
    )


def expires_at_from(expires_in: Any) -> datetime | None:
    try:
        seconds = int(expires_in)
    except (TypeError, ValueError):
        return None
    return datetime.now(UTC) + timedelta(seconds=seconds)


def parse_time(value: Any) -> datetime | None:
    """An ISO 8601 time as the providers write it (Z, offsets, 7 decimals); None if absent."""
    if not value or not isinstance(value, str):
        return None
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def mapped(items: Any, mapper: Callable[[dict[str, Any]], SyncRecord]) -> list[SyncRecord]:
    """``items`` mapped one by one; an item that does not fit goes to quarantine."""
    records: list[SyncRecord] = []
    for item in items or ():
        try:
            records.append(mapper(item))
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            reason = (
                f"no {exc.args[0]}"
                if isinstance(exc, KeyError)
                else str(exc) or "unexpected structure"
            )
            records.append(BadRecord(reason=reason, excerpt=excerpt_of(item)))
    return records


def cursor_time(value: Any) -> datetime | None:
    """parse_time for cursor bookkeeping: a malformed time counts as absent
    (the item itself goes to quarantine through ``mapped``)."""
    try:
        return parse_time(value)
    except (TypeError, ValueError):
        return None


class ApiSession:
    """Authenticated GETs for one sync of one connection.

    An expired token (401) is refreshed once through ``refresh`` and the call
    repeated; a second 401 means the consent is gone: TokenRevoked.
    """

    def __init__(
        self,
        connector: Connector,
        *,
        connection_id: int,
        access_token: str,
        app: OAuthApp,
        refresh: Callable[[], str],
        external_id: str = "",
    ) -> None:
        self.connector = connector
        self.connection_id = connection_id
        self.access_token = access_token
        self.app = app
        self.external_id = external_id
        self._refresh = refresh

    def get(
        self,
        url: str,
        params: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> Any:
        return self.call("GET", url, params=params, headers=headers)

    def call(
        self,
        method: str,
        url: str,
        *,
        params: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        json: Any = None,
    ) -> Any:
        """One call with the user's token (401: refreshed once); its JSON, or None
        for a write the provider answers without a body (204)."""
        for attempt in (1, 2):
            try:
                response = outbound_call(
                    provider=self.connector.provider,
                    connection_key=str(self.connection_id),
                    method=method,
                    url=rebase(self.connector.provider, url),
                    headers={
                        **self.connector.api_headers(self.access_token, self.app),
                        **(headers or {}),
                    },
                    params=params,
                    json=json,
                )
            except Unauthorized:
                if attempt == 2:
                    raise TokenRevoked(
                        f"{self.connector.label} refused a freshly refreshed token"
                    ) from None
                self.access_token = self._refresh()
                continue
            if method != "GET" and (response.status_code == 204 or not response.content):
                return None
            try:
                return response.json()
            except ValueError:
                raise ClientError(
                    f"{self.connector.label} answered something that is not JSON",
                    status=response.status_code,
                    body=response.text[:300],
                ) from None
        raise AssertionError("unreachable")


class Connector:
    provider: ClassVar[str]  # allauth's provider id
    label: ClassVar[str]
    source: ClassVar[str]  # Event.source of what it stores
    scopes: ClassVar[tuple[str, ...]]
    auth_params: ClassVar[dict[str, str]] = {}
    token_url: ClassVar[str]
    revoke_url: ClassVar[str] = ""
    client_auth: ClassVar[str] = "body"  # how the token endpoint wants the client: "body" | "basic"
    # Where a user registers their own OAuth app (README, connections page).
    app_console: ClassVar[str] = ""
    # The provider's own data export, which holds what its API cannot give
    # (connections page, README "API and export, per provider"): where a user
    # requests it and what Datapunk reads of it; empty when there is none to read.
    export_url: ClassVar[str] = ""
    export_holds: ClassVar[str] = ""
    # False: the export is linked so a person can have their own copy, but
    # Datapunk does not import it (the page says so).
    export_read: ClassVar[bool] = True
    # Which token the revocation endpoint takes: RFC 7009 lets a provider
    # accept either; Twitch's takes the access token only.
    revoke_token: ClassVar[str] = "refresh"  # "refresh" | "access"

    # Push (webhooks): what the connector subscribes to at its provider, one
    # subscription per topic; empty: the provider offers none, the connector polls.
    push_label: ClassVar[str] = ""
    push_topics: ClassVar[tuple[str, ...]] = ()
    # Renewed by the beat task once this close to expiry (None: they never expire).
    push_renew_ahead: ClassVar[timedelta | None] = None

    def api_headers(self, access_token: str, app: OAuthApp) -> dict[str, str]:
        return {"Authorization": f"Bearer {access_token}"}

    def push_subscribe(
        self, push: PushContext, *, topic: str, callback: str, secret: str
    ) -> PushSubscription:
        raise NotImplementedError

    def push_renew(self, push: PushContext, *, external_id: str) -> datetime | None:
        """A new expiry for a subscription; ClientError 404 when the provider lost it."""
        raise NotImplementedError

    def push_unsubscribe(self, push: PushContext, *, external_id: str) -> None:
        raise NotImplementedError

    def pages(self, api: ApiSession, cursor: dict[str, Any]) -> Iterator[SyncPage]:
        raise NotImplementedError

    def _client_fields(self, app: OAuthApp) -> tuple[dict[str, str], tuple[str, str] | None]:
        if self.client_auth == "basic":
            return {}, (app.client_id, app.secret)
        return {"client_id": app.client_id, "client_secret": app.secret}, None

    def token_endpoint(self) -> str:
        return self.token_url

    def refresh_fields(self) -> dict[str, str]:
        """Extra fields of a refresh request this provider wants."""
        return {}

    def refresh(self, *, refresh_token: str, app: OAuthApp, connection_id: int) -> TokenSet:
        """RFC 6749 section 6. Raises TokenRevoked when the grant is gone."""
        fields, auth = self._client_fields(app)
        try:
            response = outbound_call(
                provider=self.provider,
                connection_key=str(connection_id),
                method="POST",
                url=rebase(self.provider, self.token_endpoint()),
                data={
                    "grant_type": "refresh_token",
                    "refresh_token": refresh_token,
                    **fields,
                    **self.refresh_fields(),
                },
                auth=auth,
            )
        except ClientError as exc:
            if self.is_revocation(exc):
                raise TokenRevoked(
                    f"{self.label} no longer accepts this connection (the access was revoked "
                    "or expired): connect it again"
                ) from None
            raise
        body = response.json()
        scope = body.get("scope")
        return TokenSet(
            access_token=body["access_token"],
            refresh_token=body.get("refresh_token") or "",
            expires_at=expires_at_from(body.get("expires_in")),
            scopes=(scope.split() if isinstance(scope, str) else scope) if scope else None,
        )

    def is_revocation(self, error: ClientError) -> bool:
        return error.status == 401 or "invalid_grant" in error.body

    def token_to_revoke(self, access_token: str, refresh_token: str) -> str:
        if self.revoke_token == "access":
            return access_token or refresh_token
        return refresh_token or access_token

    def revoke(
        self, *, access_token: str, refresh_token: str, app: OAuthApp, connection_id: int
    ) -> None:
        """Ask the provider to forget the grant (RFC 7009) where it offers that."""
        if not self.revoke_url:
            return
        fields, auth = self._client_fields(app)
        outbound_call(
            provider=self.provider,
            connection_key=str(connection_id),
            method="POST",
            url=rebase(self.provider, self.revoke_url),
            data={"token": self.token_to_revoke(access_token, refresh_token), **fields},
            auth=auth,
        )
