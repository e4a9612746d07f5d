"""Group commit for the ingest endpoint and the devices' endpoints: requests
that arrive together share one transaction.

A single-event request costs little to validate but a whole commit (a WAL
flush) to store; at hundreds of requests a second, commits are the limit.
Each daphne event loop has one committer: requests queue their validated
records and wait; one thread stores everything queued so far in one
transaction (apps.stream.services.events_ingest_group for the ingest
endpoint, apps.stream.devices.services.device_items_store for the devices'),
then every waiting request gets its own outcome. Nothing is answered before its commit, and at
low rates a request is stored alone, at once (there is no timer).

The live feed hears of a group from the loop itself, before the answers; the
tasks a group queues for later (embeddings, the daily series) are queued by a
second thread after the answers, so neither holds the committing thread.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Generic, Protocol, TypeVar

from asgiref.sync import sync_to_async

from apps.core.db.connections import connection_keep_healthy
from apps.core.feed import FeedMessage, feed_messages_held, publish_held
from apps.lake.pipeline import followups_deferred
from apps.stream.services import IngestItem, events_ingest_group

logger = logging.getLogger(__name__)

# A group holds at most this many events: one transaction stays short, and
# the writer's batch (apps.lake.writer.OTHER_BATCH) is not exceeded.
GROUP_MAX_EVENTS = 5_000

# One thread stores the groups: its database connection stays open between
# them, and groups of one user never race each other.
_store_thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ingest-commit")


# Another thread runs what a stored group queues for later (events_stored's
# receivers: embeddings, series), so the next group need not wait for it.
_followup_thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ingest-followups")

Followup = Callable[[], None]


class GroupItem(Protocol):
    @property
    def records(self) -> list: ...


Item = TypeVar("Item", bound=GroupItem)
Outcome = TypeVar("Outcome")
StoreItems = Callable[[list[Item]], list[Outcome]]
# A group's outcomes, what it published to the live feed, what it queued for later.
Stored = tuple[list[Outcome], list[tuple[int, FeedMessage]], list[Followup]]


def _store_group(store_items: StoreItems, items: list[Item]) -> Stored:
    """Store a group; what it publishes to the live feed and what it queues for
    later are returned, for the loop to send and hand on after answering."""
    connection_keep_healthy()  # kept between groups; a broken one is replaced
    with feed_messages_held() as messages, followups_deferred() as followups:
        outcomes = store_items(items)
    return outcomes, messages, followups


def _run_followups(followups: list[Followup]) -> None:
    for followup in followups:
        try:
            followup()
        except Exception:  # the events are stored and answered; log, go on
            logger.exception("a follow-up of an ingest group failed")


class Committer(Generic[Item, Outcome]):
    """Queue of one event loop; ``store`` returns once the item is committed."""

    def __init__(self, store_items: StoreItems) -> None:
        self._store_items = store_items  # one transaction for a list of items, one outcome each
        self._pending: list[tuple[Item, asyncio.Future[Outcome]]] = []
        self._task: asyncio.Task[None] | None = None

    async def store(self, item: Item) -> Outcome:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Outcome] = loop.create_future()
        self._pending.append((item, future))
        if self._task is None or self._task.done():
            # Ends when the queue is empty, so no task outlives a short-lived loop.
            self._task = loop.create_task(self._drain())
        return await future

    async def _drain(self) -> None:
        while self._pending:
            group: list[tuple[Item, asyncio.Future[Outcome]]] = []
            size = 0
            while self._pending and (
                not group or size + len(self._pending[0][0].records) <= GROUP_MAX_EVENTS
            ):
                entry = self._pending.pop(0)
                group.append(entry)
                size += len(entry[0].records)
            await self._store(group)

    async def _store(self, group: list[tuple[Item, asyncio.Future[Outcome]]]) -> None:
        store: Callable[..., Awaitable[Stored[Outcome]]] = sync_to_async(
            _store_group, thread_sensitive=False, executor=_store_thread
        )
        try:
            outcomes, messages, followups = await store(
                self._store_items, [item for item, _ in group]
            )
        except Exception as exc:
            if len(group) > 1:
                # One request's failure must not fail the others: store them one by one.
                for entry in group:
                    await self._store([entry])
                return
            group[0][1].set_exception(exc)
            return
        await publish_held(messages)  # committed: the feeds hear of it before the answers
        for (_, future), outcome in zip(group, outcomes, strict=True):
            if not future.done():  # the client may have gone; its events are stored anyway
                future.set_result(outcome)
        if followups:
            asyncio.get_running_loop().run_in_executor(_followup_thread, _run_followups, followups)


_committers: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[Callable, Committer]] = (
    weakref.WeakKeyDictionary()
)


def _ingest_items_store(items: list[IngestItem]) -> list:
    return events_ingest_group(items=items)


def committer(store_items: StoreItems = _ingest_items_store) -> Committer:
    """The running event loop's committer of ``store_items`` (daphne has one loop);
    by default the ingest endpoint's."""
    loop = asyncio.get_running_loop()
    by_store = _committers.setdefault(loop, {})
    if store_items not in by_store:
        by_store[store_items] = Committer(store_items)
    return by_store[store_items]
