"""Signals of the inbound side, for the layers above (connectors)."""

from __future__ import annotations

from django.dispatch import Signal

# A provider said something about a push subscription that the connector that
# made it must act on; sent after the delivery's transaction committed, once
# per (subscription, event) of a delivery. Arguments: user_id, connection_id
# (None for a subscription no connector made), subscription_id (the
# WebhookSubscription's pk), event: "changed" (Graph: a resource changed),
# "missed", "reauthorizationRequired", "subscriptionRemoved" (Graph's
# lifecycle notifications) or "revoked:<Twitch's reason>".
push_subscription_event = Signal()
