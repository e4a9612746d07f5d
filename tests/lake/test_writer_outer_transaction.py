"""Two stores inside one outer transaction (a caller's atomic block, or a test's)
keep each batch's rows to its own user and source."""

import datetime as dt

import pytest
from django.db import transaction

from apps.lake.models import Event, LocationPoint
from apps.lake.pipeline import records_store
from apps.lake.takeout.records import EventRecord, LocationRecord

pytestmark = pytest.mark.django_db

MOMENT = dt.datetime(2024, 5, 1, 12, tzinfo=dt.UTC)


def test_a_second_store_in_the_same_transaction_does_not_move_the_first_batch_again(
    owner, outsider
):
    with transaction.atomic():
        records_store(
            user_id=owner.pk,
            source="one",
            records=[EventRecord(kind="a.b", occurred_at=MOMENT, title="owner's")],
        )
        records_store(
            user_id=outsider.pk,
            source="two",
            records=[EventRecord(kind="a.b", occurred_at=MOMENT, title="outsider's")],
        )
    assert list(Event.objects.filter(user=outsider).values_list("title", "source")) == [
        ("outsider's", "two")
    ]
    assert list(Event.objects.filter(user=owner).values_list("title", "source")) == [
        ("owner's", "one")
    ]


def test_points_through_staging_stay_with_their_user(owner, outsider):
    fix = LocationRecord(recorded_at=MOMENT, latitude=1.0, longitude=2.0)
    with transaction.atomic():
        records_store(user_id=owner.pk, source="one", records=[fix])
        records_store(user_id=owner.pk, source="one", records=[fix])  # duplicate: via staging
        records_store(
            user_id=outsider.pk,
            source="two",
            records=[LocationRecord(recorded_at=MOMENT, latitude=3.0, longitude=4.0)],
        )
        records_store(
            user_id=outsider.pk,
            source="two",
            records=[LocationRecord(recorded_at=MOMENT, latitude=3.0, longitude=4.0)],
        )
    assert LocationPoint.objects.filter(user=owner).count() == 1
    assert LocationPoint.objects.filter(user=outsider).count() == 1
