"""vCards from vobject's tests: HAND-WRITTEN 4.0 samples and a 3.0 card (SOURCES.md); no Google export exists."""

from pathlib import Path, PurePosixPath

import pytest

from apps.lake.takeout import contacts
from apps.lake.takeout.records import EventRecord

FILES = Path("vobject/test_files")


@pytest.mark.parametrize(
    ("name", "version", "title"),
    [
        ("radicale-1587.vcf", "3.0", "Given Family"),
        ("vcard40_full.vcf", "4.0", "Dr. John Q. Public, III"),
        ("vcard40_group.vcf", "4.0", "The Doe Family"),
        ("vcard40_simple.vcf", "4.0", "John Doe"),
    ],
)
def test_one_card_per_file(realdata: Path, name: str, version: str, title: str):
    path = realdata / FILES / name
    assert contacts.matches(PurePosixPath(name)) and contacts.sniff(path.read_bytes()[:8192])
    with path.open("rb") as stream:
        (record,) = contacts.parse(stream, PurePosixPath("Takeout/Contacts/All") / name)
    assert isinstance(record, EventRecord) and record.kind == "contacts.contact"
    assert record.data["properties"]["VERSION"] == [{"value": version}]
    assert record.title == title
    assert "unparsed_lines" not in record.data


def test_full_card_keeps_everything(realdata: Path):
    with (realdata / FILES / "vcard40_full.vcf").open("rb") as stream:
        (record,) = contacts.parse(stream, PurePosixPath("vcard40_full.vcf"))
    props = record.data["properties"]
    assert record.occurred_at.isoformat() == "2023-12-15T12:00:00+00:00"  # REV
    assert (record.latitude, record.longitude) == (37.386013, -122.082932)
    assert len(props["EMAIL"]) == 2 and len(props["TEL"]) == 2 and len(props["ADR"]) == 2
    assert props["NICKNAME"] == [{"value": "Johnny,JQP"}]
    assert props["ORG"] == [{"value": "Example Corp.;North Division;Marketing"}]
    assert record.text == "This is a note about John.\nHe likes vCards."
    # Nothing lost: one entry per content line of the card (it has no folded lines).
    lines = (realdata / FILES / "vcard40_full.vcf").read_text().splitlines()
    assert sum(len(entries) for entries in props.values()) == len(lines) - 2 == 37


def test_group_members(realdata: Path):
    with (realdata / FILES / "vcard40_group.vcf").open("rb") as stream:
        (record,) = contacts.parse(stream, PurePosixPath("vcard40_group.vcf"))
    assert len(record.data["properties"]["MEMBER"]) == 3
