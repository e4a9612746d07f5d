"""Two stores inside one outer transaction (a caller's atomic block, or a test's)
keep each batch's rows to its own user and source."""

import datetime as dt

import pytest
from django.db import transaction

from apps.lake.models import Event, LocationPoint
from apps.lake.takeout.records import EventRecord, LocationRecord
from tests.acting import all_of, count_of, store_records

pytestmark = pytest.mark.django_db

MOMENT = dt.datetime(2024, 5, 1, 12, tzinfo=dt.UTC)


def test_a_second_store_in_the_same_transaction_does_not_move_the_first_batch_again(
    owner, outsider
):
    with transaction.atomic():  # as a group commit stores several users' items
        store_records(
            owner, [EventRecord(kind="a.b", occurred_at=MOMENT, title="owner's")], source="one"
        )
        store_records(
            outsider,
            [EventRecord(kind="a.b", occurred_at=MOMENT, title="outsider's")],
            source="two",
        )
    assert [(e.title, e.source) for e in all_of(outsider, Event)] == [("outsider's", "two")]
    assert [(e.title, e.source) for e in all_of(owner, Event)] == [("owner's", "one")]


def test_points_through_staging_stay_with_their_user(owner, outsider):
    fix = LocationRecord(recorded_at=MOMENT, latitude=1.0, longitude=2.0)
    with transaction.atomic():
        store_records(owner, [fix], source="one")
        store_records(owner, [fix], source="one")  # duplicate: via staging
        theirs = LocationRecord(recorded_at=MOMENT, latitude=3.0, longitude=4.0)
        store_records(outsider, [theirs], source="two")
        store_records(outsider, [theirs], source="two")
    assert count_of(owner, LocationPoint) == 1
    assert count_of(outsider, LocationPoint) == 1
