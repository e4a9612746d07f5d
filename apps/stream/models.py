"""Inbound streams: ingest keys, webhook subscriptions, and the deliveries seen once."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from apps.core.sealing import seal, unseal


class IngestKey(models.Model):
    """A user's credentials for the ingest endpoint (one per user; rotating replaces it).

    The API key is kept only as its SHA-256 (it is looked up, never shown again);
    the HMAC secret is sealed, because checking a signature needs it.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="ingest_key"
    )
    key_id = models.CharField(max_length=32, unique=True, help_text="public: names the key")
    key_hash = models.CharField(max_length=64, unique=True, help_text="sha256 of the API key")
    secret_sealed = models.TextField(help_text="the HMAC secret, Fernet-sealed")
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"ingest key {self.key_id}"

    @property
    def secret(self) -> str:
        return unseal(self.secret_sealed)


class WebhookSubscription(models.Model):
    """A provider's subscription that delivers to us; maps a delivery to its user.

    Created by the connector that subscribes (apps.connectors); the webhook
    views only read it and record its verification and revocation.
    """

    class Provider(models.TextChoices):
        TWITCH = "twitch"
        MICROSOFT = "microsoft"

    class Status(models.TextChoices):
        PENDING = "pending"  # created; the provider has not verified the callback yet
        ENABLED = "enabled"
        REVOKED = "revoked"  # the provider ended it; see revoked_reason

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="webhook_subscriptions"
    )
    # The connector's Connection that made it, by id: the stream app does not
    # depend on connectors (None: made by hand, as in the webhook tests).
    connection_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    provider = models.CharField(max_length=16, choices=Provider.choices)
    external_id = models.CharField(max_length=255, help_text="the provider's subscription id")
    topic = models.CharField(max_length=255, blank=True, help_text="channel.follow, me/events, ...")
    # Twitch: the HMAC secret given when subscribing. Graph: the clientState.
    secret_sealed = models.TextField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    revoked_reason = models.CharField(max_length=255, blank=True)
    # When the provider ends it unless renewed (Graph: days); None: no expiry (Twitch).
    expires_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "external_id"], name="stream_webhook_subscription_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.provider} {self.topic or self.external_id} [{self.status}]"

    @property
    def secret(self) -> str:
        return unseal(self.secret_sealed)

    @secret.setter
    def secret(self, value: str) -> None:
        self.secret_sealed = seal(value)


class InboundDelivery(models.Model):
    """A message id seen once: a delivery replayed or retried lands exactly once.

    Claimed in the transaction that stores the delivery's events, so a crash
    leaves neither; the unique constraint decides (never check-then-insert).
    """

    class Channel(models.TextChoices):
        TWITCH = "twitch"
        MICROSOFT = "microsoft"
        INGEST = "ingest"  # signed ingest requests, by signature

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    channel = models.CharField(max_length=16, choices=Channel.choices)
    message_id = models.CharField(max_length=128)
    received_at = models.DateTimeField(db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "message_id"], name="stream_inbound_delivery_once"
            )
        ]
        verbose_name_plural = "inbound deliveries"

    def __str__(self) -> str:
        return f"{self.channel} {self.message_id}"


# --- outbound reliability (apps/connectors' calls) ------------------------------
class DeadLetter(models.Model):
    """Outbound work that failed after its last retry, kept to be replayed.

    ``operation`` names a handler registered in apps.stream.deadletters (e.g.
    "connector.sync"); ``payload`` is what it needs to run again.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="dead_letters"
    )
    provider = models.CharField(max_length=40)
    # The connector's Connection, by id: the stream app does not depend on connectors.
    connection_id = models.BigIntegerField(null=True, blank=True)
    operation = models.CharField(max_length=80)
    payload = models.JSONField(default=dict, blank=True)
    error = models.TextField()
    attempts = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    replayed_at = models.DateTimeField(null=True, blank=True)
    # What the last replay said when it failed again (empty once it succeeded).
    replay_error = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["user", "replayed_at"])]

    def __str__(self) -> str:
        return f"{self.operation} {self.provider} ({self.created_at:%Y-%m-%d %H:%M})"


class Device(models.Model):
    """A phone or tracker app that sends its owner's live location (apps/stream/devices).

    Each device has its own credential, kept only as its SHA-256 (shown once,
    when made); revoking stops it at once and keeps the points it sent.
    """

    class Kind(models.TextChoices):
        OWNTRACKS = "owntracks", "OwnTracks (HTTP)"
        OWNTRACKS_MQTT = "owntracks-mqtt", "OwnTracks (MQTT)"
        OVERLAND = "overland", "Overland"
        GPSLOGGER = "gpslogger", "GPSLogger"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="devices"
    )
    name = models.CharField(max_length=64, help_text="the device's name, as its topic says it")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    credential_hash = models.CharField(
        max_length=64, unique=True, help_text="sha256 of the credential"
    )
    broker_password_hash = models.CharField(
        max_length=200,
        blank=True,
        default="",
        help_text="the credential as the MQTT broker's password file holds it (MQTT devices)",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_seen_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "name"],
                condition=models.Q(revoked_at__isnull=True),
                name="stream_device_name_unique_while_active",
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.kind})"
