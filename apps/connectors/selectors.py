"""Reads of the connectors for pages and the API."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db.models import QuerySet

from apps.connectors.base import NotConfigured, provider_app
from apps.connectors.models import Connection
from apps.connectors.push import polling_reason
from apps.connectors.registry import CONNECTORS
from apps.stream.models import WebhookSubscription


def connections_of(user: Any) -> QuerySet[Connection]:
    return Connection.objects.filter(user_id=user.pk)


@dataclass(slots=True)
class ConnectorCard:
    provider: str
    label: str
    scopes: tuple[str, ...]
    configured: bool
    app_console: str
    export_url: str = ""
    export_holds: str = ""
    export_read: bool = True
    # Push: what the provider offers ("" none), and why it is off here ("" it is on).
    push_label: str = ""
    push_off: str = ""
    connections: list[Connection] = field(default_factory=list)


def connector_cards(user: Any) -> list[ConnectorCard]:
    """One card per connector, with the user's connections of that provider."""
    mine: dict[str, list[Connection]] = {}
    subscriptions: dict[int, list[WebhookSubscription]] = {}
    for subscription in WebhookSubscription.objects.filter(
        user_id=user.pk, connection_id__isnull=False
    ).order_by("topic", "pk"):
        subscriptions.setdefault(subscription.connection_id or 0, []).append(subscription)
    for conn in connections_of(user).order_by("provider", "pk"):
        # Each subscription's state and expiry, shown under its connection.
        setattr(conn, "push_subscriptions", subscriptions.get(conn.pk, []))  # noqa: B010
        mine.setdefault(conn.provider, []).append(conn)
    off = polling_reason()
    cards = []
    for provider, connector in CONNECTORS.items():
        try:
            provider_app(provider)
            configured = True
        except NotConfigured:
            configured = False
        cards.append(
            ConnectorCard(
                provider=provider,
                label=connector.label,
                scopes=connector.scopes,
                configured=configured,
                app_console=connector.app_console,
                export_url=connector.export_url,
                export_holds=connector.export_holds,
                export_read=connector.export_read,
                push_label=connector.push_label,
                push_off=off if connector.push_label else "",
                connections=mine.get(provider, []),
            )
        )
    return cards
