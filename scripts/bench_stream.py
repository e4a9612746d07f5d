#!/usr/bin/env python
"""Benchmark: ingest over HTTP to a frame on the live feed's websocket.

Serves Datapunk as scripts/demo.sh does (the nginx front, --processes daphne
processes behind it on unix sockets, the project's PostgreSQL and Redis),
opens /ws/feed/ through the front as a bench user, and has a second process
POST events (--batch per request) to /api/ingest/events/ at a fixed rate (open loop: each request has its slot
on a schedule, so a slow server shows as latency, not as a slower sender).
For every event it measures the time from its scheduled request to the frame
that carries it, and prints, all measured in this run:

  - baseline: publish() straight into the channel layer to the frame (no HTTP,
    no database), at the first rate: the floor any stored event pays;
  - p50 / p99 / max at each rate (default 250, 500, then up), with lost frames
    and non-202 answers; the target is p99 < 50 ms at 500 events/s;
  - the maximum sustained rate: the highest step with no frame lost, every
    answer 202, the schedule kept, and p99 under --p99-limit.

    .venv/bin/python scripts/bench_stream.py [--batch 25] [--processes 2] [--rates 250,500,...]

The bench user and its events are deleted afterwards.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import socket
import struct
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "datapunk.settings")

DEFAULT_RATES = "250,500,750,1000,1500,2000,3000"
SENDER_CONNECTIONS = 64  # keep-alive connections the sender may have in flight


# --- the sender (second process) ---------------------------------------------------------


async def _http_post(reader, writer, host: str, path: str, key: str, body: bytes) -> int:
    writer.write(
        (
            f"POST {path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {key}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
        ).encode()
        + body
    )
    await writer.drain()
    status_line = await reader.readline()
    length = 0
    while (line := await reader.readline()) not in (b"\r\n", b""):
        name, _, value = line.decode("latin-1").partition(":")
        if name.strip().lower() == "content-length":
            length = int(value)
    if length:
        await reader.readexactly(length)
    return int(status_line.split()[1])


async def _send(
    port: int, key: str, rate: float, seconds: float, run: str, out: Path, batch: int
) -> None:
    host = f"127.0.0.1:{port}"
    requests = int(rate * seconds / batch)
    queue: asyncio.Queue[int | None] = asyncio.Queue()
    scheduled: dict[int, float] = {}
    answered: dict[int, float] = {}
    statuses: dict[str, int] = {}
    late = 0

    async def worker() -> None:
        reader = writer = None
        while (request := await queue.get()) is not None:
            seqs = range(request * batch, (request + 1) * batch)
            events = [
                {"kind": "bench.tick", "occurred_at": time.time(), "title": f"bench {run} {seq}"}
                for seq in seqs
            ]
            body = json.dumps(events[0] if batch == 1 else events).encode()
            try:
                if writer is None:
                    reader, writer = await asyncio.open_connection("127.0.0.1", port)
                status = await _http_post(reader, writer, host, "/api/ingest/events/", key, body)
                for seq in seqs:
                    answered[seq] = time.monotonic()
            except (OSError, asyncio.IncompleteReadError, ValueError, IndexError):
                status, writer = 0, None
            statuses[str(status)] = statuses.get(str(status), 0) + 1

    workers = [asyncio.create_task(worker()) for _ in range(SENDER_CONNECTIONS)]
    start = time.monotonic() + 0.2
    for request in range(requests):
        slot = start + request * batch / rate
        delay = slot - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        elif delay < -0.005:
            late += 1
        for seq in range(request * batch, (request + 1) * batch):
            scheduled[seq] = slot  # an event's time is its request's slot on the schedule
        queue.put_nowait(request)
    for _ in workers:
        queue.put_nowait(None)
    await asyncio.gather(*workers)
    out.write_text(
        json.dumps(
            {"scheduled": scheduled, "answered": answered, "statuses": statuses, "late": late}
        )
    )


# --- the websocket client -----------------------------------------------------------------


class FeedSocket:
    """A minimal RFC 6455 client: enough to read the feed's text frames and answer pings."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
        self.reader, self.writer = reader, writer

    @classmethod
    async def connect(cls, port: int, cookie: str) -> FeedSocket:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        key = base64.b64encode(os.urandom(16)).decode()
        writer.write(
            (
                f"GET /ws/feed/ HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
                f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
                f"Origin: http://127.0.0.1:{port}\r\nCookie: {cookie}\r\n\r\n"
            ).encode()
        )
        status = await reader.readline()
        if b" 101 " not in status:
            raise SystemExit(f"websocket refused: {status!r}")
        while await reader.readline() not in (b"\r\n", b""):
            pass
        return cls(reader, writer)

    async def frames(self):
        while True:
            head = await self.reader.readexactly(2)
            opcode, length = head[0] & 0x0F, head[1] & 0x7F
            if length == 126:
                (length,) = struct.unpack("!H", await self.reader.readexactly(2))
            elif length == 127:
                (length,) = struct.unpack("!Q", await self.reader.readexactly(8))
            payload = await self.reader.readexactly(length)
            if opcode == 0x9:  # ping: answer with a masked pong
                mask = os.urandom(4)
                masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
                self.writer.write(bytes([0x8A, 0x80 | len(payload)]) + mask + masked)
            elif opcode == 0x1:
                yield time.monotonic(), payload
            elif opcode == 0x8:
                return


