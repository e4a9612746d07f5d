"""Shared fixtures: real PostgreSQL (pytest-django's test database) and real Redis."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model

ROOT = Path(__file__).resolve().parents[1]
# A real worker, one task at a time, as a child process of the test.
CELERY_WORKER = [
    str(Path(sys.executable).parent / "celery"),
    *("-A", "datapunk", "worker", "--pool", "solo", "--loglevel", "INFO"),
]


def import_takeout_command(*paths: Path, username: str, sync: bool = True) -> list[str]:
    """manage.py import_takeout as a user types it, for a child process."""
    command = [sys.executable, str(ROOT / "manage.py"), "import_takeout", *map(str, paths)]
    return [*command, "--user", username, *(["--sync"] if sync else [])]


@pytest.fixture
def make_user(db):
    def make(username: str | None = None, password: str = "pw-for-tests-only", **extra):
        username = username or f"user-{uuid.uuid4().hex[:8]}"
        return get_user_model().objects.create_user(username=username, password=password, **extra)

    return make


@pytest.fixture
def owner(make_user):
    return make_user("owner")


@pytest.fixture
def outsider(make_user):
    return make_user("outsider")


@pytest.fixture(autouse=True)
def _isolated_channel_layer(settings):
    """Each test talks to the real Redis layer under its own prefix."""
    layers = {
        name: {**config, "CONFIG": {**config["CONFIG"], "prefix": f"test-{uuid.uuid4().hex[:8]}"}}
        for name, config in settings.CHANNEL_LAYERS.items()
    }
    settings.CHANNEL_LAYERS = layers
    from channels.layers import channel_layers

    channel_layers.backends.clear()
    yield
    channel_layers.backends.clear()


@pytest.fixture
def child_env(settings):
    """Environment for a child process (manage.py, daphne, a Celery worker) that must
    use this test's database, and a Redis database of its own so that no other
    worker on the machine takes its tasks."""
    from django.db import connection

    db = settings.DATABASES["default"]
    env = dict(os.environ)
    env["DATABASE_URL"] = (
        f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT']}/{connection.settings_dict['NAME']}"
    )
    # A Redis database of its own; DATAPUNK_TEST_REDIS_URL keeps two checkouts
    # testing on one machine from taking each other's tasks.
    env["REDIS_URL"] = os.environ.get("DATAPUNK_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
    env["CHANNELS_PREFIX"] = f"test-{uuid.uuid4().hex[:8]}"
    return env


@pytest.fixture(scope="session", autouse=True)
def _close_stray_test_connections(django_db_setup, django_db_blocker):
    """Threads of the ASGI tests (sync_to_async, the live server) keep their own
    connections; end them so the test database can be dropped at the end."""
    yield
    from django.db import connection

    from apps.core.db.roles import table_owner

    # The owner's right: the app role may not end sessions of the owner.
    with django_db_blocker.unblock(), table_owner(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )


@pytest.fixture
def background(tmp_path) -> Iterator[Callable[..., subprocess.Popen]]:
    """Start child processes (daphne, a Celery worker) in the project folder, each
    logging to tmp_path/NAME.log; all are stopped when the test ends."""
    processes: list[subprocess.Popen] = []

    def start(name: str, command: list[str], env: dict[str, str]) -> subprocess.Popen:
        process = subprocess.Popen(
            command,
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=open(tmp_path / f"{name}.log", "wb"),  # noqa: SIM115 - lives as long as the child
        )
        processes.append(process)
        return process

    yield start
    for process in processes:
        process.terminate()
    for process in processes:
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


# --- row-level security (apps/privacy/rls.py, apps/core/db/context.py) ---------------------
# Every in-process DB test runs as the app does: the test's connection is the app
# role under RLS and starts with no user context, so a request, task or command
# must enter its user's context itself, and a test's own setup and reads act as
# the user whose rows they are (tests/acting.py's ``as_user`` and helpers, the
# ``import_takeout`` fixture, an app's own in tests/<app>/). The system context (every user's
# rows) only where a test says why: ``@pytest.mark.system_context(reason="...")``.
# Child processes (daphne, Celery, manage.py) and other threads open their own
# connections and always run under RLS.


@pytest.fixture(autouse=True)
def _rls_as_in_production(request):
    uses_db = request.node.get_closest_marker("django_db") is not None or (
        "_django_db_helper" in request.fixturenames
    )
    if not uses_db:
        yield
        return
    request.getfixturevalue("_django_db_helper")  # the test's database, transaction or not
    from apps.core.db.context import no_user_context, system_context

    marker = request.node.get_closest_marker("system_context")
    if marker is None:
        with no_user_context():
            yield
        return
    from tests.acting import system_context_reason

    try:
        system_context_reason(marker)
    except ValueError as error:
        pytest.fail(str(error))
    with system_context():
        yield


@pytest.fixture
def import_takeout(tmp_path):
    """``import_takeout(user, *paths, status="done", **sample)``: a Takeout import of
    ``paths`` (none: the sample Takeout, ``build_sample_takeout(**sample)``)
    prepared and run to the end as ``user``, as the import task runs it; checks
    it ended with ``status`` (None: whatever it ended with) and returns the Import."""
    from apps.lake.sample_takeout import build_sample_takeout
    from tests.acting import takeout_import

    built = iter(range(1, 1_000))

    def run(user, *paths: Path, status: str | None = "done", **sample):
        if not paths:
            paths = (build_sample_takeout(tmp_path / f"takeout-{next(built):03}.zip", **sample),)
        finished = takeout_import(user, *paths)
        assert finished is not None, "another process holds the import's lock"
        if status is not None:
            assert finished.status == status, finished.error
        return finished

    return run


@pytest.fixture
def eager_celery():
    """Tasks queued during the test run at once, in the test's process (and connection)."""
    from datapunk.celery import app

    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = False


