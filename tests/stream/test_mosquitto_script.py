"""scripts/mosquitto.sh refuses a port held by a broker it did not start: such a
broker (Debian's own on 1883, another checkout's) does not know Datapunk's device
logins, and the subscriber was refused by it ("Not authorized") without a word."""

from __future__ import annotations

import os
import socket
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _script(command: str, port: int, directory: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "MQTT_URL": f"mqtt://127.0.0.1:{port}", "MQTT_AUTH_DIR": str(directory)}
    return subprocess.run(
        ["bash", "scripts/mosquitto.sh", command],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def _listening_socket() -> socket.socket:
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    return server


def test_a_port_held_by_another_program_fails_loudly(tmp_path):
    with _listening_socket() as foreign:
        port = foreign.getsockname()[1]
        result = _script("start", port, tmp_path / "mosquitto")
    assert result.returncode == 1
    assert f"port {port} on 127.0.0.1 is already held" in result.stderr
    assert f"pid {os.getpid()}" in result.stderr  # who holds it, when ss can tell
    assert "does not know Datapunk's device logins" in result.stderr
    assert not (tmp_path / "mosquitto" / "mosquitto.pid").exists()  # nothing started


def test_another_checkouts_broker_is_foreign_too(tmp_path):
    with _listening_socket() as probe:
        port = probe.getsockname()[1]
    other, ours = tmp_path / "other-checkout", tmp_path / "this-checkout"
    assert _script("start", port, other).returncode == 0
    try:
        result = _script("start", port, ours)
        assert result.returncode == 1
        assert "already held" in result.stderr
        assert str(other / "mosquitto.conf") in result.stderr  # its command line is shown
        again = _script("start", port, other)  # the broker's own checkout: idempotent
        assert again.returncode == 0, again.stderr
        assert again.stderr == ""
    finally:
        _script("stop", port, other)
