import io
import json
import zipfile
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath

import pytest

from apps.lake.takeout import gmail
from apps.lake.takeout.records import BadRecord, EventRecord, MemberError

PLAIN = (
    "From 1277085061787347926@xxx Tue Aug 05 08:00:23 +0000 2008\r\n"
    "X-GM-THRID: 1277085061787347926\r\n"
    'X-Gmail-Labels: Inbox,Opened,"Work, urgent",Category Personal\r\n'
    "Message-ID: <1@example.org>\r\n"
    "Date: Tue, 5 Aug 2008 01:00:12 -0700 (PDT)\r\n"
    "From: =?ISO-8859-1?Q?Keld_J=F8rn?= <keld@example.org>\r\n"
    "To: list@example.org\r\n"
    "Cc: other@example.org\r\n"
    "In-Reply-To: <0@example.org>\r\n"
    "Subject: Zend_Form question\r\n"
    "Content-Type: text/plain; charset=us-ascii\r\n"
    "\r\n"
    "First line.\r\n"
    ">From the archive, quoted.\r\n"
    ">>From twice quoted.\r\n"
    "\r\n"
)
CHAT = (
    "From 1529555944956622147@xxx Wed Mar 23 01:57:00 +0000 2016\r\n"
    "X-GM-THRID: 1529553825574740118\r\n"
    "X-Gmail-Labels: Chat\r\n"
    "From: Someone <someone@example.org>\r\n"
    "Content-Type: text/plain\r\n"
    "\r\n"
    "Nothing worse than being without good wifi\r\n"
    "\r\n"
)
HTML_WITH_ATTACHMENT = (
    "From 42@xxx Mon Mar 22 09:41:09 -0800 1993\r\n"
    "Date: Mon, 22 Mar 1993 09:41:09 -0800\r\n"
    "Subject: =?utf-8?q?Gr=C3=BC=C3=9Fe?=\r\n"
    "MIME-Version: 1.0\r\n"
    'Content-Type: multipart/mixed; boundary="b1"\r\n'
    "\r\n"
    "--b1\r\n"
    'Content-Type: text/html; charset="utf-8"\r\n'
    "\r\n"
    "<html><head><style>p {color: red}</style></head><body><p>Hello <b>there</b></p><p>Bye&amp;thanks</p></body></html>\r\n"
    "--b1\r\n"
    'Content-Type: application/pdf; name="report.pdf"\r\n'
    'Content-Disposition: attachment; filename="report.pdf"\r\n'
    "Content-Transfer-Encoding: base64\r\n"
    "\r\n"
    "JVBERi0xLjQKJcOkw7zDtsOf\r\n"
    "--b1--\r\n"
)


def parse(data: bytes, name: str = "Takeout/Mail/All mail Including Spam and Trash.mbox") -> list:
    return list(gmail.parse(io.BytesIO(data), PurePosixPath(name)))


def test_plain_message_headers_labels_and_unquoting():
    (record,) = parse(PLAIN.encode())
    assert isinstance(record, EventRecord)
    assert record.kind == "gmail.message"
    assert record.occurred_at == datetime(2008, 8, 5, 8, 0, 12, tzinfo=UTC)
    assert record.title == "Zend_Form question"
    assert record.text == "First line.\nFrom the archive, quoted.\n>From twice quoted."
    assert record.data["X-Gmail-Labels"] == ["Inbox", "Opened", "Work, urgent", "Category Personal"]
    assert record.data["X-GM-THRID"] == "1277085061787347926"
    assert record.data["From"] == "Keld Jørn <keld@example.org>"
    assert record.data["To"] == "list@example.org"
    assert record.data["Cc"] == "other@example.org"
    assert record.data["Message-ID"] == "<1@example.org>"
    assert record.data["In-Reply-To"] == "<0@example.org>"
    assert record.data["attachments"] == []
    assert record.data["mbox_from_line"].startswith("From 1277085061787347926@xxx")
    json.dumps(record.data)


def test_chat_without_date_header_takes_the_from_line_time():
    records = parse((PLAIN + CHAT).encode())
    assert [r.data["X-Gmail-Labels"] for r in records] == [
        ["Inbox", "Opened", "Work, urgent", "Category Personal"],
        ["Chat"],
    ]
    assert records[1].occurred_at == datetime(2016, 3, 23, 1, 57, tzinfo=UTC)
    assert records[1].title == ""


def test_html_only_message_is_stripped_and_attachments_listed_without_content():
    (record,) = parse(HTML_WITH_ATTACHMENT.encode())
    assert record.title == "Grüße"
    assert record.text == "Hello there\n\nBye&thanks"
    assert record.data["attachments"] == [
        {"filename": "report.pdf", "content_type": "application/pdf", "size": 18}
    ]
    assert "X-Gmail-Labels" not in record.data
    assert record.occurred_at == datetime(1993, 3, 22, 17, 41, 9, tzinfo=UTC)


