import io
import json
import zipfile
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath

import pytest

from apps.lake.takeout import contacts
from apps.lake.takeout.records import BadRecord, EventRecord, MemberError

PHOTO_BASE64 = "/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAAgGBgcGBQgHBwcJCQgKDBQNDAsLDBkSEw8UHRofHh0a"
# Shaped like a Google Contacts export: vCard 3.0, itemN groups, CATEGORIES.
GOOGLE_CARD = (
    "BEGIN:VCARD\r\n"
    "VERSION:3.0\r\n"
    "FN:Anna Beispiel\\, MD\r\n"
    "N:Beispiel;Anna;;;MD\r\n"
    "NICKNAME:Anni,Nana\r\n"
    "EMAIL;TYPE=INTERNET;TYPE=HOME:anna@example.org\r\n"
    "TEL;TYPE=CELL:+49 170 0000000\r\n"
    "ORG:Beispiel GmbH;Research\r\n"
    "BDAY:1985-04-15\r\n"
    "item1.URL:https://example.org/anna\r\n"
    "item1.X-ABLabel:PROFILE\r\n"
    "NOTE:Met at the conference.\\nLikes tea.\r\n"
    "PHOTO;ENCODING=b;TYPE=JPEG:" + PHOTO_BASE64[:50] + "\r\n " + PHOTO_BASE64[50:] + "\r\n"
    "CATEGORIES:myContacts,starred\r\n"
    "END:VCARD\r\n"
)
VCARD4 = (
    "BEGIN:VCARD\r\n"
    "VERSION:4.0\r\n"
    "FN:John Doe\r\n"
    "GEO:geo:37.386013,-122.082932\r\n"
    "REV:20231215T120000Z\r\n"
    'TEL;VALUE=uri;TYPE="voice,cell";PREF=1:tel:+1-555-555-5555\r\n'
    "END:VCARD\r\n"
)


def parse(data: bytes, name: str = "Takeout/Contacts/My Contacts/My Contacts.vcf") -> list:
    return list(contacts.parse(io.BytesIO(data), PurePosixPath(name)))


def test_google_vcard3_keeps_every_property():
    (record,) = parse(GOOGLE_CARD.encode())
    assert isinstance(record, EventRecord)
    assert record.kind == "contacts.contact"
    assert record.occurred_at is None
    assert record.title == "Anna Beispiel, MD"
    assert record.text == "Met at the conference.\nLikes tea."
    assert record.url == "https://example.org/anna"
    props = record.data["properties"]
    assert props["NICKNAME"] == [{"value": "Anni,Nana"}]  # both nicknames, unlike vobject
    assert props["EMAIL"] == [
        {"value": "anna@example.org", "params": {"TYPE": ["INTERNET", "HOME"]}}
    ]
    assert props["ORG"] == [{"value": "Beispiel GmbH;Research"}]
    assert props["BDAY"] == [{"value": "1985-04-15"}]
    assert props["X-ABLABEL"] == [{"value": "PROFILE", "group": "item1"}]
    assert props["CATEGORIES"] == [{"value": "myContacts,starred"}]
    # The embedded picture is replaced by its size, folded lines included.
    assert props["PHOTO"][0]["value"]["omitted"] == "embedded binary"
    assert props["PHOTO"][0]["value"]["base64_chars"] == len(PHOTO_BASE64)
    assert "BEGIN" not in props and "END" not in props
    json.dumps(record.data)


def test_vcard4_rev_geo_and_quoted_params():
    (record,) = parse(VCARD4.encode())
    assert record.occurred_at == datetime(2023, 12, 15, 12, 0, tzinfo=UTC)
    assert (record.latitude, record.longitude) == (37.386013, -122.082932)
    assert record.data["properties"]["TEL"][0]["params"] == {
        "VALUE": ["uri"],
        "TYPE": ["voice,cell"],
        "PREF": ["1"],
    }


