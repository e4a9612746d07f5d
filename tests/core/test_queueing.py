"""queue_after_commit: after the commit, never before, and never failing the caller."""

import logging

import pytest
from django.db import transaction

from apps.core.queueing import queue_after_commit

pytestmark = pytest.mark.django_db(transaction=True)


class Task:
    name = "demo.task"

    def __init__(self, error: Exception | None = None) -> None:
        self.calls: list[tuple] = []
        self.error = error

    def delay(self, *args) -> None:
        if self.error is not None:
            raise self.error
        self.calls.append(args)


def test_queued_once_the_transaction_commits_and_not_after_a_rollback():
    task = Task()
    with transaction.atomic():
        queue_after_commit(task, 1, "a")
        assert task.calls == []
    assert task.calls == [(1, "a")]
    with pytest.raises(RuntimeError), transaction.atomic():
        queue_after_commit(task, 2)
        raise RuntimeError("the caller's work failed")
    assert task.calls == [(1, "a")]


def test_a_broker_outage_is_logged_with_short_arguments_not_raised(caplog):
    task = Task(ConnectionError("broker down"))
    with caplog.at_level(logging.ERROR, logger="apps.core.queueing"):
        queue_after_commit(task, 7, list(range(5000)))  # outside a transaction: at once
    (record,) = caplog.records
    assert record.getMessage().startswith("could not queue demo.task(7, [0, 1, 2")
    assert len(record.getMessage()) < 200
