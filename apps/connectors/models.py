from __future__ import annotations

from django.conf import settings
from django.db import models

from apps.core.sealing import seal, unseal


class Connection(models.Model):
    """One account of one provider that a user connected, with its sync state.

    Tokens are kept sealed (Fernet, settings.FIELD_ENCRYPTION_KEY): a dump of
    this table holds no usable token. allauth keeps none at all
    (SOCIALACCOUNT_STORE_TOKENS is off): this row is the one place they live.
    """

    class Status(models.TextChoices):
        ACTIVE = "active", "active"
        NEEDS_RECONSENT = "needs_reconsent", "needs re-consent"
        REVOKED = "revoked", "disconnected"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="connections"
    )
    provider = models.CharField(max_length=40)  # allauth's provider id: "spotify", ...
    external_id = models.CharField(max_length=191)  # the account's id at the provider
    display_name = models.CharField(max_length=200, blank=True)
    scopes = models.JSONField(default=list, blank=True)  # as granted at the last consent
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.ACTIVE)
    # Where the next sync starts, per stream of the provider (see each connector).
    cursor = models.JSONField(default=dict, blank=True)
    access_token_sealed = models.TextField(blank=True)
    refresh_token_sealed = models.TextField(blank=True)
    token_expires_at = models.DateTimeField(null=True, blank=True)
    last_sync_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    # What the last sync skipped and why (one resource refused, the rest stored).
    sync_notes = models.JSONField(default=list, blank=True)
    # Why push subscriptions (webhooks) could not be made or renewed; empty when they were.
    push_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "provider", "external_id"], name="connection_unique_account"
            )
        ]
        indexes = [models.Index(fields=["status", "token_expires_at"])]
        ordering = ["provider", "pk"]

    def __str__(self) -> str:
        return f"{self.provider}:{self.display_name or self.external_id}"

    @property
    def access_token(self) -> str:
        return unseal(self.access_token_sealed)

    @access_token.setter
    def access_token(self, value: str) -> None:
        self.access_token_sealed = seal(value)

    @property
    def refresh_token(self) -> str:
        return unseal(self.refresh_token_sealed)

    @refresh_token.setter
    def refresh_token(self, value: str) -> None:
        self.refresh_token_sealed = seal(value)
