"""The nginx front's configuration (scripts/front.conf.template), filled in.

The template is the one source of the limits' routes; this fills its
placeholders for a local run, the way the nginx image's envsubst does in
compose.yaml, with the limits from settings.
"""

from __future__ import annotations

import os
import pwd
import re
import sys
from pathlib import Path

from django.conf import settings

TEMPLATE = Path(settings.BASE_DIR) / "scripts" / "front.conf.template"
_PLACEHOLDER = re.compile(r"\$\{([A-Z_]+)\}")


def daphne_command(socket_path: str | Path, *extra: str) -> list[str]:
    """One daphne process on a unix socket, as the front expects it (scripts/demo.sh)."""
    daphne = Path(sys.executable).parent / "daphne"
    return [
        str(daphne),
        "-u",
        str(socket_path),
        "--proxy-headers",
        *extra,
        "datapunk.asgi:application",
    ]


def nginx_command(*, config: Path, error_log: Path) -> list[str]:
    """nginx in the foreground with the front's ``config`` (from front_config)."""
    return ["nginx", "-e", str(error_log), "-c", str(config), "-g", "daemon off;"]


def real_ip_directives(trusted_proxies: list[str]) -> str:
    """nginx's realip lines believing X-Forwarded-For only from ``trusted_proxies``
    (addresses or CIDR ranges); nothing when there are none."""
    if not trusted_proxies:
        return ""
    sources = " ".join(f"set_real_ip_from {proxy};" for proxy in trusted_proxies)
    return f"{sources} real_ip_header X-Forwarded-For; real_ip_recursive on;"


def trusted_proxy_geo_entries(trusted_proxies: list[str]) -> str:
    """Lines of the template's geo block marking ``trusted_proxies`` (whose
    X-Forwarded-Proto is believed)."""
    return " ".join(f"{proxy} 1;" for proxy in trusted_proxies)


def front_config(*, listen: str, upstreams: list[str], run_dir: Path, log_dir: Path) -> str:
    """nginx.conf text for a front on ``listen`` (``host:port``) spreading requests
    over ``upstreams``, the daphne processes (``unix:/path.sock`` or ``host:port``)."""
    for folder in (run_dir, log_dir):
        folder.mkdir(parents=True, exist_ok=True)
    # Run as root, nginx would hand its workers to "nobody", who cannot write
    # the body buffers into our folders: keep them the user who starts it.
    user = f"user {pwd.getpwuid(os.geteuid()).pw_name};" if os.geteuid() == 0 else ""
    values = dict(
        FRONT_USER_DIRECTIVE=user,
        FRONT_LISTEN=listen,
        FRONT_UPSTREAM_SERVERS=" ".join(f"server {upstream};" for upstream in upstreams),
        FRONT_RUN_DIR=str(run_dir.resolve()),
        FRONT_LOG_DIR=str(log_dir.resolve()),
        FRONT_REAL_IP_DIRECTIVES=real_ip_directives(settings.DATAPUNK_TRUSTED_PROXIES),
        FRONT_TRUSTED_PROXY_GEO=trusted_proxy_geo_entries(settings.DATAPUNK_TRUSTED_PROXIES),
        DATAPUNK_MAX_REQUEST_BYTES=str(settings.DATAPUNK_MAX_REQUEST_BYTES),
        DATAPUNK_MAX_CHUNK_BYTES=str(settings.DATAPUNK_MAX_CHUNK_BYTES),
    )
    # Only braced capitals are ours: $http_upgrade and friends are nginx's.
    return _PLACEHOLDER.sub(lambda match: values[match.group(1)], TEMPLATE.read_text())


def front_config_write(folder: Path, *, listen: str, upstreams: list[str]) -> Path:
    """Write folder/front.conf (buffers in folder/front-run, logs in folder); its path."""
    path = folder / "front.conf"
    text = front_config(
        listen=listen, upstreams=upstreams, run_dir=folder / "front-run", log_dir=folder
    )
    path.write_text(text)
    return path