def test_vcard21_quoted_printable_and_bare_types():
    card = (
        "BEGIN:VCARD\r\nVERSION:2.1\r\n"
        "N;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:M=C3=BCller;J=C3=B6rg=\r\n"
        ";;;\r\n"
        "TEL;WORK;VOICE:+49 89 1234\r\n"
        "END:VCARD\r\n"
    )
    (record,) = parse(card.encode())
    assert record.title == "Jörg Müller"  # no FN: built from N
    assert record.data["properties"]["N"][0]["value"] == "Müller;Jörg;;;"
    assert record.data["properties"]["TEL"][0]["params"] == {"TYPE": ["WORK", "VOICE"]}


def test_several_cards_extended_rev_and_lf_endings():
    data = (
        "BEGIN:VCARD\nVERSION:3.0\nFN:One\nREV:2020-01-24T15:37:01Z\nEND:VCARD\n\n"
        "BEGIN:VCARD\nVERSION:3.0\nORG:Only An Org\nEND:VCARD\n"
        "BEGIN:VCARD\nVERSION:3.0\nEMAIL:only@example.org\nEND:VCARD\n"
    )
    records = parse(data.encode())
    assert [r.title for r in records] == ["One", "Only An Org", "only@example.org"]
    assert records[0].occurred_at == datetime(2020, 1, 24, 15, 37, 1, tzinfo=UTC)


def test_unparsable_line_is_kept_and_odd_rev_tolerated():
    (record,) = parse(
        b"BEGIN:VCARD\r\nVERSION:3.0\r\nFN:X\r\nthis is no property\r\nREV:yesterday\r\nEND:VCARD\r\n"
    )
    assert record.data["unparsed_lines"] == ["this is no property"]
    assert record.occurred_at is None
    assert record.data["properties"]["REV"] == [{"value": "yesterday"}]


def test_truncated_card_and_junk_between_cards():
    data = b"BEGIN:VCARD\r\nFN:A\r\nEND:VCARD\r\nstray text\r\nBEGIN:VCARD\r\nFN:B\r\n"
    records = parse(data)
    assert isinstance(records[0], EventRecord)
    assert isinstance(records[1], BadRecord) and "outside any vCard" in records[1].reason
    assert isinstance(records[2], BadRecord) and "ends before its END:VCARD" in records[2].reason


def test_oversized_card_is_quarantined(monkeypatch):
    monkeypatch.setattr(contacts, "CARD_LIMIT", 100)
    data = (
        "BEGIN:VCARD\r\nNOTE:"
        + "x" * 200
        + "\r\nEND:VCARD\r\n"
        + "BEGIN:VCARD\r\nFN:Small\r\nEND:VCARD\r\n"
    ).encode()
    records = parse(data)
    assert isinstance(records[0], BadRecord) and "larger than" in records[0].reason
    assert records[1].title == "Small"


def test_not_a_vcard_is_a_member_error():
    with pytest.raises(MemberError, match="not a vCard"):
        parse(b"name,email\nx,y\n")
    with pytest.raises(MemberError, match="no vCard"):
        parse(b"")


def test_reads_a_zip_member(tmp_path: Path):
    archive = tmp_path / "t.zip"
    name = "Takeout/Kontakte/Meine Kontakte/Meine Kontakte.vcf"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr(name, GOOGLE_CARD + VCARD4)
    with zipfile.ZipFile(archive) as zf, zf.open(name) as member:
        records = list(contacts.parse(member, PurePosixPath(name)))
    assert [r.title for r in records] == ["Anna Beispiel, MD", "John Doe"]


@pytest.mark.parametrize(
    "path",
    [
        "Takeout/Contacts/My Contacts/My Contacts.vcf",
        "Takeout/Kontakte/Familie/Familie.vcf",
        "Takeout/Contactos/Todos/Todos.VCF",
        "friends.vcf",
    ],
)
def test_matches(path: str):
    assert contacts.matches(PurePosixPath(path))


@pytest.mark.parametrize(
    "path", ["Takeout/Contacts/contacts.csv", "Takeout/Calendar/a.ics", "a.json"]
)
def test_does_not_match(path: str):
    assert not contacts.matches(PurePosixPath(path))


def test_sniff():
    assert contacts.sniff(b"BEGIN:VCARD\r\nVERSION:3.0\r\n")
    assert contacts.sniff(b"\r\n begin:vcard\r\n")
    assert not contacts.sniff(b"BEGIN:VCALENDAR\r\n")
