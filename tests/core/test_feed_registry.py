"""The live feed carries only message types that an app registered."""

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from apps.core.feed import (
    UnknownFeedMessage,
    feed_group,
    feed_messages_held,
    message_types,
    publish,
)


def test_every_app_registers_the_types_it_publishes():
    assert {
        "import.progress",  # lake
        "import.finished",
        "records.stored",
        "export.progress",  # privacy
        "export.finished",
        "delete.finished",
        "connector.status",  # connectors
        "location.stored",  # stream/devices
    } <= message_types()


def test_an_unregistered_type_is_refused_and_nothing_is_sent():
    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(feed_group(4242), channel)
    try:
        with pytest.raises(UnknownFeedMessage, match="import.progres"):
            publish(4242, {"type": "import.progres", "data": {}})
        with feed_messages_held() as held, pytest.raises(UnknownFeedMessage):
            publish(4242, {"type": "nobody.registered", "data": {}})
        assert held == []
        publish(4242, {"type": "import.progress", "data": {"n": 1}})
        received = async_to_sync(layer.receive)(channel)
        assert received["message"] == {"type": "import.progress", "data": {"n": 1}}
    finally:
        async_to_sync(layer.group_discard)(feed_group(4242), channel)
