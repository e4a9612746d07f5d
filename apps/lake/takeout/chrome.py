"""Chrome browsing history: ``Takeout/Chrome/History.json`` (older ``BrowserHistory.json``).

``{"Browser History": [{title, url, time_usec, page_transition or
page_transition_qualifier, favicon_url, client_id}]}``, streamed item by item:
years of browsing make a big file.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import PurePosixPath
from typing import Any, BinaryIO

from . import jsonstream
from .fields import from_epoch_us
from .paths import head_text, lower_parts
from .records import BadRecord, EventRecord, Parser, Record, excerpt_of

# "History.json" was renamed from "BrowserHistory.json" in 2023-24. Localised
# names: de, es, nl from public path tables; fr assumed by analogy.
_NAMES = frozenset(
    {
        "browserhistory.json",
        "history.json",
        "verlauf.json",
        "historial.json",
        "geschiedenis.json",
        "historique.json",
    }
)
_SNIFF = re.compile(r'\{\s*"Browser History"\s*:')


def matches(path: PurePosixPath) -> bool:
    parts = lower_parts(path)
    if parts[-1] not in _NAMES:
        return False
    # "History.json" alone could be anything; BrowserHistory.json cannot.
    return "chrome" in parts[:-1] or parts == ("browserhistory.json",)


def sniff(head: bytes) -> bool:
    return _SNIFF.match(head_text(head)) is not None


def parse(stream: BinaryIO, path: PurePosixPath) -> Iterator[Record]:
    for item in jsonstream.iter_items(stream, "Browser History.item"):
        try:
            yield visit_event(item)
        except KeyError as exc:
            yield BadRecord(reason=f"visit without {exc.args[0]}", excerpt=excerpt_of(item))
        except ValueError as exc:
            yield BadRecord(reason=f"visit time: {exc}", excerpt=excerpt_of(item))
        except TypeError:
            yield BadRecord(reason="visit is not a JSON object", excerpt=excerpt_of(item))


def visit_event(item: dict[str, Any]) -> EventRecord:
    if not isinstance(item, dict):
        raise TypeError("not an object")
    return EventRecord(
        kind="chrome.visit",
        occurred_at=from_epoch_us(item["time_usec"]),
        title=str(item.get("title") or ""),
        url=str(item.get("url") or ""),
        data=item,
    )


PARSERS: list[Parser] = [
    Parser(product="chrome.history", matches=matches, parse=parse, sniff=sniff),
]
