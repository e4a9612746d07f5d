#!/usr/bin/env python
"""Benchmark: live location, the way phones send it, against baselines of the same run.

Serves Datapunk as scripts/demo.sh does (the nginx front, --processes daphne
processes on unix sockets, the project's PostgreSQL and Redis), starts a
Mosquitto of its own (scripts/mosquitto.sh) and the subscriber
(manage.py mqtt_subscribe), and measures, each at a fixed rate (open loop:
every request or message has its slot on a schedule, so a slow server shows
as latency, not as a slower sender):

  HTTP, one fix per request, from a second process through the front:
    - baseline: GET /health/live (the front and daphne, no database);
    - OwnTracks HTTP (/api/devices/owntracks/, Basic auth, one location);
    - the signed ingest endpoint (/api/ingest/events/, one event, HMAC-signed);
    requests/s answered, p50/p99 from slot to answer, lost (no answer or not 2xx),
    and the points found stored afterwards.
  MQTT, --devices simulated OwnTracks devices, each with its own broker login:
    - baseline: publish → a plain subscriber on the broker (no database);
    - publish → the point's frame on the live feed's websocket (it is sent
      after commit, so this bounds publish → stored from above);
    points/s, lost and duplicated (counted in the database), p50/p99.

    .venv/bin/python scripts/bench_live.py [--seconds 5] [--http-rate 200] [--mqtt-rate 500]

Figures are printed with their ratio to the baseline. The bench user, its
devices and points are deleted afterwards.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import struct
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "datapunk.settings")

import bench_stream  # noqa: E402  (the front, the websocket client, the waits)

HTTP_CONNECTIONS = 64

# Issue #19's targets, each figure is printed against its own (on 2 cores).
HTTP_TARGET_RATE, HTTP_TARGET_P99_MS = 1_000.0, 50.0  # one fix (event) per request
MQTT_TARGET_RATE = 2_000.0  # points/s from 100 devices
MQTT_TARGET_STORED_P99_MS, MQTT_TARGET_FRAME_P99_MS = 100.0, 150.0
FIGURES = ("http-baseline", "owntracks", "ingest", "mqtt-baseline", "mqtt")


# --- figures ------------------------------------------------------------------------------


@dataclass
class Figures:
    name: str
    sent: int = 0
    seconds: float = 1.0
    latencies_ms: list[float] = field(default_factory=list)
    failed: int = 0  # no answer, or not 2xx
    stored: int | None = None
    duplicated: int | None = None
    target: tuple[float, float] | None = None  # (rate/s, p99 ms)

    def percentile(self, p: float) -> float:
        if not self.latencies_ms:
            return float("inf")
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]

    @property
    def lost(self) -> int:
        if self.stored is not None:
            return self.sent - self.stored
        return self.sent - len(self.latencies_ms)

    def row(self, baseline: Figures | None = None) -> str:
        rate = len(self.latencies_ms) / self.seconds
        text = (
            f"{self.name:<34} {rate:>7,.0f}/s  p50 {self.percentile(50):7.1f} ms  "
            f"p99 {self.percentile(99):7.1f} ms  lost {self.lost}"
        )
        if self.failed:
            text += f"  failed {self.failed}"
        if self.duplicated is not None:
            text += f"  duplicated {self.duplicated}"
        if baseline is not None and baseline.latencies_ms:
            text += (
                f"  (×{self.percentile(99) / max(baseline.percentile(99), 0.01):.1f} baseline p99,"
                f" ×{rate / max(len(baseline.latencies_ms) / baseline.seconds, 0.01):.2f} its rate)"
            )
        if self.target is not None:
            target_rate, target_p99 = self.target
            met = rate >= 0.98 * target_rate and self.percentile(99) < target_p99 and not self.lost
            text += (
                f"\n{'':<34} target {target_rate:,.0f}/s p99 < {target_p99:.0f} ms:"
                f" rate ×{rate / target_rate:.2f}, p99 ×{self.percentile(99) / target_p99:.2f}"
                f" of the target, {'met' if met else 'NOT met'}"
            )
        return text


# --- the HTTP sender (second process) ------------------------------------------------------


def _request(job: dict[str, Any], seq: int) -> bytes:
    host = f"127.0.0.1:{job['port']}"
    kind = job["kind"]
    if kind == "health":
        return f"GET /health/live HTTP/1.1\r\nHost: {host}\r\n\r\n".encode()
    if kind == "owntracks":
        body = json.dumps(
            {
                "_type": "location",
                "tst": job["tst"],
                "lat": 10 + seq * 1e-6,
                "lon": job["lon"],
                "acc": 10,
            }
        ).encode()
        auth = base64.b64encode(f"{job['username']}:{job['credential']}".encode()).decode()
        headers = f"Authorization: Basic {auth}\r\n"
        path = "/api/devices/owntracks/"
    else:
        from apps.stream.signing import ingest_signature

        event = {"kind": "bench.tick", "occurred_at": time.time(), "title": f"{job['run']} {seq}"}
        body = json.dumps(event).encode()
        stamp = str(int(time.time()))
        signature = ingest_signature(secret=job["secret"], timestamp=stamp, body=body)
        headers = (
            f"X-Datapunk-Key: {job['key_id']}\r\nX-Datapunk-Timestamp: {stamp}\r\n"
            f"X-Datapunk-Signature: {signature}\r\n"
        )
        path = "/api/ingest/events/"
    return (
        f"POST {path} HTTP/1.1\r\nHost: {host}\r\n{headers}"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode() + body


async def _http_send(job: dict[str, Any]) -> None:
    count = int(job["rate"] * job["seconds"])
    queue: asyncio.Queue[int | None] = asyncio.Queue()
    scheduled: dict[int, float] = {}
    latencies: list[float] = []
    failed = 0

    async def worker() -> None:
        nonlocal failed
        connection: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None
        while (seq := await queue.get()) is not None:
            try:
                if connection is None:
                    connection = await asyncio.open_connection("127.0.0.1", job["port"])
                reader, writer = connection
                writer.write(_request(job, seq))
                await writer.drain()
                status = int((await reader.readline()).split()[1])
                length = 0
                while (line := await reader.readline()) not in (b"\r\n", b""):
                    name, _, value = line.decode("latin-1").partition(":")
                    if name.strip().lower() == "content-length":
                        length = int(value)
                if length:
                    await reader.readexactly(length)
            except (OSError, asyncio.IncompleteReadError, ValueError, IndexError):
                status, connection = 0, None
            if 200 <= status < 300:
                latencies.append((time.monotonic() - scheduled[seq]) * 1000)
            else:
                failed += 1

    workers = [asyncio.create_task(worker()) for _ in range(HTTP_CONNECTIONS)]
    start = time.monotonic() + 0.2
    for seq in range(count):
        slot = start + seq / job["rate"]
        await asyncio.sleep(max(0.0, slot - time.monotonic()))
        scheduled[seq] = slot
        queue.put_nowait(seq)
    for _ in workers:
        queue.put_nowait(None)
    await asyncio.gather(*workers)
    span = time.monotonic() - start
    Path(job["out"]).write_text(
        json.dumps({"sent": count, "ms": latencies, "failed": failed, "span": span})
    )


def _http_step(name: str, job: dict[str, Any]) -> Figures:
    print(f"measuring: {name}", file=sys.stderr, flush=True)
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as handle:
        out = Path(handle.name)
    subprocess.run(
        [sys.executable, __file__, "--send", json.dumps({**job, "out": str(out)})], check=True
    )
    result = json.loads(out.read_text())
    out.unlink()
    return Figures(
        name=name,
        sent=result["sent"],
        seconds=result["span"],  # until the last answer: a slow server shows as a lower rate
        latencies_ms=result["ms"],
        failed=result["failed"],
    )


# --- a minimal MQTT 3.1.1 client (the simulated phones, the baseline subscriber) ---------


def _remaining_length(size: int) -> bytes:
    out = bytearray()
    while True:
        size, digit = divmod(size, 128)
        out.append(digit | (0x80 if size else 0))
        if not size:
            return bytes(out)


def _string(text: str) -> bytes:
    raw = text.encode()
    return struct.pack("!H", len(raw)) + raw


async def _packet(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    head = (await reader.readexactly(1))[0]
    size, shift = 0, 0
    while True:
        digit = (await reader.readexactly(1))[0]
        size += (digit & 0x7F) << shift
        shift += 7
        if not digit & 0x80:
            break
    return head, await reader.readexactly(size)


class MqttConnection:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
        self.reader, self.writer = reader, writer
        self.next_id = 0

    @classmethod
    async def open(cls, port: int, client_id: str, username: str, password: str):
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        # CONNECT: protocol MQTT level 4, clean session, username + password, keepalive 60.
        variable = _string("MQTT") + bytes([4, 0xC2]) + struct.pack("!H", 60)
        payload = _string(client_id) + _string(username) + _string(password)
        body = variable + payload
        writer.write(bytes([0x10]) + _remaining_length(len(body)) + body)
        head, connack = await _packet(reader)
        if head >> 4 != 2 or connack[1] != 0:
            raise SystemExit(f"the broker refused {username}: CONNACK {connack!r}")
        return cls(reader, writer)

    def publish(self, topic: str, payload: bytes) -> None:
        self.next_id = self.next_id % 65535 + 1
        body = _string(topic) + struct.pack("!H", self.next_id) + payload
        self.writer.write(bytes([0x32]) + _remaining_length(len(body)) + body)  # QoS 1

    def subscribe(self, topic: str) -> None:
        body = struct.pack("!H", 1) + _string(topic) + bytes([0])
        self.writer.write(bytes([0x82]) + _remaining_length(len(body)) + body)

    async def packets(self):
        while True:
            yield await _packet(self.reader)


# --- the measuring process ----------------------------------------------------------------


async def _mqtt_baseline(port: int, login: tuple[str, str], rate: float, seconds: float) -> Figures:
    """Publish → a plain subscriber on the same broker: the floor of the MQTT path."""
    listener = await MqttConnection.open(port, f"bench-listen-{uuid.uuid4().hex[:6]}", *login)
    listener.subscribe("bench/#")
    await _packet(listener.reader)  # SUBACK
    phone = await MqttConnection.open(port, f"bench-pub-{uuid.uuid4().hex[:6]}", *login)
    count = int(rate * seconds)
    sent: dict[int, float] = {}
    arrived: dict[int, float] = {}

    async def listen() -> None:
        async for head, body in listener.packets():
            if head >> 4 == 3:
                (length,) = struct.unpack("!H", body[:2])
                arrived.setdefault(int(body[2 + length :]), time.monotonic())

    task = asyncio.create_task(listen())
    start = time.monotonic() + 0.1
    for seq in range(count):
        slot = start + seq / rate
        await asyncio.sleep(max(0.0, slot - time.monotonic()))
        sent[seq] = slot
        phone.publish("bench/x", str(seq).encode())
    await asyncio.sleep(1.0)
    task.cancel()
    return Figures(
        name="MQTT baseline publish → subscriber",
        sent=count,
        seconds=seconds,
        latencies_ms=[(arrived[s] - sent[s]) * 1000 for s in sent if s in arrived],
    )


class StoredWatch(threading.Thread):
    """Polls the lake for the bench user's new points (by id, every few ms) and
    notes when each is first seen: publish → stored, as seen from outside."""

    def __init__(self, user_id: int) -> None:
        super().__init__(daemon=True)
        self.user_id = user_id
        self.seen: dict[tuple[str, float], float] = {}
        self.stop = threading.Event()

    def run(self) -> None:
        from django.db import OperationalError, connection

        from apps.core.db.context import user_context

        last = 0
        while not self.stop.is_set():
            try:
                with user_context(self.user_id), connection.cursor() as cursor:
                    while not self.stop.is_set():
                        cursor.execute(
                            "SELECT id, data->>'device', ST_Y(point::geometry)"
                            " FROM lake_locationpoint WHERE user_id = %s AND id > %s",
                            [self.user_id, last],
                        )
                        moment = time.monotonic()
                        for point_id, device, latitude in cursor.fetchall():
                            self.seen.setdefault((device, round(latitude, 7)), moment)
                            last = max(last, point_id)
                        time.sleep(0.005)
            except OperationalError:  # the connection was dropped (the server is shared)
                connection.close()
        connection.close()


async def _mqtt_devices(
    port: int,
    devices: list[tuple[str, str, str]],  # (device name, broker login, credential)
    username: str,
    cookie: str,
    front_port: int,
    rate: float,
    seconds: float,
    drain: float,
    user_id: int,
) -> tuple[Figures, Figures]:
    """The devices publish in turn at ``rate`` in all; each point's row and frame are awaited."""
    print("measuring: MQTT devices", file=sys.stderr, flush=True)
    watch = StoredWatch(user_id)
    watch.start()
    feed = await bench_stream.FeedSocket.connect(front_port, cookie)
    arrived: dict[tuple[str, float], float] = {}

    async def collect() -> None:
        async for moment, payload in feed.frames():
            message = json.loads(payload)
            if message.get("type") == "location.stored":
                for point in message["data"]["points"]:
                    arrived.setdefault((point["device"], round(point["lat"], 7)), moment)

    collector = asyncio.create_task(collect())
    phones = [
        await MqttConnection.open(port, f"bench-{name}", login, credential)
        for name, login, credential in devices
    ]

    async def drain_acks(phone: MqttConnection) -> None:
        async for _ in phone.packets():
            pass

    readers = [asyncio.create_task(drain_acks(phone)) for phone in phones]
    count = int(rate * seconds)
    sent: dict[tuple[str, float], float] = {}
    tst = int(time.time()) - 60
    start = time.monotonic() + 0.2
    for seq in range(count):
        slot = start + seq / rate
        await asyncio.sleep(max(0.0, slot - time.monotonic()))
        index = seq % len(phones)
        name = devices[index][0]
        latitude = round(20 + seq * 1e-6, 7)
        sent[(name, latitude)] = slot
        body = {"_type": "location", "tst": tst, "lat": latitude, "lon": 5.0, "acc": 10}
        phones[index].publish(f"owntracks/{username}/{name}", json.dumps(body).encode())
    await asyncio.sleep(drain)
    watch.stop.set()
    collector.cancel()
    for reader in readers:
        reader.cancel()
    await asyncio.to_thread(watch.join)
    stored = Figures(
        name=f"MQTT {len(devices)} devices publish → stored",
        sent=count,
        seconds=seconds,
        latencies_ms=[(watch.seen[k] - sent[k]) * 1000 for k in sent if k in watch.seen],
        target=(MQTT_TARGET_RATE, MQTT_TARGET_STORED_P99_MS),
    )
    frame = Figures(
        name=f"MQTT {len(devices)} devices publish → frame",
        sent=count,
        seconds=seconds,
        latencies_ms=[(arrived[k] - sent[k]) * 1000 for k in sent if k in arrived],
        target=(MQTT_TARGET_RATE, MQTT_TARGET_FRAME_P99_MS),
    )
    return stored, frame


