"""Readers for the field encodings Takeout uses; every parser shares them.

Each raises ValueError with a message fit for the quarantine reason.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def parse_iso(value: str) -> datetime:
    """ISO 8601 as Takeout writes it ("2015-10-10T18:47:02.597Z", offsets, >6 fraction digits).

    A value without an offset is taken as UTC (Takeout JSON always means UTC).
    """
    if not isinstance(value, str) or not value:
        raise ValueError(f"not a timestamp: {value!r}")
    text = value.strip().replace(" ", "T", 1) if "T" not in value else value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    # Python accepts at most 6 fraction digits; Takeout sometimes writes 9.
    text = re.sub(r"(\.\d{6})\d+", r"\1", text)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"not an ISO 8601 timestamp: {value!r}") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment


def from_epoch_ms(value: str | int | float) -> datetime:
    """Milliseconds since the epoch (``timestampMs``, often a string)."""
    try:
        return _EPOCH + timedelta(milliseconds=int(value))
    except (TypeError, ValueError, OverflowError):
        raise ValueError(f"not a millisecond timestamp: {value!r}") from None


def from_epoch_us(value: str | int | float) -> datetime:
    """Microseconds since the epoch (Chrome ``time_usec``, Keep ``*TimestampUsec``)."""
    try:
        return _EPOCH + timedelta(microseconds=int(value))
    except (TypeError, ValueError, OverflowError):
        raise ValueError(f"not a microsecond timestamp: {value!r}") from None


def from_epoch_s(value: str | int | float) -> datetime:
    """Seconds since the epoch (Photos ``photoTakenTime.timestamp``)."""
    try:
        return _EPOCH + timedelta(seconds=int(value))
    except (TypeError, ValueError, OverflowError):
        raise ValueError(f"not a seconds timestamp: {value!r}") from None


# Below this many microseconds (2038) a double holds ``us / 1e6`` to within 0.12 µs, so
# fromtimestamp (rounding to the microsecond) gives the exact instant, in half the time of
# the timedelta sum; Fit writes a million of these per file.
_EXACT_FLOAT_US = 2**31 * 10**6
_fromtimestamp = datetime.fromtimestamp


def from_epoch_ns(value: str | int) -> datetime:
    """Nanoseconds since the epoch (Fit ``startTimeNanos``), kept to the microsecond."""
    try:
        us = int(value) // 1000
        if 0 <= us < _EXACT_FLOAT_US:
            return _fromtimestamp(us / 1e6, UTC)
        return _EPOCH + timedelta(microseconds=us)
    except (TypeError, ValueError, OverflowError):
        raise ValueError(f"not a nanosecond timestamp: {value!r}") from None


def e7_to_degrees(value: int | str) -> float:
    """``latitudeE7`` (degrees × 10^7) to degrees, exact to the 7 digits given.

    Some exports wrote negative E7 values as unsigned 32-bit numbers (a known
    Google bug): 3956279296 is -338688000. Real E7 values stay within ±1.8e9,
    below 2^31, so anything from 2^31 up is such a value and is turned back.
    """
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ValueError(f"not an E7 coordinate: {value!r}") from None
    if 2**31 <= number < 2**32:
        number -= 2**32
    return round(number / 1e7, 7)


_LATLNG = re.compile(r"^\s*(?:geo:)?\s*(-?\d+(?:\.\d+)?)\s*°?\s*,\s*(-?\d+(?:\.\d+)?)\s*°?\s*$")


def parse_latlng(value: str) -> tuple[float, float]:
    """ "48.1234567°, 11.1234567°" (Android) or "geo:48.123,11.123" (iOS) to (lat, lng)."""
    match = _LATLNG.match(value) if isinstance(value, str) else None
    if not match:
        raise ValueError(f"not a coordinate pair: {value!r}")
    return check_coordinates(float(match.group(1)), float(match.group(2)))


def check_coordinates(latitude: float, longitude: float) -> tuple[float, float]:
    """Reject positions outside the globe (E7 overflow bugs in old exports produce them)."""
    if not (-90.0 <= latitude <= 90.0 and -180.0 <= longitude <= 180.0):
        raise ValueError(f"coordinates outside the globe: {latitude}, {longitude}")
    return latitude, longitude