# --- the measuring process -----------------------------------------------------------------


@dataclass
class Step:
    rate: float
    sent: int = 0
    latencies_ms: list[float] = field(default_factory=list)
    answers_ms: list[float] = field(default_factory=list)  # request to its 202
    statuses: dict[str, int] = field(default_factory=dict)
    late: int = 0
    cpu_ms_per_event: float = 0.0  # daphne's CPU time (user + system) over the step / events

    @property
    def lost(self) -> int:
        return self.sent - len(self.latencies_ms)

    def percentile(self, p: float, values: list[float] | None = None) -> float:
        values = self.latencies_ms if values is None else values
        if not values:
            return float("inf")
        ordered = sorted(values)
        return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]

    def sustained(self, p99_limit: float) -> bool:
        return (
            self.lost == 0
            and set(self.statuses) == {"202"}
            and self.late <= self.sent * 0.01
            and self.percentile(99) < p99_limit
        )

    def row(self) -> str:
        errors = {k: v for k, v in self.statuses.items() if k != "202"}
        return (
            f"{self.rate:>7,.0f}/s {self.sent:>7,} sent {self.lost:>6,} lost  "
            f"p50 {self.percentile(50):8.1f} ms  p99 {self.percentile(99):8.1f} ms  "
            f"max {max(self.latencies_ms, default=float('inf')):8.1f} ms  "
            f"(202 answer p50 {self.percentile(50, self.answers_ms):.1f} ms)"
            + (f"  answers {errors}" if errors else "")
            + f"  daphne CPU {self.cpu_ms_per_event:.1f} ms/event"
            + (f"  sender late {self.late}" if self.late else "")
        )


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_for(
    address: Path | tuple[str, int], process: subprocess.Popen, seconds: float = 60
) -> None:
    """Until ``process`` accepts connections on ``address`` (a unix socket or host, port)."""
    deadline = time.monotonic() + seconds
    family = socket.AF_UNIX if isinstance(address, Path) else socket.AF_INET
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"{address} : its process exited; see the logs")
        with socket.socket(family) as sock:
            if sock.connect_ex(str(address) if isinstance(address, Path) else address) == 0:
                return
        time.sleep(0.1)
    raise SystemExit(f"nothing listens on {address}")


def _wait_for_preload(log: Path, processes: int, seconds: float = 120) -> None:
    """Until every daphne has loaded the PII model (DATAPUNK_PII_PRELOAD): measuring
    while a process loads it would time the loading, not the feed."""
    from django.conf import settings

    # The daphnes inherit this process's environment, so they read the same setting.
    if not settings.DATAPUNK_PII_PRELOAD:
        return
    deadline = time.monotonic() + seconds
    while log.read_text(errors="replace").count("PII model loaded") < processes:
        if time.monotonic() > deadline:
            raise SystemExit(f"the daphne processes did not load the PII model; see {log}")
        time.sleep(0.2)


async def _flush_layer() -> None:
    """Delete the benchmark's feed group from Redis (its channel prefix is its own)."""
    from channels.layers import get_channel_layer

    await get_channel_layer().flush()


def _drop_queue(name: str) -> None:
    """Delete the benchmark's Celery queue, the tasks waiting in it and its binding."""
    from kombu import Exchange, Queue

    from datapunk.celery import app

    with app.connection_for_write() as connection:
        # Declared as Celery declares its default queue: kombu deletes only what it knows.
        queue = Queue(name, Exchange(name), routing_key=name)(connection.default_channel)
        queue.declare()
        queue.delete()


