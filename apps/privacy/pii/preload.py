"""Loading the PII model ahead of the first write that needs it (daphne processes)."""

from __future__ import annotations

import gc
import logging
import threading
import time

from django.conf import settings

logger = logging.getLogger(__name__)


def _load() -> None:
    from apps.privacy.pii.scanner import pii_scanner

    started = time.monotonic()
    try:
        pii_scanner()
    except Exception:  # the first store will try again and report it there
        logger.exception("could not preload the PII model")
    else:
        logger.info("PII model loaded in %.1f s", time.monotonic() - started)
        # The model is ~300,000 objects that live as long as the process; out of
        # the cyclic collector's sight, a full collection takes milliseconds, not
        # the second it took (stalling every request of the loop) under load.
        gc.freeze()


_preload: threading.Thread | None = None


def pii_preload_in_background() -> threading.Thread | None:
    """Load the scanner on a daemon thread (streams are scanned as they are stored,
    and a webhook's sender waits only a few seconds for its answer)."""
    global _preload
    if not settings.DATAPUNK_PII_PRELOAD:
        return None
    _preload = threading.Thread(target=_load, name="pii-preload", daemon=True)
    _preload.start()
    return _preload


def pii_model_loading() -> bool:
    """True while this process's preload is still loading the model: a caller
    that can do without the scanner need not wait (tens of seconds on a busy
    machine) for it."""
    return _preload is not None and _preload.is_alive()
