"""BatchWriter owns one transaction per batch for every kind of row, and ``add`` says
when the batch is full."""

import datetime as dt

import pytest

from apps.lake import writer
from apps.lake.models import Event, LocationPoint, Place, Visit
from apps.lake.takeout.records import EventRecord, LocationRecord, PlaceRecord, VisitRecord
from apps.lake.writer import BatchWriter
from tests.acting import as_user

pytestmark = pytest.mark.django_db

MOMENT = dt.datetime(2024, 5, 1, 12, tzinfo=dt.UTC)


def point(minute: int) -> LocationRecord:
    return LocationRecord(MOMENT + dt.timedelta(minutes=minute), 38.7, -9.1, source="GPS")


def test_add_says_when_the_points_fill_the_batch(owner, monkeypatch):
    with as_user(owner):
        monkeypatch.setattr(writer, "POINT_BATCH", 3)
        with BatchWriter(user_id=owner.pk, source="test") as batch:
            assert [batch.add(point(minute)) for minute in range(3)] == [False, False, True]
            assert batch.full
            result = batch.flush()
        assert (result.written, result.duplicate) == (3, 0)
        assert LocationPoint.objects.filter(user=owner).count() == 3


def test_add_says_when_other_rows_fill_the_batch(owner, monkeypatch):
    with as_user(owner):
        monkeypatch.setattr(writer, "OTHER_BATCH", 2)
        with BatchWriter(user_id=owner.pk, source="test") as batch:
            first = batch.add(EventRecord(kind="a.b", occurred_at=MOMENT, title="one"))
            second = batch.add(EventRecord(kind="a.b", occurred_at=MOMENT, title="two"))
            assert (first, second) == (False, True)
            batch.flush()
        assert Event.objects.filter(user=owner).count() == 2


def test_a_failure_rolls_back_every_kind_of_the_batch_in_flight(owner):
    """Points streamed into their COPY, events, places and visits: one transaction."""
    with as_user(owner):
        with BatchWriter(user_id=owner.pk, source="test") as batch:
            batch.add(point(0))
            batch.add(EventRecord(kind="a.b", occurred_at=MOMENT, title="one"))
            batch.add(PlaceRecord(place_id="p1", latitude=38.7, longitude=-9.1, name="Home"))
            batch.add(
                VisitRecord(
                    started_at=MOMENT,
                    ended_at=MOMENT + dt.timedelta(hours=1),
                    latitude=38.7,
                    longitude=-9.1,
                    place_id="p1",
                )
            )

            def fail(result):
                raise RuntimeError("the checkpoint could not be written")

            with pytest.raises(RuntimeError):
                batch.flush(fail)
        for model in (LocationPoint, Event, Place, Visit):
            assert not model.objects.filter(user=owner).exists(), model
        # The writer is usable again: the next batch commits as a whole.
        with BatchWriter(user_id=owner.pk, source="test") as batch:
            batch.add(point(1))
            batch.add(EventRecord(kind="a.b", occurred_at=MOMENT, title="two"))
            result = batch.flush()
        assert result.written == 2
