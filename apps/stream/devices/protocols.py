"""Each app's own wire format, read into the lake's records.

OwnTracks messages and GeoJSON Features are read by the same functions as
OwnTracks .rec and GeoJSON track files (apps/lake/takeout/tracks_json.py).
Errors a sender can cause raise ProtocolError with a message for them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson

from apps.lake.takeout.records import BadRecord, LocationRecord, Record, excerpt_of
from apps.lake.takeout.tracks_json import geojson_feature_records, moment_of, owntracks_records


class ProtocolError(Exception):
    """The request as a whole cannot be read; nothing of it is stored."""


def _json(body: bytes) -> Any:
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise ProtocolError(f"The body is not valid JSON: {exc}.") from None


def owntracks_http_records(body: bytes, *, reported_device: str = "") -> list[Record]:
    """An OwnTracks HTTP-mode POST: one message object (or a list of them)."""
    payload = _json(body)
    messages = payload if isinstance(payload, list) else [payload]
    extra = {"reported_device": reported_device} if reported_device else None
    return [record for message in messages for record in owntracks_records(message, extra)]


def overland_records(body: bytes) -> list[Record]:
    """An Overland batch: ``{"locations": [GeoJSON Feature, ...]}``."""
    payload = _json(body)
    if not isinstance(payload, dict) or not isinstance(payload.get("locations"), list):
        raise ProtocolError('An Overland batch is an object {"locations": [Feature, ...]}.')
    return [
        record
        for feature in payload["locations"]
        for record in geojson_feature_records(feature, source="overland")
    ]


# GPSLogger's custom URL placeholders, by the parameter names the README suggests
# (and their common alternatives).
_GPSLOGGER_NUMBERS = {
    "acc": "accuracy_m",
    "alt": "altitude_m",
    "spd": "velocity_mps",
    "dir": "heading_deg",
}


def gpslogger_records(params: Mapping[str, str]) -> list[Record]:
    """GPSLogger's "Log to custom URL": one fix in query or form parameters."""
    values = {key.casefold(): value for key, value in params.items() if value != ""}
    latitude = values.pop("lat", None) or values.pop("latitude", None)
    longitude = values.pop("lon", None) or values.pop("longitude", None)
    stamp = values.pop("time", None) or values.pop("timestamp", None)
    values.pop("token", None)
    if latitude is None or longitude is None:
        raise ProtocolError("GPSLogger: lat and lon are required (use %LAT and %LON).")
    if stamp is None:
        raise ProtocolError("GPSLogger: time is required (use %TIME or %TIMESTAMP).")
    try:
        numbers: dict[str, float | None] = {
            field: float(values.pop(key)) if key in values else None
            for key, field in _GPSLOGGER_NUMBERS.items()
        }
        record: Record = LocationRecord(
            recorded_at=moment_of(stamp),
            latitude=float(latitude),
            longitude=float(longitude),
            source="gpslogger",
            data=dict(values) or None,
            **numbers,  # type: ignore[arg-type]
        )
    except ValueError as exc:
        record = BadRecord(f"GPSLogger fix: {exc}", excerpt_of(dict(params)))
    return [record]
