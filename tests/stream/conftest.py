"""Fixtures of the inbound side: ingest keys and signed requests."""

from __future__ import annotations

import json
import time

import pytest
from rest_framework.test import APIClient

from apps.stream.services import ingest_key_rotate, webhook_subscription_create
from apps.stream.signing import ingest_signature
from tests.acting import as_user


@pytest.fixture
def api():
    return APIClient()


def ingest_key_for(user):
    """New ingest credentials of ``user``, made as ``user`` (as the key page makes them)."""
    with as_user(user):
        return ingest_key_rotate(user_id=user.pk)


def subscription_for(user, **fields):
    """A provider's webhook subscription of ``user``, registered as ``user`` (as the connector does)."""
    with as_user(user):
        return webhook_subscription_create(user_id=user.pk, **fields)


@pytest.fixture
def owner_key(owner):
    return ingest_key_for(owner)


def signed_headers(key, body: bytes, *, timestamp: int | None = None, secret: str | None = None):
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    return {
        "HTTP_X_DATAPUNK_KEY": key.key_id,
        "HTTP_X_DATAPUNK_TIMESTAMP": stamp,
        "HTTP_X_DATAPUNK_SIGNATURE": ingest_signature(
            secret=secret or key.secret, timestamp=stamp, body=body
        ),
    }


def as_body(payload) -> bytes:
    return json.dumps(payload).encode()


@pytest.fixture(autouse=True)
def _broker_files_of_this_test(tmp_path, settings):
    """Making an MQTT device rewrites the broker's logins: never the project's own
    (var/mosquitto) nor a signal to the broker running beside the tests."""
    settings.MQTT_AUTH_DIR = tmp_path / "mosquitto"
    settings.MQTT_BROKER_PIDFILE = tmp_path / "mosquitto" / "mosquitto.pid"
