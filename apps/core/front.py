"""The nginx front's configuration (scripts/front.conf.template), filled in.

The template is the one source of the limits' routes; this fills its
placeholders for a local run, the way the nginx image's envsubst does in
compose.yaml, with the limits from settings.
"""

from __future__ import annotations

import os
import pwd
import re
from pathlib import Path

from django.conf import settings

TEMPLATE = Path(settings.BASE_DIR) / "scripts" / "front.conf.template"
_PLACEHOLDER = re.compile(r"\$\{([A-Z_]+)\}")


def front_config(*, listen: str, upstream: str, run_dir: Path, log_dir: Path) -> str:
    """nginx.conf text for a front on ``listen`` (``host:port``) proxying to
    ``upstream`` (``unix:/path.sock`` or ``host:port``)."""
    for folder in (run_dir, log_dir):
        folder.mkdir(parents=True, exist_ok=True)
    # Run as root, nginx would hand its workers to "nobody", who cannot write
    # the body buffers into our folders: keep them the user who starts it.
    user = f"user {pwd.getpwuid(os.geteuid()).pw_name};" if os.geteuid() == 0 else ""
    values = dict(
        FRONT_USER_DIRECTIVE=user,
        FRONT_LISTEN=listen,
        FRONT_UPSTREAM=upstream,
        FRONT_RUN_DIR=str(run_dir.resolve()),
        FRONT_LOG_DIR=str(log_dir.resolve()),
        DATAPUNK_MAX_REQUEST_BYTES=str(settings.DATAPUNK_MAX_REQUEST_BYTES),
        DATAPUNK_MAX_CHUNK_BYTES=str(settings.DATAPUNK_MAX_CHUNK_BYTES),
    )
    # Only braced capitals are ours: $http_upgrade and friends are nginx's.
    return _PLACEHOLDER.sub(lambda match: values[match.group(1)], TEMPLATE.read_text())
