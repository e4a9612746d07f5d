"""The connectors Datapunk has: one line per provider."""

from __future__ import annotations

from apps.connectors.base import Connector, ConnectorError
from apps.connectors.microsoft import MicrosoftConnector
from apps.connectors.spotify import SpotifyConnector

CONNECTORS: dict[str, Connector] = {
    connector.provider: connector
    for connector in (
        SpotifyConnector(),
        MicrosoftConnector(),
    )
}


def connector_for(provider: str) -> Connector:
    try:
        return CONNECTORS[provider]
    except KeyError:
        raise ConnectorError(f"Datapunk has no connector for {provider!r}") from None
