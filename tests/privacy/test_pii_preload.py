"""daphne processes load the PII model when they start, not on their first store."""

from __future__ import annotations

import threading

from apps.privacy.pii import scanner as pii
from apps.privacy.pii.preload import pii_preload_in_background


def test_the_preload_loads_the_one_scanner_that_stores_then_use(settings):
    settings.DATAPUNK_PII_PRELOAD = True
    thread = pii_preload_in_background()
    assert thread is not None and thread.daemon
    thread.join(120)
    assert not thread.is_alive()
    assert pii._scanner.cache_info().currsize == 1
    assert pii.pii_scanner() is pii.pii_scanner()


def test_the_preload_can_be_turned_off(settings):
    settings.DATAPUNK_PII_PRELOAD = False
    assert pii_preload_in_background() is None


def test_threads_asking_while_it_loads_get_one_scanner(monkeypatch):
    # A fresh cache: the loads below race, as a preload and a first store would.
    monkeypatch.setattr(pii, "_scanner", pii.lru_cache(maxsize=1)(pii.PiiScanner))
    built = []
    original = pii.PiiScanner.__init__

    def counting_init(self, *args, **kwargs):
        built.append(self)
        original(self, *args, **kwargs)

    monkeypatch.setattr(pii.PiiScanner, "__init__", counting_init)
    got = []
    threads = [threading.Thread(target=lambda: got.append(pii.pii_scanner())) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert len(built) == 1
    assert len(got) == 4 and all(scanner is got[0] for scanner in got)