def _as_user(user_id: int, count: Any) -> Any:
    """``count()`` in the user's context, on a fresh connection: the bench's own sat
    idle through the run, and the shared server may have dropped it meanwhile."""
    from django.db import connection

    from apps.core.db.context import user_context

    connection.close()
    with user_context(user_id):
        return count()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--http-rate", type=float, default=200.0, help="requests/s")
    parser.add_argument("--mqtt-rate", type=float, default=500.0, help="points/s in all")
    parser.add_argument("--devices", type=int, default=100)
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--drain", type=float, default=5.0)
    parser.add_argument(
        "--only", default=",".join(FIGURES), help=f"comma-separated, of {', '.join(FIGURES)}"
    )
    parser.add_argument("--send", help=argparse.SUPPRESS)
    args = parser.parse_args()
    only = set(args.only.split(","))
    if only - set(FIGURES):
        parser.error(f"--only takes {', '.join(FIGURES)}")
    if args.send:  # the HTTP sender process
        if json.loads(args.send)["kind"] == "ingest":
            import django

            django.setup()
        asyncio.run(_http_send(json.loads(args.send)))
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
    from django.db import connection

    from apps.core.db.context import user_context
    from apps.core.front import daphne_command, front_config_write, nginx_command
    from apps.lake.models import Event, LocationPoint
    from apps.stream.devices.broker import (
        broker_auth_write,
        broker_password_hash,
        broker_reload,
        broker_username,
    )
    from apps.stream.devices.services import device_create
    from apps.stream.services import ingest_key_rotate

    username = f"bench-live-{uuid.uuid4().hex[:8]}"
    user = get_user_model().objects.create_user(username=username)
    run_dir = Path(tempfile.mkdtemp(prefix="bench-live-"))
    mqtt_port = bench_stream._free_port()
    mqtt_env = {
        "MQTT_URL": f"mqtt://127.0.0.1:{mqtt_port}",
        "MQTT_AUTH_DIR": str(run_dir / "mosquitto"),
        "MQTT_BROKER_PIDFILE": str(run_dir / "mosquitto" / "mosquitto.pid"),
        "MQTT_CLIENT_ID": f"bench-subscriber-{mqtt_port}",
    }
    settings.MQTT_AUTH_DIR = Path(mqtt_env["MQTT_AUTH_DIR"])
    settings.MQTT_BROKER_PIDFILE = Path(mqtt_env["MQTT_BROKER_PIDFILE"])
    with user_context(user.pk):
        key = ingest_key_rotate(user_id=user.pk)
        http_phone = device_create(user_id=user.pk, name="http-phone", kind="owntracks")
        phones = [
            (f"phone{n}", device_create(user_id=user.pk, name=f"phone{n}", kind="owntracks-mqtt"))
            for n in range(args.devices)
        ]
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
    run_name = f"bench-{uuid.uuid4().hex[:8]}"
    env = {
        **os.environ,
        **mqtt_env,
        "CHANNELS_PREFIX": run_name,
        "CELERY_QUEUE": run_name,
        "LOG_LEVEL": "INFO",
    }
    subprocess.run(["bash", "scripts/mosquitto.sh", "start"], cwd=ROOT, env=env, check=True)
    broker_auth_write()
    port = bench_stream._free_port()
    log = run_dir / "web.log"
    sockets = [run_dir / f"daphne-{n}.sock" for n in range(1, args.processes + 1)]
    with log.open("ab") as log_file:
        processes = [
            subprocess.Popen(
                daphne_command(path), cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=log_file
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
        subscriber = subprocess.Popen(
            [sys.executable, "manage.py", "mqtt_subscribe"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=open(run_dir / "subscriber.log", "wb"),  # noqa: SIM115 - lives with the child
        )
    print(
        f"front on 127.0.0.1:{port}, {args.processes} daphne process(es), broker on "
        f"127.0.0.1:{mqtt_port} (logs in {run_dir}); {args.seconds:g} s per figure; "
        f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}"
    )
    try:
        for path, process in zip(sockets, processes, strict=True):
            bench_stream._wait_for(path, process)
        bench_stream._wait_for(("127.0.0.1", port), front)
        bench_stream._wait_for_preload(log, args.processes)
        deadline = time.monotonic() + 120
        while "subscribed to owntracks/#" not in (run_dir / "subscriber.log").read_text():
            if time.monotonic() > deadline or subscriber.poll() is not None:
                raise SystemExit(f"the subscriber did not subscribe; see {run_dir}/subscriber.log")
            time.sleep(0.2)
        # The baseline's own login, on topics the subscriber does not read (added
        # after the subscriber has written the files at its start).
        baseline_login = ("bench-baseline", uuid.uuid4().hex)
        auth_dir = settings.MQTT_AUTH_DIR
        with (auth_dir / "passwd").open("a") as passwd, (auth_dir / "acl").open("a") as acl:
            passwd.write(f"{baseline_login[0]}:{broker_password_hash(baseline_login[1])}\n")
            acl.write(f"\nuser {baseline_login[0]}\ntopic readwrite bench/#\n")
        broker_reload()
        job = {"port": port, "seconds": args.seconds, "rate": args.http_rate, "run": run_name}
        owntracks_job = {
            **job,
            "kind": "owntracks",
            "username": username,
            "credential": http_phone.credential,
            "tst": int(time.time()) - 30,
            "lon": 1.0,
        }
        ingest_job = {**job, "kind": "ingest", "key_id": key.key_id, "secret": key.secret}
        http_target = (HTTP_TARGET_RATE, HTTP_TARGET_P99_MS)
        # Warm-up: connections opened, code imported, in each daphne.
        _http_step("warm-up", {**owntracks_job, "seconds": 1, "rate": 50, "lon": 0.5})
        _http_step("warm-up", {**ingest_job, "seconds": 1, "rate": 50, "run": "warm-up"})
        baseline = None
        if "http-baseline" in only:
            baseline = _http_step("HTTP baseline GET /health/live", {**job, "kind": "health"})
            print(baseline.row(), flush=True)
        if "owntracks" in only:
            http_points = LocationPoint.objects.filter(user=user, data__device="http-phone")
            before = _as_user(user.pk, http_points.count)
            owntracks = _http_step("HTTP OwnTracks, one fix/request", owntracks_job)
            owntracks.stored = _as_user(user.pk, http_points.count) - before
            owntracks.target = http_target
            print(owntracks.row(baseline), flush=True)
        if "ingest" in only:
            ingest = _http_step("HTTP signed ingest, one event/request", ingest_job)
            ingest.stored = _as_user(
                user.pk, Event.objects.filter(user=user, title__startswith=run_name).count
            )
            ingest.target = http_target
            print(ingest.row(baseline), flush=True)

        mqtt_baseline = None
        if "mqtt-baseline" in only:
            mqtt_baseline = asyncio.run(
                _mqtt_baseline(mqtt_port, baseline_login, args.mqtt_rate, args.seconds)
            )
            print(mqtt_baseline.row(), flush=True)
        if "mqtt" in only:
            devices = [
                (name, broker_username(username=username, device_name=name), issued.credential)
                for name, issued in phones
            ]
            stored, frame = asyncio.run(
                _mqtt_devices(
                    mqtt_port,
                    devices,
                    username,
                    cookie,
                    port,
                    args.mqtt_rate,
                    args.seconds,
                    args.drain,
                    user.pk,
                )
            )
            connection.close()  # idle through the run: PostgreSQL may have dropped it
            with user_context(user.pk):
                points = LocationPoint.objects.filter(user=user, source="owntracks").exclude(
                    data__device="http-phone"
                )
                stored.stored = frame.stored = points.count()
                stored.duplicated = frame.duplicated = (
                    stored.stored - points.values("data__device", "point").distinct().count()
                )
            print(stored.row(mqtt_baseline), flush=True)
            print(frame.row(mqtt_baseline), flush=True)
        print(f"load average (1, 5, 15 min) at the end: {os.getloadavg()}")
    finally:
        subscriber.terminate()
        for process in [front, *processes]:
            process.terminate()
        for process in [subscriber, front, *processes]:
            process.wait(timeout=30)
        subprocess.run(["bash", "scripts/mosquitto.sh", "stop"], cwd=ROOT, env=env, check=False)
        connection.close()
        with user_context(user.pk):
            user.delete()
        bench_stream._drop_queue(run_name)
        asyncio.run(bench_stream._flush_layer())


if __name__ == "__main__":
    main()
