"""Settings of the workers and the web processes that the review found missing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.utils import timezone

from datapunk.celery import app


def test_inbound_delivery_prune_is_scheduled_and_prunes() -> None:
    tasks = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert "apps.stream.tasks.prune_inbound_deliveries" in tasks
    app.loader.import_default_modules()
    assert "apps.stream.tasks.prune_inbound_deliveries" in app.tasks


@pytest.mark.django_db
def test_the_scheduled_prune_forgets_old_ids() -> None:
    from apps.stream.models import InboundDelivery
    from apps.stream.tasks import prune_inbound_deliveries
    from tests.acting import as_user

    user = get_user_model().objects.create_user("pruner", password="x-long-password-1")
    old = timezone.now() - timedelta(hours=2)
    with as_user(user):
        InboundDelivery.objects.create(user=user, channel="ingest", message_id="a", received_at=old)
        InboundDelivery.objects.create(
            user=user, channel="ingest", message_id="b", received_at=timezone.now()
        )
    assert prune_inbound_deliveries.apply().get() == 1
    with as_user(user):
        assert list(InboundDelivery.objects.values_list("message_id", flat=True)) == ["b"]


def test_redis_redelivers_only_after_the_longest_task() -> None:
    """Late acks on Redis: an unacked task comes back after visibility_timeout
    (Celery's default: 1 hour), so a longer backup would run twice."""
    assert settings.CELERY_TASK_ACKS_LATE
    timeout = app.conf.broker_transport_options.get("visibility_timeout")
    assert timeout is not None and timeout >= 12 * 3600
    assert app.conf.task_time_limit is not None and app.conf.task_time_limit < timeout


def test_database_connections_are_not_kept_across_requests_under_asgi() -> None:
    # Under daphne each request runs in a thread of its own: a persistent
    # connection per thread is never reused and piles up.
    assert settings.DATABASES["default"]["CONN_MAX_AGE"] == 0
    assert settings.DATABASES["default"].get("CONN_HEALTH_CHECKS") is True
