"""The Celery task runs the import and the user's live feed hears its progress."""

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from apps.core.feed import feed_group
from apps.lake.models import Import
from apps.lake.tasks import run_takeout_import
from tests.acting import refreshed, takeout_prepare

pytestmark = pytest.mark.django_db


def test_task_runs_the_import_and_publishes_progress(owner, sample_zip):
    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(feed_group(owner.pk), channel)
    run = takeout_prepare(owner, sample_zip)

    run_takeout_import(run.pk)  # the task function itself, as a worker calls it

    refreshed(run)
    assert run.status == Import.Status.DONE
    messages = []
    while True:
        try:
            messages.append(async_to_sync(layer.receive)(channel))
        except Exception:
            break
        if messages[-1]["message"]["type"] == "import.finished":
            break
    kinds = [m["message"]["type"] for m in messages]
    assert kinds[0] == "import.progress" and kinds[-1] == "import.finished"
    last = messages[-1]["message"]["data"]
    assert last["import_id"] == run.pk
    assert last["status"] == "done"
    assert last["records_written"] == run.records_written
    done = [m["message"]["data"]["members_done"] for m in messages]
    assert done == sorted(done) and done[-1] == run.members_total


def test_task_for_a_missing_import_is_a_no_op():
    assert run_takeout_import(987654) is None


def test_task_for_a_finished_import_changes_nothing(owner, sample_zip):
    run = takeout_prepare(owner, sample_zip)
    run_takeout_import(run.pk)
    refreshed(run)
    written = run.records_written
    run_takeout_import(run.pk)
    refreshed(run)
    assert run.records_written == written


def test_task_retries_when_the_database_connection_is_lost(monkeypatch, owner, sample_zip):
    from django.db import OperationalError

    from apps.lake import tasks

    run = takeout_prepare(owner, sample_zip)

    calls = []

    def lose_connection(*, import_id):
        calls.append(import_id)
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(tasks, "takeout_import_run", lose_connection)
    result = run_takeout_import.apply(args=[run.pk])

    assert result.failed()
    assert isinstance(result.result, OperationalError)
    assert calls == [run.pk] * (1 + run_takeout_import.max_retries)


def test_task_does_not_retry_other_errors(monkeypatch, owner, sample_zip):
    from apps.lake import tasks

    run = takeout_prepare(owner, sample_zip)

    calls = []

    def broken(*, import_id):
        calls.append(import_id)
        raise RuntimeError("a bug")

    monkeypatch.setattr(tasks, "takeout_import_run", broken)
    assert run_takeout_import.apply(args=[run.pk]).failed()
    assert calls == [run.pk]
