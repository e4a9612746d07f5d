"""The OwnTracks MQTT subscriber: what devices publish to the broker, stored as
the HTTP endpoint stores it (services.device_records_store).

Nothing is lost and nothing is stored twice: the subscriber keeps one
persistent session (a fixed client id, clean_session off) subscribed with
QoS 1, so the broker keeps what is published while it is down, and it
acknowledges a message only after the transaction holding its point has
committed. A message redelivered after a crash is a duplicate the lake's key
refuses, so every point lands exactly once.

Messages that arrive together are stored in one transaction
(services.device_items_store), as the endpoints' group commit does.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from django.conf import settings
from django.db import DatabaseError

from apps.core.db.connections import connection_keep_healthy
from apps.core.db.context import system_context
from apps.core.feed import FeedMessage, feed_messages_held, publish_held
from apps.stream.devices.broker import TOPIC_ROOT, TopicDevice, topic_device
from apps.stream.devices.protocols import ProtocolError, owntracks_http_records
from apps.stream.devices.services import DeviceItem, device_items_store, device_records_check
from apps.stream.models import Device

logger = logging.getLogger(__name__)

# One transaction holds at most this many messages: short enough to answer
# (acknowledge) quickly, large enough that a commit is shared by many points.
BATCH_MAX_MESSAGES = 500
# A revoked device is refused by the broker once its files are rewritten; the
# subscriber also forgets what it knew of a device after this long.
DEVICE_CACHE_SECONDS = 5.0
# After the database fails, wait this long before trying the batch again.
RETRY_SECONDS = 1.0


@dataclass(frozen=True, slots=True)
class MqttMessage:
    topic: str
    payload: bytes
    mid: int
    qos: int
    connection: int  # which connection brought it: a mid is only valid on that one


@dataclass(slots=True)
class BatchOutcome:
    messages: int = 0
    written: int = 0
    duplicate: int = 0
    quarantined: int = 0
    refused: int = 0  # no such active device, or not an OwnTracks message


@dataclass
class DeviceCache:
    """Devices by their topic, looked up once per DEVICE_CACHE_SECONDS, all
    those a batch needs in one query (100 phones are not 100 round trips)."""

    clock: Callable[[], float] = time.monotonic
    _known: dict[TopicDevice, tuple[Device | None, float]] = field(default_factory=dict)

    def devices(self, keys: set[TopicDevice]) -> dict[TopicDevice, Device | None]:
        now = self.clock()
        missing = {
            key
            for key in keys
            if key not in self._known or now - self._known[key][1] >= DEVICE_CACHE_SECONDS
        }
        if missing:
            with system_context():  # whose device a topic names is what we learn here
                found = Device.objects.select_related("user").filter(
                    user__username__in={key.username for key in missing},
                    user__is_active=True,
                    name__in={key.device_name for key in missing},
                    kind=Device.Kind.OWNTRACKS_MQTT,
                    revoked_at__isnull=True,
                )
                by_key = {
                    TopicDevice(username=d.user.get_username(), device_name=d.name): d
                    for d in found
                }
            for key in missing:
                self._known[key] = (by_key.get(key), now)
        return {key: self._known[key][0] for key in keys}


def mqtt_messages_store(messages: list[MqttMessage], *, devices: DeviceCache) -> BatchOutcome:
    """Store a batch of broker messages in one transaction; committed when this returns.

    Idempotent (a redelivered message is a duplicate). A message whose topic
    names no active device, or whose payload is not OwnTracks JSON, is
    counted as refused and logged: acknowledging it is right, since
    delivering it again would change nothing. Raises DatabaseError when the
    batch could not be stored (nothing of it is then acknowledged).
    """
    outcome = BatchOutcome(messages=len(messages))
    items: list[DeviceItem] = []
    keys = [topic_device(message.topic) for message in messages]
    known = devices.devices({key for key in keys if key is not None})
    for message, key in zip(messages, keys, strict=True):
        device = known[key] if key is not None else None
        if device is None:
            logger.warning("MQTT message on %r: no active device has this topic", message.topic)
            outcome.refused += 1
            continue
        try:
            records = owntracks_http_records(message.payload)
        except ProtocolError as exc:
            logger.warning("MQTT message on %r refused: %s", message.topic, exc)
            outcome.refused += 1
            continue
        items.append(device_records_check(device=device, records=records))
    for stored in device_items_store(items) if items else []:
        if stored.refused:  # revoked since the cache looked it up
            outcome.refused += 1
            continue
        outcome.written += stored.written
        outcome.duplicate += stored.duplicate
        outcome.quarantined += stored.quarantined
    return outcome


@dataclass(frozen=True, slots=True)
class BrokerAddress:
    host: str
    port: int


def broker_address(url: str) -> BrokerAddress:
    parts = urlsplit(url)
    return BrokerAddress(host=parts.hostname or "127.0.0.1", port=parts.port or 1883)


class FeedSender:
    """Sends the subscriber's feed messages from one event loop of its own, in
    order, while the subscriber goes on with the next batch.

    The subscriber waited for each batch's messages (async_to_sync: a new
    event loop, so a new Redis connection, per batch) before acknowledging the
    batch; with the broker's in-flight window full meanwhile, points queued
    at the broker. The feed is best effort (apps/core/feed.py), so nobody
    waits for it now.
    """

    def __init__(self) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="mqtt-feed", daemon=True
        )
        self._thread.start()
        self._lock: asyncio.Lock | None = None

    async def _send(self, messages: list[tuple[int, FeedMessage]]) -> None:
        if self._lock is None:
            self._lock = asyncio.Lock()  # FIFO: messages leave in the order they came
        async with self._lock:
            await publish_held(messages)

    def send(self, messages: list[tuple[int, FeedMessage]]) -> None:
        asyncio.run_coroutine_threadsafe(self._send(messages), self._loop)

    def close(self, timeout: float = 5.0) -> None:
        """Send what is queued (for at most ``timeout`` seconds), then stop."""
        asyncio.run_coroutine_threadsafe(self._send([]), self._loop).result(timeout)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout)


class Subscriber:
    """One persistent MQTT session; ``run`` stores and acknowledges until ``stop``."""

    def __init__(
        self,
        *,
        url: str | None = None,
        client_id: str | None = None,
        username: str | None = None,
        password: str | None = None,
        on_batch: Callable[[BatchOutcome], None] | None = None,
    ) -> None:
        import paho.mqtt.client as mqtt  # only the subscriber process needs paho

        self.address = broker_address(url or settings.MQTT_URL)
        self.stop_event = threading.Event()
        self.connected = threading.Event()
        self.subscribed = threading.Event()
        self.client_id = client_id or settings.MQTT_CLIENT_ID
        self._inbox: queue.Queue[MqttMessage] = queue.Queue()
        self._connection = 0
        self._on_batch = on_batch
        self._client = mqtt.Client(
            callback_api_version=mqtt.CallbackAPIVersion.VERSION2,
            client_id=self.client_id,
            clean_session=False,
            protocol=mqtt.MQTTv311,
            manual_ack=True,  # acknowledged after commit, not on arrival
        )
        self._client.username_pw_set(
            username or settings.MQTT_SUBSCRIBER_USERNAME,
            password or settings.MQTT_SUBSCRIBER_PASSWORD,
        )
        self._client.on_connect = self._connected
        self._client.on_disconnect = self._disconnected
        self._client.on_message = self._received
        self._client.on_subscribe = self._subscribed

    def _connected(self, client, userdata, flags, reason, properties) -> None:  # type: ignore[no-untyped-def]
        if reason.is_failure:
            logger.error(
                "the MQTT broker at %s:%s refused the subscriber: %s. Is it Datapunk's own"
                " (scripts/mosquitto.sh, reading MQTT_AUTH_DIR's logins), not another broker"
                " on that port?",
                self.address.host,
                self.address.port,
                reason,
            )
            return
        self._connection += 1
        client.subscribe(f"{TOPIC_ROOT}/#", qos=1)
        self.connected.set()

    def _subscribed(self, client, userdata, mid, reasons, properties) -> None:  # type: ignore[no-untyped-def]
        if any(reason.is_failure for reason in reasons):
            logger.error("the MQTT broker refused the subscription to %s/#", TOPIC_ROOT)
            return
        # From here on the broker keeps every QoS 1 message for this session.
        logger.info("subscribed to %s/# with QoS 1 as %s", TOPIC_ROOT, self.client_id)
        self.subscribed.set()

    def _disconnected(self, client, userdata, flags, reason, properties) -> None:  # type: ignore[no-untyped-def]
        self.connected.clear()
        if not self.stop_event.is_set():
            logger.warning("the MQTT broker connection dropped (%s); reconnecting", reason)

    def _received(self, client, userdata, message) -> None:  # type: ignore[no-untyped-def]
        self._inbox.put(
            MqttMessage(
                topic=message.topic,
                payload=message.payload,
                mid=message.mid,
                qos=message.qos,
                connection=self._connection,
            )
        )

    def _batch(self) -> list[MqttMessage]:
        try:
            batch = [self._inbox.get(timeout=0.2)]
        except queue.Empty:
            return []
        while len(batch) < BATCH_MAX_MESSAGES:
            try:
                batch.append(self._inbox.get_nowait())
            except queue.Empty:
                break
        return batch

    def run(self) -> None:
        self._client.reconnect_delay_set(min_delay=1, max_delay=10)
        self._client.connect_async(self.address.host, self.address.port, keepalive=30)
        self._client.loop_start()
        devices = DeviceCache()
        feed = FeedSender()
        try:
            while not self.stop_event.is_set():
                batch = self._batch()
                if batch:
                    self._store(batch, devices, feed)
        finally:
            self._client.disconnect()
            self._client.loop_stop()
            feed.close()

    def _store(self, batch: list[MqttMessage], devices: DeviceCache, feed: FeedSender) -> None:
        while True:
            connection_keep_healthy()
            try:
                # The feed messages of a batch (one per device) go to Redis in one
                # hop after commit, not one event-loop round trip each.
                with feed_messages_held() as messages:
                    outcome = mqtt_messages_store(batch, devices=devices)
                break
            except DatabaseError:
                logger.exception("an MQTT batch could not be stored; trying again")
                if self.stop_event.wait(RETRY_SECONDS):
                    return  # not acknowledged: the broker delivers it again
        for message in batch:  # committed: acknowledged first, the feed after
            # A message of an earlier connection is delivered again by the
            # broker; its mid may now name another message.
            if message.qos > 0 and message.connection == self._connection:
                self._client.ack(message.mid, message.qos)
        if messages:
            feed.send(messages)
        if self._on_batch is not None:
            self._on_batch(outcome)