async def _collect(socket_: FeedSocket, arrivals: dict[str, float]) -> None:
    async for arrived, payload in socket_.frames():
        message = json.loads(payload)
        if message.get("type") != "records.stored":
            continue
        for event in message["data"].get("events", []):
            arrivals.setdefault(event["title"], arrived)


async def _baseline(socket_arrivals: dict[str, float], user_id: int, rate: float, count: int):
    """publish() to the frame, from this process: no HTTP, no database."""
    from channels.layers import get_channel_layer

    from apps.core.feed import feed_group

    layer = get_channel_layer()
    sent: dict[str, float] = {}
    start = time.monotonic() + 0.1
    for seq in range(count):
        slot = start + seq / rate
        await asyncio.sleep(max(0.0, slot - time.monotonic()))
        title = f"baseline {seq}"
        sent[title] = time.monotonic()
        message = {"type": "records.stored", "data": {"events": [{"title": title}]}}
        await layer.group_send(feed_group(user_id), {"type": "feed.message", "message": message})
    await asyncio.sleep(1.0)
    step = Step(rate=rate, sent=count, statuses={"202": count})
    step.latencies_ms = [
        (socket_arrivals[t] - sent[t]) * 1000 for t in sent if t in socket_arrivals
    ]
    return step


def _cpu_seconds(pids: list[int]) -> float:
    """User + system CPU of the daphne processes together."""
    total = 0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


