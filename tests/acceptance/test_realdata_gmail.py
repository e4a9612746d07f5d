"""The Gmail-Takeout-style mbox from google-takeout-to-sqlite (SOURCES.md): 6 messages, CRLF."""

import mailbox
from pathlib import Path, PurePosixPath

from apps.lake.takeout import gmail
from apps.lake.takeout.records import EventRecord

MBOX = Path("google-takeout-to-sqlite/tests/mbox_contents/small.gmail.mbox")


def parse(realdata: Path) -> list:
    with (realdata / MBOX).open("rb") as stream:
        return list(gmail.parse(stream, PurePosixPath("Takeout/Mail") / MBOX.name))


def test_six_messages_with_their_labels(realdata: Path):
    records = parse(realdata)
    assert len(records) == 6 == len(mailbox.mbox(str(realdata / MBOX)))
    assert all(isinstance(r, EventRecord) and r.kind == "gmail.message" for r in records)
    assert [r.data.get("X-Gmail-Labels") for r in records] == [
        ["Unread"],
        ["Unread"],
        ["Chat"],
        ["Chat"],
        None,
        None,
    ]
    assert sum("X-GM-THRID" in r.data for r in records) == 4
    assert gmail.matches(PurePosixPath(MBOX.name)) and gmail.sniff(
        (realdata / MBOX).read_bytes()[:8192]
    )


def test_message_details(realdata: Path):
    records = parse(realdata)
    assert [r.title for r in records] == [
        "[fw-general] Zend_Form and generating fields",
        "Re: [Gnumed-devel] Tree view formatting",
        "",
        "test",
        "Formatted text mail",
        "A simple example",
    ]
    assert records[0].data["From"] == "Keld Jørn Simonsen <keld@dkuug.dk>"
    assert records[0].occurred_at.isoformat() == "2008-08-05T01:00:12-07:00"
    # The chats have no Date header: the time comes from the "From " line.
    assert records[2].occurred_at.isoformat() == "2016-03-23T01:57:00+00:00"
    assert records[3].text == "好好学习，天天向上"
    assert (
        records[4].text == "plain text version of message"
    )  # multipart/alternative: the plain part
    assert records[5].text.startswith("Acute accent")  # HTML only, stripped
    assert all(r.data["attachments"] == [] for r in records)
