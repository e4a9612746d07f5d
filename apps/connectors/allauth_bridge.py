"""How the connectors sit on django-allauth's providers.

allauth does the OAuth dance (authorize redirect, state, code exchange,
profile); Datapunk takes the tokens from it on connect and keeps them sealed in
its Connection (SOCIALACCOUNT_STORE_TOKENS stays off, so allauth's SocialToken
table never holds a plaintext token). Two adaptations, made once at start-up:

- allauth hard-codes each provider's URLs; they are rebased on
  CONNECTOR_BASE_URLS so that tests (and proxies) can point a provider at
  another server. Production leaves it empty: nothing changes.
- the scopes and authorization parameters a connector needs are its
  provider's defaults, so they live with the connector's code.
"""

from __future__ import annotations

import logging
from importlib import import_module
from typing import Any

from allauth.socialaccount.models import SocialLogin
from allauth.socialaccount.providers.base import AuthProcess

from apps.connectors.base import TokenSet, rebase
from apps.connectors.registry import CONNECTORS

logger = logging.getLogger(__name__)

# allauth's adapter class per provider (module, class).
ADAPTERS = {
    "spotify": ("allauth.socialaccount.providers.spotify.views", "SpotifyOAuth2Adapter"),
    "google": ("allauth.socialaccount.providers.google.views", "GoogleOAuth2Adapter"),
    "microsoft": ("allauth.socialaccount.providers.microsoft.views", "MicrosoftGraphOAuth2Adapter"),
    "discord": ("allauth.socialaccount.providers.discord.views", "DiscordOAuth2Adapter"),
    "twitch": ("allauth.socialaccount.providers.twitch.views", "TwitchOAuth2Adapter"),
}
PROVIDERS = {
    "spotify": ("allauth.socialaccount.providers.spotify.provider", "SpotifyOAuth2Provider"),
    "google": ("allauth.socialaccount.providers.google.provider", "GoogleProvider"),
    "microsoft": ("allauth.socialaccount.providers.microsoft.provider", "MicrosoftGraphProvider"),
    "discord": ("allauth.socialaccount.providers.discord.provider", "DiscordProvider"),
    "twitch": ("allauth.socialaccount.providers.twitch.provider", "TwitchProvider"),
}
URL_ATTRIBUTES = ("access_token_url", "authorize_url", "profile_url", "identity_url")


def _rebased(provider: str, original: Any) -> property:
    def get(self: Any) -> str:
        value = original.__get__(self, type(self)) if isinstance(original, property) else original
        return rebase(provider, value)

    return property(get)


def adapt_allauth() -> None:
    """Rebase allauth's provider URLs and give its providers our scopes (idempotent)."""
    for provider, connector in CONNECTORS.items():
        module, name = ADAPTERS[provider]
        adapter = getattr(import_module(module), name)
        if not getattr(adapter, "_datapunk_adapted", False):
            for attribute in URL_ATTRIBUTES:
                # The raw class attribute (a string or a property), wherever it is defined.
                original = next(
                    (vars(k)[attribute] for k in adapter.__mro__ if attribute in vars(k)), None
                )
                if original is not None:
                    setattr(adapter, attribute, _rebased(provider, original))
            adapter._datapunk_adapted = True
        module, name = PROVIDERS[provider]
        provider_class = getattr(import_module(module), name)
        provider_class.get_default_scope = lambda self, c=connector: list(c.scopes)
        if connector.auth_params:
            original = provider_class.get_auth_params

            def get_auth_params(self: Any, original: Any = original, c: Any = connector) -> dict:
                return {**c.auth_params, **original(self)}

            if not getattr(provider_class, "_datapunk_auth_params", False):
                provider_class.get_auth_params = get_auth_params
                provider_class._datapunk_auth_params = True


def on_pre_social_login(sender: Any, request: Any, sociallogin: SocialLogin, **kwargs: Any) -> None:
    """Keep the tokens of a *connect* (never of a sign-in), then blank them in allauth.

    Runs after allauth has exchanged the code and identified the account,
    before it links the account to the user. An account already linked to
    another Datapunk user is left to allauth, which refuses it.
    """
    from apps.connectors.services import connection_connect

    token = sociallogin.token
    provider = sociallogin.account.provider
    if token is None:
        return
    try:
        is_connect = sociallogin.state.get("process") == AuthProcess.CONNECT
        user = getattr(request, "user", None)
        other_owner = sociallogin.is_existing and sociallogin.user != user
        if (
            is_connect
            and provider in CONNECTORS
            and user is not None
            and user.is_authenticated
            and not other_owner
        ):
            account = sociallogin.account
            connection_connect(
                user_id=user.pk,
                provider=provider,
                external_id=str(account.uid),
                tokens=TokenSet(
                    access_token=token.token,
                    refresh_token=token.token_secret or "",
                    expires_at=token.expires_at,
                ),
                display_name=_display_name(account.extra_data or {}),
                ip=request.META.get("REMOTE_ADDR"),
            )
    finally:
        # Whatever allauth does next (store, stash in the session), it holds no token.
        token.token = ""
        token.token_secret = ""


def _display_name(extra: dict[str, Any]) -> str:
    for key in ("display_name", "displayName", "global_name", "username", "login", "name", "email"):
        value = extra.get(key)
        if isinstance(value, str) and value:
            return value
    return ""
