"""Configuration errors stop start-up with a message naming the setting, not a traceback."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _check(**overrides: str) -> subprocess.CompletedProcess:
    env = {**os.environ, **overrides}
    return subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), "check"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (
            {"DEBUG": "false", "SECRET_KEY": ""},
            "SECRET_KEY is not set. It is required when DEBUG is off",
        ),
        (
            {"DEBUG": "false", "SECRET_KEY": "s" * 50, "FIELD_ENCRYPTION_KEY": ""},
            "FIELD_ENCRYPTION_KEY is not set",
        ),
        (
            {"DEBUG": "true", "FIELD_ENCRYPTION_KEY": "too-short"},
            "FIELD_ENCRYPTION_KEY must be 32 url-safe",
        ),
        ({"DEBUG": "maybe"}, "DEBUG must be true or false, not 'maybe'"),
        ({"DB_CONN_MAX_AGE": "soon"}, "DB_CONN_MAX_AGE must be a whole number"),
        (
            {"DATAPUNK_MAX_COMPRESSION_RATIO": "abc"},
            "DATAPUNK_MAX_COMPRESSION_RATIO must be a number, not 'abc'",
        ),
        (
            {"DEBUG": "false", "SECRET_KEY_FILE": "/nonexistent/secret"},
            "SECRET_KEY_FILE is '/nonexistent/secret', which cannot be read",
        ),
    ],
)
def test_bad_configuration_is_named(overrides, message):
    result = _check(**overrides)
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_secrets_can_come_from_files(tmp_path):
    secret = tmp_path / "secret_key"
    secret.write_text("a-secret-read-from-a-file-" + "x" * 30 + "\n")
    result = _check(DEBUG="false", SECRET_KEY="", SECRET_KEY_FILE=str(secret))
    assert result.returncode == 0, result.stderr


def test_pages_render_with_debug_off_whatever_collectstatic_wrote(tmp_path):
    # As in production: DEBUG off, secrets given, static files collected with
    # DEBUG on (after the demo) or not at all (a fresh clone).
    env = {
        **os.environ,
        "DEBUG": "false",
        "SECRET_KEY": "s" * 50,
        "FIELD_ENCRYPTION_KEY": "ZGF0YXB1bmstbG9jYWwtZGV2ZWxvcG1lbnQta2V5ISE=",
        "ALLOWED_HOSTS": "testserver",
    }
    script = (
        "from django.test import Client; c = Client(raise_request_exception=False); "
        "print([c.get(u).status_code for u in ('/accounts/login/', '/admin/login/', '/api/auth/login/')])"
    )
    result = subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), "shell", "-c", script],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.stdout.strip().splitlines()[-1:] == ["[200, 200, 200]"], result.stderr[-2000:]


def test_archive_limits_come_from_settings_and_files(tmp_path):
    ratio = tmp_path / "ratio"
    ratio.write_text("5\n")
    env = {**os.environ, "DATAPUNK_MAX_COMPRESSION_RATIO_FILE": str(ratio)}
    script = "from apps.lake import archive; print(archive.MAX_RATIO, archive.MAX_TOTAL_BYTES)"
    result = subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), "shell", "-c", script],
        env={**env, "DATAPUNK_MAX_ARCHIVE_BYTES": "1000"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.stdout.strip().splitlines()[-1:] == ["5.0 1000"], result.stderr[-2000:]


def _secure_settings(**env: str) -> list[str]:
    script = (
        "from django.conf import settings as s; "
        "print(s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_HSTS_SECONDS, "
        "s.SECURE_PROXY_SSL_HEADER)"
    )
    result = subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), "shell", "-c", script],
        env={**os.environ, "DEBUG": "true", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    return result.stdout.strip().splitlines()[-1:]


def test_https_switch_makes_cookies_secure_and_sends_hsts():
    assert _secure_settings() == ["False False 0 None"]
    assert _secure_settings(DATAPUNK_HTTPS="true") == [
        "True True 31536000 ('HTTP_X_FORWARDED_PROTO', 'https')"
    ]
    assert (
        _secure_settings(DATAPUNK_HTTPS="true", DATAPUNK_HSTS_SECONDS="600")[0].split()[2] == "600"
    )
