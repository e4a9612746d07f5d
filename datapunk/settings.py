"""Datapunk settings, read from the environment (and a local .env file).

Local use works with no configuration at all when DEBUG is on; with DEBUG
off every secret must be given, and a missing or malformed one stops the
process at start-up with a message naming it. Any NAME may instead be given
as NAME_FILE, the path of a file holding the value (Docker secrets).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import shlex
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar, overload

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
T = TypeVar("T")

if (BASE_DIR / ".env").is_file():
    environ.Env.read_env(BASE_DIR / ".env", overwrite=False)


@overload
def env_str(name: str, default: str) -> str: ...
@overload
def env_str(name: str, default: None = None) -> str | None: ...
def env_str(name: str, default: str | None = None) -> str | None:
    if f"{name}_FILE" in os.environ:
        path = os.environ[f"{name}_FILE"]
        try:
            return Path(path).read_text().strip()
        except OSError as exc:
            raise ImproperlyConfigured(
                f"{name}_FILE is {path!r}, which cannot be read: {exc.strerror}"
            ) from None
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    value = env_str(name)
    if value is None or value == "":
        return default
    if value.lower() in {"1", "true", "yes", "on"}:
        return True
    if value.lower() in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {value!r}")


def _env_parsed(name: str, default: T, parse: Callable[[str], T], expected: str) -> T:
    value = env_str(name)
    if value is None or value == "":
        return default
    try:
        return parse(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be {expected}, not {value!r}") from None


def env_int(name: str, default: int) -> int:
    return _env_parsed(name, default, int, "a whole number")


def env_float(name: str, default: float) -> float:
    return _env_parsed(name, default, float, "a number")


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in (env_str(name) or default).split(",") if item.strip()]


def env_required(name: str, local_default: str) -> str:
    """A secret: required with DEBUG off, a fixed development value with DEBUG on."""
    value = env_str(name)
    if value:
        return value
    if DEBUG:
        return local_default
    raise ImproperlyConfigured(
        f"{name} is not set. It is required when DEBUG is off; see README.md, Configuration."
    )


DEBUG = env_bool("DEBUG", default=False)
SECRET_KEY = env_required("SECRET_KEY", "insecure-local-development-key-do-not-use-in-production")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")
CSRF_TRUSTED_ORIGINS = env_list(
    "CSRF_TRUSTED_ORIGINS", "http://localhost:8000,http://127.0.0.1:8000"
)

# Secrets at rest (OAuth tokens) are encrypted with this Fernet key.
FIELD_ENCRYPTION_KEY = env_required(
    "FIELD_ENCRYPTION_KEY", base64.urlsafe_b64encode(b"datapunk-local-development-key!!").decode()
)
try:
    if len(base64.urlsafe_b64decode(FIELD_ENCRYPTION_KEY.encode())) != 32:
        raise ValueError
except (ValueError, binascii.Error):
    raise ImproperlyConfigured(
        "FIELD_ENCRYPTION_KEY must be 32 url-safe base64-encoded bytes; generate one with "
        "python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'"
    ) from None

INSTALLED_APPS = [
    "daphne",
    "apps.privacy.admin_apps.AuditedAdminConfig",  # django.contrib.admin, changes audited
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.gis",
    "django_prometheus",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "allauth",
    "allauth.account",
    "allauth.socialaccount",
    "channels",
    "django_celery_beat",
    "apps.core",
    "apps.lake",
    "apps.stream",
    "apps.connectors",
    "apps.privacy",
    "apps.analytics",
]

MIDDLEWARE = [
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "apps.core.middleware.JsonGuardMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "apps.privacy.middleware.RowLevelSecurityMiddleware",  # the user's RLS context
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
]

ROOT_URLCONF = "datapunk.urls"
ASGI_APPLICATION = "datapunk.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# PostgreSQL 17 with PostGIS, pgvector and TimescaleDB. The default is the local
# server of scripts/postgres.sh, on its port; DATABASE_URL points anywhere else.
_database_url = env_str(
    "DATABASE_URL",
    f"postgres://datapunk:datapunk@127.0.0.1:{env_int('DATAPUNK_PG_PORT', 5417)}/datapunk",
)
_db = (
    environ.Env.db_url_config(_database_url)
    if _database_url.startswith(("postgres://", "postgresql://", "postgis://"))
    else {}
)
if not _db.get("NAME"):
    raise ImproperlyConfigured(
        f"DATABASE_URL must look like postgres://USER:PASSWORD@HOST:PORT/NAME, not {_database_url!r}"
    )
# Our engine is django-timescaledb's PostGIS backend plus a check that names
# any missing extension before migrate runs (apps/core/dbbackend).
_db["ENGINE"] = "apps.core.dbbackend"
# 0: under ASGI (daphne) each request runs in a thread of its own, so a connection
# kept for reuse is never reused and they pile up until PostgreSQL refuses more.
_db["CONN_MAX_AGE"] = env_int("DB_CONN_MAX_AGE", 0)
_db["CONN_HEALTH_CHECKS"] = True
_db["TEST"] = {"NAME": env_str("TEST_DATABASE_NAME", f"test_{_db['NAME']}")}
DATABASES = {"default": _db}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# GDAL < 3.9 (Debian bookworm ships 3.6) cannot block file access from spatial
# references; Datapunk never parses user-supplied spatial reference text.
SILENCED_SYSTEM_CHECKS = ["gis.W001"]

REDIS_URL = env_str("REDIS_URL", "redis://127.0.0.1:6379/0")

CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": "datapunk",
    }
}

# Live-feed sockets one user may hold open at once (apps/stream/consumers.py).
DATAPUNK_FEED_SOCKETS_PER_USER = env_int("DATAPUNK_FEED_SOCKETS_PER_USER", 10)
# What daphne may hold for one websocket whose client does not read; past it the
# socket is closed with 4413 (apps/stream/send_buffer.py). 0: no bound.
DATAPUNK_FEED_SEND_BUFFER_BYTES = env_int("DATAPUNK_FEED_SEND_BUFFER_BYTES", 4 * 1024**2)
CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "channels_redis.core.RedisChannelLayer",
        "CONFIG": {"hosts": [REDIS_URL], "prefix": env_str("CHANNELS_PREFIX", "datapunk")},
    }
}

# OwnTracks over MQTT (apps/stream/devices/broker.py, scripts/mosquitto.sh): the
# broker's password and ACL files are written from the Devices table into
# MQTT_AUTH_DIR, and the broker whose pid is in MQTT_BROKER_PIDFILE is told to
# reload them. The subscriber (manage.py mqtt_subscribe) logs in with its own
# account and keeps one persistent session under a fixed client id.
# Its own port, as PostgreSQL has 5417: a machine may run a broker of its own on 1883
# (Debian's package starts one) that does not read Datapunk's per-device logins.
MQTT_URL = env_str("MQTT_URL", "mqtt://127.0.0.1:1884")
MQTT_AUTH_DIR = Path(env_str("MQTT_AUTH_DIR", str(BASE_DIR / "var" / "mosquitto")))
MQTT_BROKER_PIDFILE = Path(env_str("MQTT_BROKER_PIDFILE", str(MQTT_AUTH_DIR / "mosquitto.pid")))
MQTT_SUBSCRIBER_USERNAME = env_str("MQTT_SUBSCRIBER_USERNAME", "datapunk-subscriber")
# Unset, it is derived from SECRET_KEY: as secret as that, and nothing to add to .env.
MQTT_SUBSCRIBER_PASSWORD = (
    env_str("MQTT_SUBSCRIBER_PASSWORD")
    or hmac.new(SECRET_KEY.encode(), b"datapunk mqtt subscriber", hashlib.sha256).hexdigest()
)
MQTT_CLIENT_ID = env_str("MQTT_CLIENT_ID", "datapunk-owntracks")

CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", REDIS_URL)
# One queue for every task; a benchmark serving beside the demo sends to a queue of its own.
CELERY_TASK_DEFAULT_QUEUE = env_str("CELERY_QUEUE", "celery")
CELERY_RESULT_BACKEND = None  # tasks record their outcome on their own rows
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1  # imports are long: don't hoard them
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_TIMEZONE = "UTC"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Late acks on Redis: a task not acknowledged within visibility_timeout (Celery's
# default: 1 hour) is handed to another worker, so a long backup or import ran
# twice. Tasks are cut at DATAPUNK_TASK_MAX_SECONDS (an import killed there is
# requeued and resumes from its checkpoint); redelivery waits an hour longer.
DATAPUNK_TASK_MAX_SECONDS = env_int("DATAPUNK_TASK_MAX_SECONDS", 12 * 3600)
CELERY_TASK_TIME_LIMIT = DATAPUNK_TASK_MAX_SECONDS
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": DATAPUNK_TASK_MAX_SECONDS + 3600}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    # Every sign-in (allauth, /api/auth/login/, /admin/login/) spends an attempt
    # of the one brute-force limit first (apps/core/signin_limit.py).
    "apps.core.signin_limit.SignInLimitBackend",
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "/"
ACCOUNT_LOGIN_METHODS = {"username", "email"}
ACCOUNT_SIGNUP_FIELDS = ["email", "username*", "password1*", "password2*"]
ACCOUNT_EMAIL_VERIFICATION = "none"  # self-hosted: no mail server assumed
# A personal data box: nobody signs up unless the owner opens it.
SIGNUP_OPEN = env_bool("SIGNUP_OPEN", default=False)
ACCOUNT_ADAPTER = "apps.core.accounts.AccountAdapter"
# Failed sign-ins allowed, per client address and per account, before the
# forms refuse (apps/core/signin_limit.py; allauth's rate syntax N/period/per).
ACCOUNT_RATE_LIMITS = {
    "login_failed": env_str("DATAPUNK_SIGNIN_RATE_LIMIT", "10/m/ip,30/h/ip,5/5m/key,20/h/key"),
}
# Wrong passwords a signed-in user may give where a page asks again (delete my data).
DATAPUNK_PASSWORD_CHECK_RATE_LIMIT = env_str("DATAPUNK_PASSWORD_CHECK_RATE_LIMIT", "5/15m/user")
EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # DRF's own, plus entering the user's row-level security context
        "apps.privacy.api.authentication.SessionAuthentication",
        "apps.privacy.api.authentication.TokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 100,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Datapunk API",
    "DESCRIPTION": "Your Takeout lake, streams and analytics.",
    "VERSION": "0.1.0",
    "SWAGGER_UI_DIST": "SIDECAR",  # served locally: a self-hosted box may have no internet
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

LANGUAGE_CODE = "en-us"
TIME_ZONE = env_str("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "var" / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_ROOT = Path(env_str("DATAPUNK_DATA_DIR", str(BASE_DIR / "var")) or "") / "media"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # No manifest: with one, every page fails (500) whenever collectstatic has not
    # run since the last change, or ran with DEBUG on. Whitenoise serves what was
    # collected, compressed; unhashed names only cost a short browser cache.
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedStaticFilesStorage"
        )
    },
}

# Archive bomb limits (apps/lake/archive.py): real Takeouts reach 50 GB a part
# uncompressed at most, and JSON compresses 10-20x.
DATAPUNK_MAX_ARCHIVE_BYTES = env_int("DATAPUNK_MAX_ARCHIVE_BYTES", 200 * 1024**3)
DATAPUNK_MAX_COMPRESSION_RATIO = env_float("DATAPUNK_MAX_COMPRESSION_RATIO", 200.0)

# Where uploaded archive parts are assembled before an import reads them.
UPLOAD_DIR = Path(env_str("DATAPUNK_UPLOAD_DIR", str(BASE_DIR / "var" / "uploads")) or "")

# Request bodies. The nginx front (scripts/front.conf.template) enforces these
# before daphne buffers anything; Django enforces them again for a server run
# without the front. JSON bodies are small; upload chunks are 8 MiB from the
# browser, so 16 MiB leaves room for other clients.
DATAPUNK_MAX_REQUEST_BYTES = env_int("DATAPUNK_MAX_REQUEST_BYTES", 2 * 1024**2)
# Proxies in front of the nginx front (addresses or CIDR ranges) whose
# X-Forwarded-For is believed; nobody else's is (scripts/front.conf.template).
DATAPUNK_TRUSTED_PROXIES = env_list("DATAPUNK_TRUSTED_PROXIES", "")
DATAPUNK_MAX_CHUNK_BYTES = env_int("DATAPUNK_MAX_CHUNK_BYTES", 16 * 1024**2)
DATA_UPLOAD_MAX_MEMORY_SIZE = DATAPUNK_MAX_REQUEST_BYTES
# JSON deeper than this is refused with 400 before any parser recurses into it.
DATAPUNK_MAX_JSON_DEPTH = env_int("DATAPUNK_MAX_JSON_DEPTH", 64)

# Upload disk use. Takeout parts are at most 50 GB; a whole Takeout of a heavy
# Photos user is a few hundred GB. The reserve keeps the database's disk from
# filling up when uploads and the lake share it.
DATAPUNK_MAX_PART_BYTES = env_int("DATAPUNK_MAX_PART_BYTES", 100 * 1024**3)
# Per user; 0 = the upload disk's size less the reserve (a fixed 500 GiB default
# promised more than most disks have). Whatever the quota, parts under way plus a
# new part must fit in the free space less the reserve (apps/lake/uploads.py).
DATAPUNK_UPLOAD_QUOTA_BYTES = env_int("DATAPUNK_UPLOAD_QUOTA_BYTES", 0)
DATAPUNK_DISK_RESERVE_BYTES = env_int("DATAPUNK_DISK_RESERVE_BYTES", 1024**3)

# /metrics answers staff sessions, or a scraper sending this bearer token.
METRICS_TOKEN = env_str("DATAPUNK_METRICS_TOKEN", "") or ""

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
}

if not DEBUG:
    SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", default=True)
    CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE

# Served over HTTPS (TLS ended at the front or at a proxy before it): the switch
# that makes cookies Secure whatever DEBUG says, sends HSTS, and believes the
# front's X-Forwarded-Proto (nginx sets it; a client's own is overwritten).
DATAPUNK_HTTPS = env_bool("DATAPUNK_HTTPS", default=False)
if DATAPUNK_HTTPS:
    SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = env_int("DATAPUNK_HSTS_SECONDS", 365 * 24 * 3600)

# --- Backups and archive policies (apps/ops; README "Backup and restore")
INSTALLED_APPS += ["apps.ops"]
# How to run pgBackRest: by default as the server's user inside scripts/postgres.sh's root.
DATAPUNK_PGBACKREST_COMMAND = shlex.split(
    env_str(
        "DATAPUNK_PGBACKREST_COMMAND",
        shlex.join(["bash", str(BASE_DIR / "scripts" / "postgres.sh"), "pgbackrest"]),
    )
)
DATAPUNK_BACKUP_STANZA = env_str(
    "DATAPUNK_BACKUP_STANZA", "datapunk-" + env_str("DATAPUNK_PG_CLUSTER", "main")
)
# Full backups kept (with the incrementals built on them and the WAL they need).
DATAPUNK_BACKUP_RETENTION_FULL = env_int("DATAPUNK_BACKUP_RETENTION_FULL", 2)
# Beat: full backup on Sundays, incremental the other days, at this hour (UTC).
DATAPUNK_BACKUP_HOUR = env_int("DATAPUNK_BACKUP_HOUR", 2)
# /health/ready's backup check fails (not fatally) past this age: a missed daily run.
DATAPUNK_BACKUP_MAX_AGE_HOURS = env_int("DATAPUNK_BACKUP_MAX_AGE_HOURS", 36)
DATAPUNK_BACKUP_UPLOADS_DIR = Path(
    env_str("DATAPUNK_BACKUP_UPLOADS_DIR", str(BASE_DIR / "var" / "backups" / "uploads"))
)
DATAPUNK_ARCHIVE_DIR = Path(env_str("DATAPUNK_ARCHIVE_DIR", str(BASE_DIR / "var" / "archive")))
DATAPUNK_UPLOAD_ARCHIVE_DAYS = env_int("DATAPUNK_UPLOAD_ARCHIVE_DAYS", 30)
DATAPUNK_QUARANTINE_ARCHIVE_DAYS = env_int("DATAPUNK_QUARANTINE_ARCHIVE_DAYS", 90)

# --- privacy (apps/privacy) ---
# Where "download my data" zips are written until the user deletes their data.
EXPORT_DIR = Path(env_str("DATAPUNK_EXPORT_DIR", str(BASE_DIR / "var" / "exports")) or "")

# --- analytics: timeline, map, dashboard (apps/analytics) ---------------------
# Map tiles: any XYZ tile server; the map still shows your points when tiles fail.
DATAPUNK_MAP_TILE_URL = env_str(
    "DATAPUNK_MAP_TILE_URL", "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
)
# Content-Security-Policy (apps/core/middleware.py). No page runs inline script;
# inline style attributes remain (map legend swatches), hence 'unsafe-inline'
# for styles only. Images: our own, data: URLs (Leaflet, charts) and {tiles},
# the origin of DATAPUNK_MAP_TILE_URL. No form-action: connecting a provider
# posts to us and is redirected to the provider, which form-action would stop.
DATAPUNK_CSP = env_str(
    "DATAPUNK_CSP",
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob: {tiles}; connect-src 'self'; object-src 'none'; "
    "base-uri 'self'; frame-ancestors 'none'",
)
DATAPUNK_MAP_TILE_ATTRIBUTION = env_str(
    "DATAPUNK_MAP_TILE_ATTRIBUTION", "&copy; OpenStreetMap contributors"
)
# Old chunks of the lake's hypertables: compress after N days (needs TimescaleDB's
# community features), drop after N days. 0 = never: a person's history is not
# deleted unless they ask for it.
DATAPUNK_COMPRESS_AFTER_DAYS = env_int("DATAPUNK_COMPRESS_AFTER_DAYS", 0)
DATAPUNK_RETENTION_DAYS = env_int("DATAPUNK_RETENTION_DAYS", 0)
CELERY_BEAT_SCHEDULE = {
    **globals().get("CELERY_BEAT_SCHEDULE", {}),
    "analytics-refresh-recent": {
        "task": "apps.analytics.tasks.refresh_recent_aggregates",
        "schedule": 3600.0,
    },
    # After the embedding model changed: users' events re-embedded in the background.
    "analytics-search-reembed": {
        "task": "apps.analytics.search.tasks.reembed_with_new_model_task",
        "schedule": 3600.0,
    },
    "analytics-apply-chunk-policies": {
        "task": "apps.analytics.tasks.apply_chunk_policies",
        "schedule": 24 * 3600.0,
    },
}

# Streams (apps/stream): threads (and so database connections) that serve
# /api/ingest/events/ in each daphne process.
DATAPUNK_INGEST_THREADS = env_int("DATAPUNK_INGEST_THREADS", 4)
# Each daphne process loads the PII model (a few seconds) in the background when it
# starts, so the first webhook or ingest request it stores does not wait for it.
DATAPUNK_PII_PRELOAD = env_bool("DATAPUNK_PII_PRELOAD", True)
# The replay guard's message ids (InboundDelivery) are kept only for the signature
# window; without this entry the table grows by one row per delivery, forever.
CELERY_BEAT_SCHEDULE["stream-prune-inbound-deliveries"] = {
    "task": "apps.stream.tasks.prune_inbound_deliveries",
    "schedule": 600.0,
}

# --- connectors and outbound calls (issue 7) ------------------------------------
# allauth's providers do the OAuth dance; apps/connectors keeps the tokens,
# sealed with FIELD_ENCRYPTION_KEY, and allauth keeps none.
CONNECTOR_PROVIDERS = ("spotify", "google", "microsoft", "discord", "twitch")
INSTALLED_APPS += [f"allauth.socialaccount.providers.{name}" for name in CONNECTOR_PROVIDERS]
MIDDLEWARE += ["apps.connectors.middleware.ProviderNotConfiguredMiddleware"]
MIDDLEWARE += ["apps.core.middleware.ContentSecurityPolicyMiddleware"]
# The signed-in user's time zone (after the RLS middleware: it reads their row).
MIDDLEWARE += ["apps.core.timezones.UserTimeZoneMiddleware"]
SOCIALACCOUNT_STORE_TOKENS = False
# Each provider's OAuth app: DATAPUNK_<PROVIDER>_CLIENT_ID and _SECRET, or a
# "social application" added in the admin (allauth's SocialApp).
SOCIALACCOUNT_PROVIDERS: dict[str, dict] = {}
for _name in CONNECTOR_PROVIDERS:
    _client_id = env_str(f"DATAPUNK_{_name.upper()}_CLIENT_ID")
    if _client_id:
        SOCIALACCOUNT_PROVIDERS[_name] = {
            "APPS": [
                {"client_id": _client_id, "secret": env_str(f"DATAPUNK_{_name.upper()}_SECRET", "")}
            ]
        }
# Send a provider's calls (OAuth and API alike) to another server: tests' fakes, a proxy.
CONNECTOR_BASE_URLS = {
    _name: env_str(f"DATAPUNK_{_name.upper()}_BASE_URL", "") for _name in CONNECTOR_PROVIDERS
}
# The https:// address at which the providers reach this server (a reverse proxy,
# a tunnel): Graph change notifications and Twitch EventSub deliver there, at
# /api/webhooks/<provider>/. Empty or not https: no push subscription is made
# and the connectors only poll (every 15 minutes).
DATAPUNK_PUBLIC_URL = env_str("DATAPUNK_PUBLIC_URL", "")
# Retries, backoff, circuit breaker (apps/stream/outbound.py).
DATAPUNK_OUTBOUND = {
    "attempts": env_int("DATAPUNK_OUTBOUND_ATTEMPTS", 5),
    "backoff_base": env_float("DATAPUNK_OUTBOUND_BACKOFF", 1.0),
    "backoff_max": 60.0,
    "retry_after_max": 120.0,
    "rate_wait_max": 120.0,
    "breaker_threshold": env_int("DATAPUNK_BREAKER_THRESHOLD", 5),
    "breaker_timeout": env_float("DATAPUNK_BREAKER_TIMEOUT", 60.0),
    "timeout": 20.0,
}
# Token buckets (rate per second, burst) for the whole provider and per
# connection, below each provider's documented limits: Discord 50 req/s
# global, Twitch 800 points/min per token, Graph 10,000 per 10 min per
# mailbox; Spotify and Google publish no fixed figure (30 s rolling window, quotas).
DATAPUNK_RATE_LIMITS = {
    "spotify": {"provider": (5.0, 10.0), "connection": (2.0, 5.0)},
    "google": {"provider": (5.0, 10.0), "connection": (2.0, 5.0)},
    "microsoft": {"provider": (10.0, 20.0), "connection": (4.0, 8.0)},
    "discord": {"provider": (20.0, 20.0), "connection": (2.0, 5.0)},
    "twitch": {"provider": (10.0, 20.0), "connection": (5.0, 10.0)},
    "default": {"provider": (5.0, 10.0), "connection": (2.0, 5.0)},
}
