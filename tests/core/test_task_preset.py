"""Every Celery task of the project carries the one preset (apps/core/retry.py)."""

from apps.core.retry import CONNECTION_ERRORS, RETRY_ON_LOST_CONNECTION
from datapunk.celery import app


def test_every_task_of_the_apps_uses_the_preset():
    app.loader.import_default_modules()
    ours = {name: task for name, task in app.tasks.items() if name.startswith("apps.")}
    # lake, privacy, stream, connectors, analytics (search too), ops
    assert {name.split(".")[1] for name in ours} == {
        "lake",
        "privacy",
        "stream",
        "connectors",
        "analytics",
        "ops",
    }
    for name, task in ours.items():
        assert task.acks_late is True, name
        assert tuple(task.autoretry_for) == CONNECTION_ERRORS, name
        assert task.retry_backoff == RETRY_ON_LOST_CONNECTION["retry_backoff"], name
        assert task.max_retries == RETRY_ON_LOST_CONNECTION["max_retries"], name