def test_message_without_any_date_is_quarantined_and_the_rest_continue():
    broken = "From nobody\r\nSubject: lost\r\n\r\nbody\r\n\r\n"
    records = parse((broken + CHAT).encode())
    assert isinstance(records[0], BadRecord)
    assert records[0].reason == "message 1 has no readable date"
    assert "Subject: lost" in records[0].excerpt
    assert isinstance(records[1], EventRecord)


def test_unreadable_date_header_falls_back_to_the_from_line():
    data = CHAT.replace("From: Someone", "Date: not a date at all\r\nFrom: Someone")
    (record,) = parse(data.encode())
    assert record.occurred_at == datetime(2016, 3, 23, 1, 57, tzinfo=UTC)


def test_oversized_message_is_quarantined(monkeypatch):
    monkeypatch.setattr(gmail, "MESSAGE_LIMIT", 300)
    big = PLAIN.replace("First line.", "x" * 400)
    records = parse((big + CHAT).encode())
    assert isinstance(records[0], BadRecord) and "larger than" in records[0].reason
    assert records[1].data["X-Gmail-Labels"] == ["Chat"]


def test_not_an_mbox_is_a_member_error_and_empty_is_empty():
    with pytest.raises(MemberError, match="not an mbox"):
        parse(b"Subject: hi\r\n\r\nbody\r\n")
    assert parse(b"") == []


def test_reads_a_zip_member_with_lf_endings(tmp_path: Path):
    archive = tmp_path / "t.zip"
    name = "Takeout/E-Mail/Posteingang.mbox"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(name, (PLAIN + CHAT + HTML_WITH_ATTACHMENT).replace("\r\n", "\n"))
    with zipfile.ZipFile(archive) as zf, zf.open(name) as member:
        records = list(gmail.parse(member, PurePosixPath(name)))
    assert [r.title for r in records] == ["Zend_Form question", "", "Grüße"]


def test_split_labels():
    assert gmail.split_labels("Archived,Unread") == ["Archived", "Unread"]
    assert gmail.split_labels('"a, b", c') == ["a, b", "c"]
    assert gmail.split_labels("") == []


@pytest.mark.parametrize(
    "path",
    [
        "Takeout/Mail/All mail Including Spam and Trash.mbox",
        "Takeout/E-Mail/Alle E-Mails einschließlich Spam und Papierkorb.mbox",
        "Takeout/Courrier/Boîte de réception.MBOX",
        "inbox.mbox",
    ],
)
def test_matches(path: str):
    assert gmail.matches(PurePosixPath(path))


@pytest.mark.parametrize(
    "path", ["Takeout/Mail/User Settings/Filters.xml", "Takeout/Mail/x.json", "x.eml"]
)
def test_does_not_match(path: str):
    assert not gmail.matches(PurePosixPath(path))


def test_sniff():
    assert gmail.sniff(PLAIN.encode())
    assert gmail.sniff(CHAT.replace("\r\n", "\n").encode())
    assert not gmail.sniff(b"From here on, we talk about mail.\nIt is plain text.\n")
    assert not gmail.sniff(b"BEGIN:VCALENDAR\r\n")


def test_long_lines_read_in_pieces_are_not_split_on_from(monkeypatch):
    monkeypatch.setattr(gmail, "_READ_LIMIT", 8)
    data = PLAIN.replace("First line.", "A very long line that mentions From here inside it")
    (record,) = parse(data.encode())
    assert record.text.startswith("A very long line that mentions From here inside it\n")


def _old_mail(subject: bytes, body: bytes, content_type: bytes = b"text/plain") -> bytes:
    return (
        b"From 2@xxx Mon May 01 11:00:00 +0000 2023\r\n"
        b"Date: Mon, 1 May 2023 13:00:00 +0200\r\nFrom: j@example.com\r\n"
        b"Subject: " + subject + b"\r\nContent-Type: " + content_type + b"\r\n\r\n" + body + b"\r\n"
    )


@pytest.mark.parametrize(
    ("subject", "body"),
    [
        ("Grüße aus München".encode("latin-1"), "Schöne Grüße".encode("latin-1")),
        ("Grüße aus München".encode(), "Schöne Grüße".encode()),
    ],
)
def test_undeclared_8bit_headers_and_body_keep_their_letters(subject, body):
    (record,) = parse(_old_mail(subject, body))
    assert record.title == "Grüße aus München"
    assert record.data["Subject"] == "Grüße aus München"
    assert record.text == "Schöne Grüße"


def test_declared_charsets_and_encoded_words_are_read_as_declared():
    (record,) = parse(
        _old_mail(
            b"=?iso-8859-1?q?Gr=FC=DFe?=",
            "Schöne".encode("latin-1"),
            b"text/plain; charset=iso-8859-1",
        )
    )
    assert (record.title, record.text) == ("Grüße", "Schöne")
