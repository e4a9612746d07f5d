"""A bound on what daphne holds for one websocket that its client does not read.

daphne writes every message the application sends straight into the socket's
Twisted transport, which buffers without limit: a client that opens the feed
and never reads makes the process hold everything published to that user (it
is dropped only once a keepalive ping goes unanswered, ~50 s later, and the
memory then stays with the process). ASGI gives the application no view of
that buffer, so the bound sits at daphne's send: once more than
DATAPUNK_FEED_SEND_BUFFER_BYTES are waiting, the socket is closed with
SLOW_CONSUMER instead of taking more, and autobahn drops the connection (and
the buffer with it) when the close is not answered within a second.
"""

from __future__ import annotations

import logging
from typing import Any

logger = logging.getLogger(__name__)

# Close code for "you do not read what is sent" (4000-4999 are the application's own;
# 413 as in HTTP's "too large": the backlog, not a message).
SLOW_CONSUMER = 4413


def transport_backlog_bytes(transport: Any) -> int:
    """Bytes a Twisted transport (TCP or unix socket) has accepted and not yet
    handed to the kernel: its write buffer, and what waits to join it."""
    written_buffer = getattr(transport, "dataBuffer", b"")
    return (
        len(written_buffer)
        - getattr(transport, "offset", 0)
        + getattr(transport, "_tempDataLen", 0)
    )


def send_buffer_bound_install(limit_bytes: int) -> None:
    """Make daphne's websocket send refuse to grow one socket's backlog past
    ``limit_bytes``. Idempotent; nothing when daphne is not installed or the
    limit is 0 (no bound)."""
    if limit_bytes <= 0:
        return
    try:
        from daphne.ws_protocol import WebSocketProtocol
    except ImportError:  # pragma: no cover - daphne is a dependency
        return
    send = WebSocketProtocol.serverSend
    if getattr(send, "bounded_to", None) is not None:
        return

    def bounded_send(protocol: Any, content: Any, binary: bool = False) -> None:
        if protocol.state not in (protocol.STATE_OPEN, protocol.STATE_CONNECTING):
            return  # closing: what is still published to it goes nowhere
        backlog = transport_backlog_bytes(protocol.transport)
        if backlog > limit_bytes:
            logger.warning(
                "websocket %s reads too slowly: %s bytes waiting; closed",
                protocol.client_addr,
                backlog,
            )
            protocol.sendClose(
                code=SLOW_CONSUMER,
                reason=f"slow consumer: over {limit_bytes} bytes unread; reconnect",
            )
            return
        send(protocol, content, binary)

    bounded_send.bounded_to = limit_bytes  # type: ignore[attr-defined]
    WebSocketProtocol.serverSend = bounded_send