# --- the product as a client meets it: the nginx front, daphne behind it ---


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_socket(address: tuple[str, int] | str, process: subprocess.Popen, seconds=30) -> None:
    """Wait until something accepts connections at a TCP (host, port) or a unix socket path."""
    import socket
    import time

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert process.poll() is None, f"{process.args[0]} exited"
        family = socket.AF_UNIX if isinstance(address, str) else socket.AF_INET
        with socket.socket(family) as sock:
            if sock.connect_ex(address) == 0:
                return
        time.sleep(0.1)
    pytest.fail(f"nothing accepts connections at {address}")


@pytest.fixture
def make_front(child_env, tmp_path, background):
    """``make_front(processes=1, pii_preload=True)``: daphne processes on unix sockets behind the nginx
    front on a free port, as scripts/demo.sh runs them, on this test's database.
    Returns the front's base URL; ``.daphnes`` are the processes (``.daphne`` the
    first), ``.socket_paths`` their sockets (``.socket_path`` the first), and
    each one's access log is tmp_path/daphne-N-access.log."""
    from apps.core.front import daphne_command, front_config_write, nginx_command

    def make(processes: int = 1, pii_preload: bool = True):
        env = {
            **child_env,
            "DATAPUNK_UPLOAD_DIR": str(tmp_path / "uploads"),
            "DATAPUNK_PII_PRELOAD": "true" if pii_preload else "false",
        }
        socket_paths = [str(tmp_path / f"daphne-{n}.sock") for n in range(1, processes + 1)]
        access_logs = [str(tmp_path / f"daphne-{n}-access.log") for n in range(1, processes + 1)]
        daphnes = [
            background(f"daphne-{n}", daphne_command(path, "--access-log", log), env)
            for n, (path, log) in enumerate(zip(socket_paths, access_logs, strict=True), start=1)
        ]
        port = free_port()
        config = front_config_write(
            tmp_path, listen=f"127.0.0.1:{port}", upstreams=[f"unix:{p}" for p in socket_paths]
        )
        error_log = tmp_path / "front-error.log"
        nginx = background("nginx", nginx_command(config=config, error_log=error_log), env)
        for path, daphne in zip(socket_paths, daphnes, strict=True):
            wait_for_socket(path, daphne)
        wait_for_socket(("127.0.0.1", port), nginx)

        class Front(str):
            pass

        url = Front(f"http://127.0.0.1:{port}")
        url.daphnes, url.daphne = daphnes, daphnes[0]  # type: ignore[attr-defined]
        url.socket_paths, url.socket_path = socket_paths, socket_paths[0]  # type: ignore[attr-defined]
        return url

    return make


@pytest.fixture
def front(make_front):
    """One daphne behind the nginx front (make_front)."""
    return make_front()


@pytest.fixture
def browser():
    """Headless Chromium (tests/browser.py); a missing chromium fails, never skips."""
    from playwright.sync_api import sync_playwright

    from tests.browser import CHROMIUM, CHROMIUM_ARGS

    if not Path(CHROMIUM).exists():
        pytest.fail("Chromium is missing: scripts/setup.sh installs Debian's chromium package")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(autouse=True)
def _fresh_signin_tallies():
    """Sign-in attempts (apps/core/signin_limit.py) and open feed sockets
    (apps/stream/consumers.py) are counted in Redis: every test, and every
    daphne it starts, begins with none."""
    import redis
    from django.core.cache import cache

    clients = [
        cache._cache.get_client(None, write=True),  # type: ignore[attr-defined]
        redis.Redis.from_url(
            os.environ.get("DATAPUNK_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
        ),
    ]
    for client in clients:
        for pattern in ("*allauth:rl:*", "datapunk:feed-sockets:*"):
            for key in client.scan_iter(match=pattern, count=1000):
                client.delete(key)
    yield


@pytest.fixture
def admin_access():
    """``admin_access(client, username=None, reason=...)``: the signed-in staff user of
    ``client`` opens an access to ``username``'s rows (None: every user's) on the
    admin's access page, as staff must before reading anyone else's rows there
    (apps/privacy/admin_access.py)."""

    def open_access(client, username: str | None = None, reason: str = "a test case") -> None:
        form = {"reason": reason, **({"username": username} if username else {"every_user": "on"})}
        response = client.post("/admin/access/", form)
        assert response.status_code == 302, response.content.decode()[-3000:]

    return open_access