async def _run_step(port, key, socket_arrivals, rate, seconds, drain, daphne_pids, batch=1) -> Step:
    run = uuid.uuid4().hex[:8]
    cpu_before = _cpu_seconds(daphne_pids)
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as handle:
        out = Path(handle.name)
    sender = await asyncio.create_subprocess_exec(
        sys.executable,
        __file__,
        "--send",
        json.dumps(
            {
                "port": port,
                "key": key,
                "rate": rate,
                "seconds": seconds,
                "run": run,
                "out": str(out),
                "batch": batch,
            }
        ),
    )
    await sender.wait()
    await asyncio.sleep(drain)  # frames still in flight
    result = json.loads(out.read_text())
    out.unlink()
    step = Step(
        rate=rate, sent=len(result["scheduled"]), statuses=result["statuses"], late=result["late"]
    )
    step.cpu_ms_per_event = (_cpu_seconds(daphne_pids) - cpu_before) * 1000 / max(step.sent, 1)
    for seq, slot in result["scheduled"].items():
        if seq in result["answered"]:
            step.answers_ms.append((result["answered"][seq] - slot) * 1000)
        arrived = socket_arrivals.get(f"bench {run} {seq}")
        if arrived is not None:
            step.latencies_ms.append((arrived - slot) * 1000)
    return step


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="length of each rate step")
    parser.add_argument(
        "--rates", default=DEFAULT_RATES, help="events/s, comma-separated, ascending"
    )
    parser.add_argument(
        "--p99-limit", type=float, default=250.0, help="ms; above it a rate is not sustained"
    )
    parser.add_argument("--drain", type=float, default=3.0, help="seconds to wait for late frames")
    parser.add_argument(
        "--batch", type=int, default=1, help="events per request (1: one request per event)"
    )
    parser.add_argument(
        "--processes",
        type=int,
        default=2,
        help="daphne processes behind the front (scripts/demo.sh's WEB_PROCESSES)",
    )
    parser.add_argument("--send", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.send:  # the second process
        job = json.loads(args.send)
        asyncio.run(
            _send(
                job["port"],
                job["key"],
                job["rate"],
                job["seconds"],
                job["run"],
                Path(job["out"]),
                job["batch"],
            )
        )
        return

    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth import (
        BACKEND_SESSION_KEY,
        HASH_SESSION_KEY,
        SESSION_KEY,
        get_user_model,
    )
    from django.contrib.sessions.backends.db import SessionStore

    from apps.core.db.context import user_context
    from apps.core.front import daphne_command, front_config_write, nginx_command
    from apps.stream.services import ingest_key_rotate

    user = get_user_model().objects.create_user(username=f"bench-stream-{uuid.uuid4().hex[:8]}")
    with user_context(user.pk):
        key = ingest_key_rotate(user_id=user.pk)
    session = SessionStore()
    session.update(
        {
            SESSION_KEY: str(user.pk),
            BACKEND_SESSION_KEY: settings.AUTHENTICATION_BACKENDS[0],
            HASH_SESSION_KEY: user.get_session_auth_hash(),
        }
    )
    session.save()
    cookie = f"{settings.SESSION_COOKIE_NAME}={session.session_key}"

    port = _free_port()
    run_dir = Path(tempfile.mkdtemp(prefix="bench-stream-"))
    log = run_dir / "web.log"
    run_name = f"bench-{uuid.uuid4().hex[:8]}"
    # The follow-up tasks the stores queue (embeddings, daily series) go to a queue of the
    # benchmark's own, dropped at the end: no worker runs them, nor should the demo's later.
    env = {**os.environ, "CHANNELS_PREFIX": run_name, "CELERY_QUEUE": run_name, "LOG_LEVEL": "INFO"}
    # As scripts/demo.sh serves it: daphne processes on unix sockets behind the nginx front.
    sockets = [run_dir / f"daphne-{n}.sock" for n in range(1, args.processes + 1)]
    with log.open("ab") as log_file:
        processes = [
            subprocess.Popen(
                daphne_command(path),
                cwd=ROOT,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=log_file,
            )
            for path in sockets
        ]
        config = front_config_write(
            run_dir, listen=f"127.0.0.1:{port}", upstreams=[f"unix:{path}" for path in sockets]
        )
        front = subprocess.Popen(
            nginx_command(config=config, error_log=run_dir / "front-error.log"),
            stdout=subprocess.DEVNULL,
            stderr=log_file,
        )
    # This process publishes the baseline into daphne's layer: same prefix.
    layer: dict[str, Any] = dict(settings.CHANNEL_LAYERS["default"])
    layer["CONFIG"] = {**layer["CONFIG"], "prefix": env["CHANNELS_PREFIX"]}
    settings.CHANNEL_LAYERS = {"default": layer}
    print(
        f"front on 127.0.0.1:{port}, {args.processes} daphne process(es) (logs in {run_dir}); "
        f"{args.seconds:g} s per rate; {args.batch} event(s) per request; {os.cpu_count()} cores"
    )
    try:
        for path, process in zip(sockets, processes, strict=True):
            _wait_for(path, process)
        _wait_for(("127.0.0.1", port), front)
        _wait_for_preload(log, args.processes)
        pids = [process.pid for process in processes]
        steps = asyncio.run(_measure(port, cookie, key.api_key, user.pk, pids, args))
    finally:
        for process in [front, *processes]:
            process.terminate()
        for process in [front, *processes]:
            process.wait(timeout=30)
        with user_context(user.pk):
            user.delete()
        _drop_queue(run_name)
        asyncio.run(_flush_layer())
    good = [s for s in steps if s.sustained(args.p99_limit)]
    at_500 = next((s for s in steps if s.rate == 500), None)
    print()
    if at_500 is not None:
        verdict = "meets" if at_500.percentile(99) < 50 and at_500.lost == 0 else "MISSES"
        print(
            f"at 500 events/s: p50 {at_500.percentile(50):.1f} ms, p99 {at_500.percentile(99):.1f} ms, "
            f"{at_500.lost} lost: {verdict} the target p99 < 50 ms"
        )
    print(
        "maximum sustained rate without loss: "
        + (f"{max(s.rate for s in good):,.0f} events/s" if good else "none of the rates tried")
        + f" (no frame lost, all 202, schedule kept, p99 < {args.p99_limit:g} ms)"
    )


async def _measure(
    port: int, cookie: str, key: str, user_id: int, daphne_pids: list[int], args
) -> list[Step]:
    feed = await FeedSocket.connect(port, cookie)
    arrivals: dict[str, float] = {}
    collector = asyncio.create_task(_collect(feed, arrivals))
    rates = [float(r) for r in args.rates.split(",")]
    baseline = await _baseline(arrivals, user_id, rates[0], count=int(rates[0] * 2))
    print(
        f"baseline publish → frame at {rates[0]:,.0f}/s: p50 {baseline.percentile(50):.2f} ms, "
        f"p99 {baseline.percentile(99):.2f} ms, {baseline.lost} lost"
    )
    # Warm-up: first requests open database connections and import code.
    await _run_step(port, key, arrivals, 50, 2, 1.0, daphne_pids)
    steps = []
    for rate in rates:
        step = await _run_step(
            port, key, arrivals, rate, args.seconds, args.drain, daphne_pids, args.batch
        )
        steps.append(step)
        p50 = step.percentile(50)
        ratio = (
            f"  ({p50 / max(baseline.percentile(50), 0.01):.0f}× baseline p50)"
            if step.latencies_ms
            else ""
        )
        print(step.row() + ratio, flush=True)
        if not step.sustained(args.p99_limit):
            break  # frames went missing or latency exploded: the previous step is the maximum
    collector.cancel()
    return steps


if __name__ == "__main__":
    main()
