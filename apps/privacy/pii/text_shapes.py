"""Strings that are values, not text: numbers, coordinates, timestamps, durations, ids, hashes.

Light (no presidio): the scanner skips such strings, and redaction never masks
one, whatever an older scanner version stored about it. A Fit export's
"14.16169065485398" kcal is a measurement; scanning it as text found "credit
cards" in the digits after the decimal point.

A bare run of digits is an id or a count, except one that is card-shaped
(13-19 digits, a known issuer prefix, Luhn-valid), which is scanned: a card
number is often stored alone in a field. About one random 16-digit id in
thirty passes those three, so ids of that length can be flagged; timestamps in
milliseconds or nanoseconds start with 1, which no issuer but UATP (15 digits)
uses.
"""

from __future__ import annotations

import re

_NUM = r"[-+]?(?:\d+(?:[.,]\d*)?|[.,]\d+)(?:[eE][-+]?\d+)?"
_DEC = r"[-+]?\d+\.\d+"
_GROUPED = r"[-+]?\d{1,3}(?:[, ]\d{3})+(?:\.\d+)?"
_UNIT = r"(?:ms|s|sec|secs|min|mins|h|hr|hrs|km|m|mi|kcal|cal|bpm|%|°|deg|kg|g|steps)"
VALUE_SHAPES = [
    rf"{_NUM}",
    rf"{_GROUPED}",
    rf"{_NUM}\s*{_UNIT}",
    # A coordinate pair or triple: "52.5200, 13.4050", "geo:52.52,13.40", "52.52 13.40 34"
    rf"(?:geo:)?{_DEC}\s*[,; ]\s*{_DEC}(?:\s*[,; ]\s*{_NUM})?",
    r"[-+]?\d{1,3}(?:\.\d+)?°\s*[NSEW]?(?:,?\s*[-+]?\d{1,3}(?:\.\d+)?°\s*[NSEW]?)?",
    # ISO dates and timestamps, with or without time, fraction and offset.
    r"\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?)?\s*(?:Z|UTC|[+-]\d{2}:?\d{2})?",
    r"\d{4}/\d{2}/\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2})?)?",
    # Times and durations: "12:30", "1:02:03.5", ISO 8601 "PT1H2M3.5S", "3600s".
    r"\d{1,3}:\d{2}(?::\d{2}(?:[.,]\d+)?)?",
    r"P(?=\d|T\d)(?:\d+(?:[.,]\d+)?[YMWD])*(?:T(?:\d+(?:[.,]\d+)?[HMS])+)?",
    # Ids and hashes: UUIDs, hex digests, version strings "1.2.3".
    r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}",
    r"0x[0-9a-fA-F]+",
    r"(?=[0-9a-f]*[a-f])[0-9a-f]{12,}",
    r"[0-9A-F]{32}|[0-9A-F]{40}|[0-9A-F]{64}",
    r"(?:sha\d*|md5)[:-][0-9a-fA-F]{16,}",
    # Versions "1.2", "v10.4.3" (no leading zero, at most three parts: "192.168.1.1" is
    # an address, "078.05.1123" a social security number).
    r"v?(?:0|[1-9]\d{0,2})(?:\.\d{1,4}){1,2}(?:[-+][0-9A-Za-z.]+)?",
    # Opaque tokens (YouTube, Maps, Photos ids): long, no spaces, lower case letters
    # and digits mixed. IBANs are upper case, so they are never taken for one.
    r"(?=[A-Za-z0-9_-]*[a-z])(?=[A-Za-z0-9_-]*\d)[A-Za-z0-9_-]{20,}",
]
_VALUE = re.compile("|".join(f"(?:{shape})" for shape in VALUE_SHAPES))


def is_value_not_text(text: str) -> bool:
    """True for a string that is, as a whole, a number, coordinate, timestamp,
    duration, id or hash: nothing in it is scanned or masked."""
    stripped = text.strip()
    if not stripped or _VALUE.fullmatch(stripped) is None:
        return False
    return not (stripped.isdigit() and card_shaped(stripped))


# Issuer prefixes (IIN ranges, inclusive, compared on the first digits) and the
# lengths each issues: Visa, Mastercard, Amex, Discover, Diners, JCB, UnionPay,
# Maestro, Mir, UATP. A Luhn-valid digit run outside these is not a card.
CARD_ISSUERS: list[tuple[str, str, tuple[int, ...]]] = [
    ("4", "4", (13, 16, 19)),
    ("51", "55", (16,)),
    ("2221", "2720", (16,)),
    ("34", "34", (15,)),
    ("37", "37", (15,)),
    ("6011", "6011", (16, 17, 18, 19)),
    ("644", "649", (16, 17, 18, 19)),
    ("65", "65", (16, 17, 18, 19)),
    ("300", "305", (14, 15, 16, 17, 18, 19)),
    ("36", "36", (14, 15, 16, 17, 18, 19)),
    ("38", "39", (16, 17, 18, 19)),
    ("3528", "3589", (16, 17, 18, 19)),
    ("62", "62", (16, 17, 18, 19)),
    ("50", "50", (13, 14, 15, 16, 17, 18, 19)),
    ("56", "58", (13, 14, 15, 16, 17, 18, 19)),
    ("67", "67", (13, 14, 15, 16, 17, 18, 19)),
    ("2200", "2204", (16, 17, 18, 19)),
    ("1", "1", (15,)),
]


def luhn_valid(digits: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def card_shaped(digits: str) -> bool:
    """13-19 digits with a known issuer's prefix and length, passing Luhn."""
    return (
        digits.isdigit()
        and 13 <= len(digits) <= 19
        and any(
            low <= digits[: len(low)] <= high and len(digits) in lengths
            for low, high, lengths in CARD_ISSUERS
        )
        and luhn_valid(digits)
    )


# A span that is part of a longer number: a digit or a decimal separator followed
# by a digit right before or after it ("14.16169065485398" holds no card).
_NUMBER_AFTER = re.compile(r"^(?:\d|[.,]\d)")


def inside_a_number(text: str, start: int, end: int) -> bool:
    """True when ``text[start:end]`` continues a number on either side."""
    before = text[max(0, start - 2) : start]
    return bool(
        (before and (before[-1].isdigit() or (before[-1] in ".," and before[:-1][-1:].isdigit())))
        or _NUMBER_AFTER.match(text[end : end + 2])
    )
