"""OwnTracks over MQTT against a real Mosquitto: one broker login per device, its ACL
limited to its own topic, revocation refused by the broker, and a subscriber whose
persistent QoS 1 session loses nothing and stores nothing twice when it is killed."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from apps.core.db.context import user_context
from apps.lake.models import LocationPoint
from apps.stream.devices.broker import TopicDevice, broker_auth_write
from apps.stream.devices.mqtt import (
    DEVICE_CACHE_SECONDS,
    DeviceCache,
    MqttMessage,
    Subscriber,
    mqtt_messages_store,
)
from apps.stream.devices.services import device_create, device_revoke

pytestmark = pytest.mark.django_db(transaction=True)

ROOT = Path(__file__).resolve().parents[2]
NOW = int(time.time())
MOSQUITTO_NOT_AUTHORISED = 5  # mosquitto_pub's exit status: "Connection Refused: not authorised"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def broker(tmp_path, settings):
    """A Mosquitto of this test's own, started by the project's script."""
    port = _free_port()
    directory = tmp_path / "mosquitto"
    env = {**os.environ, "MQTT_URL": f"mqtt://127.0.0.1:{port}", "MQTT_AUTH_DIR": str(directory)}
    subprocess.run(["bash", "scripts/mosquitto.sh", "start"], cwd=ROOT, env=env, check=True)
    settings.MQTT_URL = env["MQTT_URL"]
    settings.MQTT_AUTH_DIR = directory
    settings.MQTT_BROKER_PIDFILE = directory / "mosquitto.pid"
    broker_auth_write()  # as setup.sh does after migrating (manage.py mqtt_auth)
    yield port
    subprocess.run(["bash", "scripts/mosquitto.sh", "stop"], cwd=ROOT, env=env, check=False)


def _mqtt_device(user, name="phone"):
    with user_context(user.pk):
        return device_create(user_id=user.pk, name=name, kind="owntracks-mqtt")


def location(tst: int, lat=48.8566, lon=2.3522) -> str:
    return json.dumps({"_type": "location", "tst": tst, "lat": lat, "lon": lon, "acc": 10})


def publish(port, login, password, topic, messages: list[str]) -> int:
    """mosquitto_pub, QoS 1, one message per line; its exit status."""
    return subprocess.run(
        ["mosquitto_pub", "-p", str(port), "-u", login, "-P", password, "-q", "1"]
        + ["-t", topic, "-l"],
        input="\n".join(messages) + "\n",
        text=True,
        capture_output=True,
        timeout=30,
    ).returncode


def publish_when_accepted(port, login, password, topic, messages) -> int:
    """The broker rereads its logins on SIGHUP, a moment after the device is made."""
    deadline = time.monotonic() + 5
    while (
        status := publish(port, login, password, topic, messages)
    ) and time.monotonic() < deadline:
        time.sleep(0.1)
    return status


def points_of(user) -> list[LocationPoint]:
    with user_context(user.pk):
        return list(LocationPoint.objects.order_by("recorded_at"))


def wait_for(condition, seconds=15.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return False


@pytest.fixture
def subscriber(broker):
    """The subscriber in a thread of this test (the kill test runs the command)."""
    running = Subscriber(client_id=f"test-{broker}")
    thread = threading.Thread(target=running.run, daemon=True)
    thread.start()
    assert running.connected.wait(10), "the subscriber could not log in to the broker"
    yield running
    running.stop_event.set()
    thread.join(10)


def test_a_device_publishes_and_the_point_lands_as_its_user(owner, outsider, broker, subscriber):
    issued = _mqtt_device(owner)

    status = publish_when_accepted(
        broker, "owner/phone", issued.credential, "owntracks/owner/phone", [location(NOW - 60)]
    )

    assert status == 0
    assert wait_for(lambda: len(points_of(owner)) == 1)
    [point] = points_of(owner)
    assert point.source == "owntracks"  # the app; the device and its user say the rest
    assert point.data["device"] == "phone"
    assert (round(point.point.y, 4), round(point.point.x, 4)) == (48.8566, 2.3522)
    assert points_of(outsider) == []  # RLS: the outsider sees none of it


def test_owntracks_default_topic_and_event_subtopic_are_read_by_type(owner, broker, subscriber):
    issued = _mqtt_device(owner)

    # OwnTracks' default base topic owntracks/%u/%d adds the DeviceID level.
    status = publish_when_accepted(
        broker, "owner/phone", issued.credential, "owntracks/owner/phone/phone", [location(NOW - 9)]
    )

    assert status == 0
    assert wait_for(lambda: len(points_of(owner)) == 1)


def test_a_device_cannot_publish_into_another_users_topic(owner, outsider, broker, subscriber):
    issued = _mqtt_device(owner)
    _mqtt_device(outsider)
    assert (
        publish_when_accepted(
            broker, "owner/phone", issued.credential, "owntracks/owner/phone", [location(NOW - 30)]
        )
        == 0
    )

    # MQTT 3.1.1 has no refusal for a publish: the broker drops it (its ACL).
    publish(
        broker,
        "owner/phone",
        issued.credential,
        "owntracks/outsider/phone",
        [location(NOW - 20, lat=1.0)],
    )
    # And a device's credential is no login for another of its owner's devices.
    other = publish(
        broker, "owner/tablet", issued.credential, "owntracks/owner/tablet", [location(NOW - 10)]
    )

    assert other == MOSQUITTO_NOT_AUTHORISED
    assert wait_for(lambda: len(points_of(owner)) == 1)
    time.sleep(1.0)  # what the broker dropped would have arrived by now
    assert len(points_of(owner)) == 1
    assert points_of(outsider) == []


def test_a_revoked_device_is_refused_by_the_broker(owner, broker, subscriber):
    issued = _mqtt_device(owner)
    login = ("owner/phone", issued.credential, "owntracks/owner/phone")
    assert publish_when_accepted(broker, *login, [location(NOW - 60)]) == 0

    with user_context(owner.pk):
        assert device_revoke(user_id=owner.pk, device_id=issued.device.pk)

    assert wait_for(
        lambda: publish(broker, *login, [location(NOW - 50)]) == MOSQUITTO_NOT_AUTHORISED, 5
    )
    time.sleep(0.5)
    assert len(points_of(owner)) == 1


def test_no_shared_login_the_broker_files_hold_one_line_per_device(
    owner, outsider, broker, settings
):
    _mqtt_device(owner)
    _mqtt_device(owner, name="tablet")
    _mqtt_device(outsider)
    with user_context(owner.pk):
        device_create(user_id=owner.pk, name="http-phone", kind="owntracks")

    passwd = (Path(settings.MQTT_AUTH_DIR) / "passwd").read_text()
    logins = sorted(line.split(":")[0] for line in passwd.splitlines())
    acl = (Path(settings.MQTT_AUTH_DIR) / "acl").read_text()

    assert logins == ["datapunk-subscriber", "outsider/phone", "owner/phone", "owner/tablet"]
    assert "user owner/tablet\ntopic write owntracks/owner/tablet\n" in acl
    assert "topic read owntracks/#" in acl.split("user owner/phone")[0]  # the subscriber's only


def test_killing_the_subscriber_mid_stream_loses_nothing_and_stores_nothing_twice(
    owner, broker, child_env, background, settings, tmp_path
):
    issued = _mqtt_device(owner)
    env = {
        **child_env,
        "MQTT_URL": f"mqtt://127.0.0.1:{broker}",
        "MQTT_AUTH_DIR": str(settings.MQTT_AUTH_DIR),
        "MQTT_CLIENT_ID": f"kill-test-{broker}",
    }
    command = [sys.executable, "manage.py", "mqtt_subscribe"]
    first = background("subscriber-1", command, env)
    log = tmp_path / "subscriber-1.log"
    # From its subscription on, the broker keeps what is published for its session.
    assert wait_for(lambda: log.exists() and "subscribed to owntracks/#" in log.read_text(), 60)
    login = ("owner/phone", issued.credential, "owntracks/owner/phone")
    total = 3000
    messages = [location(NOW - 3600 + n, lat=40 + n / 10_000) for n in range(total)]

    # The broker has reloaded the device's login (an lwt message stores nothing).
    assert publish_when_accepted(broker, *login, ['{"_type": "lwt", "tst": 1}']) == 0
    sender = threading.Thread(target=publish, args=(broker, *login, messages))
    sender.start()
    assert wait_for(lambda: len(points_of(owner)) > 0, 15)
    first.send_signal(signal.SIGKILL)  # mid-stream: no clean disconnect, no last acks
    first.wait(10)
    stored_at_kill = len(points_of(owner))
    sender.join(60)
    background("subscriber-2", command, env)

    assert wait_for(lambda: len(points_of(owner)) >= total, 60)
    time.sleep(1.0)
    points = points_of(owner)
    assert 0 < stored_at_kill < total
    assert len(points) == total
    assert len({point.recorded_at for point in points}) == total


def test_a_batch_is_stored_as_each_topics_device_and_a_revoked_device_is_ignored(
    owner, outsider, django_assert_max_num_queries
):
    mine, theirs = _mqtt_device(owner), _mqtt_device(outsider)
    tablet = _mqtt_device(owner, name="tablet")
    now = [0.0]
    devices = DeviceCache(clock=lambda: now[0])

    def message(topic, tst, mid):
        return MqttMessage(
            topic=topic, payload=location(tst).encode(), mid=mid, qos=1, connection=1
        )

    batch = [
        message("owntracks/owner/phone", NOW - 50, 1),
        message("owntracks/outsider/phone", NOW - 50, 2),
        message("owntracks/owner/tablet", NOW - 40, 3),
        message("owntracks/nobody/phone", NOW - 30, 4),
        message("owntracks/owner/phone", NOW - 50, 5),  # delivered again
    ]
    # The three devices are found in one lookup, not one each.
    with django_assert_max_num_queries(4):
        known = devices.devices(
            {
                TopicDevice("owner", "phone"),
                TopicDevice("outsider", "phone"),
                TopicDevice("owner", "tablet"),
            }
        )
    assert {d.pk for d in known.values()} == {mine.device.pk, theirs.device.pk, tablet.device.pk}

    outcome = mqtt_messages_store(batch, devices=devices)

    assert (outcome.written, outcome.duplicate, outcome.refused) == (3, 1, 1)
    assert len(points_of(owner)) == 2 and len(points_of(outsider)) == 1
    with user_context(owner.pk):
        device_revoke(user_id=owner.pk, device_id=mine.device.pk)
    now[0] += DEVICE_CACHE_SECONDS
    later = mqtt_messages_store([message("owntracks/owner/phone", NOW - 20, 6)], devices=devices)
    assert (later.written, later.refused) == (0, 1)
    assert len(points_of(owner)) == 2
