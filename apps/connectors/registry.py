"""The connectors Datapunk has: one line per provider."""

from __future__ import annotations

from apps.connectors.base import Connector, ConnectorError
from apps.connectors.discord import DiscordConnector
from apps.connectors.google import GoogleConnector
from apps.connectors.microsoft import MicrosoftConnector
from apps.connectors.spotify import SpotifyConnector
from apps.connectors.twitch import TwitchConnector

CONNECTORS: dict[str, Connector] = {
    connector.provider: connector
    for connector in (
        SpotifyConnector(),
        MicrosoftConnector(),
        TwitchConnector(),
        GoogleConnector(),
        DiscordConnector(),
    )
}


def connector_for(provider: str) -> Connector:
    try:
        return CONNECTORS[provider]
    except KeyError:
        raise ConnectorError(f"Datapunk has no connector for {provider!r}") from None
