"""The shared field readers of the Takeout parsers."""

import random
from datetime import UTC, datetime, timedelta

import pytest

from apps.lake.takeout.fields import _EXACT_FLOAT_US, from_epoch_ns

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def test_nanoseconds_are_the_exact_microsecond_on_either_path():
    rng = random.Random(16)
    values = [rng.randrange(0, _EXACT_FLOAT_US * 1000) for _ in range(200_000)]
    values += [0, 999, 1000, _EXACT_FLOAT_US * 1000 - 1, _EXACT_FLOAT_US * 1000, -1, 10**20]
    values += [1_618_866_000_123_456_789, str(1_618_866_000_123_456_789)]
    for value in values:
        assert from_epoch_ns(value) == EPOCH + timedelta(microseconds=int(value) // 1000), value
    assert from_epoch_ns(1_618_866_000_123_456_789) == datetime(
        2021, 4, 19, 21, 0, 0, 123456, tzinfo=UTC
    )


@pytest.mark.parametrize("value", ["yesterday", None, 10**30])
def test_what_is_not_a_nanosecond_timestamp(value):
    with pytest.raises(ValueError, match="not a nanosecond timestamp"):
        from_epoch_ns(value)
