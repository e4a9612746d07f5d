"""Phone numbers as people write them (PhoneShapeRecognizer, scanner version 3), and the
digits beside a phone word that are not one."""

from __future__ import annotations

import pytest

FOUND = [
    # Unassigned area codes and extensions, which phonenumbers' validity refused.
    ("my phone number is +1-426-216-4730x756", "+1-426-216-4730x756"),
    ("Missed call: 230.920.2773x1895", "230.920.2773x1895"),
    ("Missed call: (411)989-2553", "(411)989-2553"),
    ("Call me on 001-665-457-4246x143 tomorrow", "001-665-457-4246x143"),
    # A trunk zero, UK and German groupings, a bare national number after a phone word.
    ("Call me on +44(0)1632 960178 tomorrow", "+44(0)1632 960178"),
    ("Call me on 0151 4960404 tomorrow", "0151 4960404"),
    ("Ruf an: mobile 030/1234567", "030/1234567"),
    ("Call me on 36241900560 tomorrow", "36241900560"),
    # A + format needs no phone word.
    ("TEL;TYPE=cell:tel:+1-555-123-4567", "+1-555-123-4567"),
]
NOT_FOUND = [
    "Called about order 48213990 on 2021-03-04",
    "Call duration 03:12, phone battery 87%",
    "From 1277085061787347926@xxx Tue Aug 05 08:00:23 +0000 2008",
    "broadcaster_user_id 44429626",
    "Call back on 2024-05-01",
    "phone at 10.20.30.40",
    "called 3.14159265",
    "Text from 55512: your code is 492013",
]


@pytest.mark.parametrize(("text", "phone"), FOUND)
def test_phone_numbers_are_found(scanner, text, phone):
    found = [(f.entity_type, text[f.start : f.end]) for f in scanner.scan_text(text)]
    assert ("PHONE_NUMBER", phone) in found


@pytest.mark.parametrize("text", NOT_FOUND)
def test_digits_that_are_no_phone_number(scanner, text):
    assert [f for f in scanner.scan_text(text) if f.entity_type == "PHONE_NUMBER"] == []
