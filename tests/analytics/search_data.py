"""A small hand-made life for the semantic search tests: events stored through the
stream pipeline (the real normalizer and writer), then embedded by the real model."""

from __future__ import annotations

from datetime import UTC, datetime

from apps.lake.takeout.records import EventRecord
from tests.acting import store_records


def at(day: str) -> datetime:
    return datetime.fromisoformat(day).replace(tzinfo=UTC)


# (kind, day, title, text, url): one clear topic each, so a paraphrase has one answer.
LIFE = [
    (
        "maps.saved_place",
        "2024-04-02T12:00",
        "Ichiran Dotonbori",
        "Tonkotsu noodle shop in Osaka, open all night",
        "https://maps.google.com/?cid=1",
    ),
    (
        "youtube.watch",
        "2024-05-10T20:00",
        "Watched Building a walnut dining table with hand tools",
        "",
        "https://www.youtube.com/watch?v=wood1",
    ),
    (
        "keep.note",
        "2024-06-01T08:30",
        "Grocery list",
        "eggs, spinach, oat milk, coffee beans",
        "",
    ),
    (
        "calendar.event",
        "2024-07-15T09:00",
        "Dentist appointment",
        "Check-up and cleaning at Dr. Silva's clinic",
        "",
    ),
    (
        "chrome.visit",
        "2024-08-20T18:00",
        "Cheap flights from Lisbon to Tokyo in October",
        "",
        "https://www.skyscanner.net/routes/lis/tyo",
    ),
    (
        "gmail.message",
        "2024-09-03T07:45",
        "Your electricity bill for August",
        "The amount of 61.20 EUR will be debited on 15 September.",
        "",
    ),
    (
        "youtube.search",
        "2024-10-11T21:10",
        "Searched for how to sharpen a chisel",
        "",
        "https://www.youtube.com/results?search_query=sharpen+chisel",
    ),
]


def store_life(user_id: int, *, source: str = "takeout") -> list[int]:
    """Store LIFE for the user; returns the new event ids in LIFE's order."""
    records = [
        EventRecord(kind=kind, occurred_at=at(day), title=title, text=text, url=url)
        for kind, day, title, text, url in LIFE
    ]
    return store_records(user_id, records, source=source).event_ids
