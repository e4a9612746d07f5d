import io

from apps.lake.takeout import ical_blocks
from apps.lake.takeout.ical_blocks import iter_blocks, unfold

WANTED = frozenset({"VEVENT"})


def blocks(data: bytes, limit: int = 10_000) -> list:
    return list(iter_blocks(io.BytesIO(data), WANTED, limit))


def test_outside_lines_and_nested_components():
    data = (
        b"BEGIN:VCALENDAR\r\nX-WR-CALNAME:a\r\n"
        b"BEGIN:VEVENT\r\nSUMMARY:x\r\nBEGIN:VALARM\r\nEND:VALARM\r\nEND:VEVENT\r\n"
        b"END:VCALENDAR\r\n"
    )
    found = blocks(data)
    assert [b.name for b in found] == ["", "", "VEVENT", ""]
    event = found[2]
    assert event.line_no == 3
    assert event.text().endswith("END:VALARM\r\nEND:VEVENT\r\n")
    assert not event.truncated and not event.too_big


def test_a_folded_line_is_never_a_begin():
    data = b"BEGIN:VEVENT\r\nDESCRIPTION:see\r\n BEGIN:VEVENT\r\nEND:VEVENT\r\nBEGIN:VEVENT\r\nEND:VEVENT\r\n"
    assert [b.name for b in blocks(data)] == ["VEVENT", "VEVENT"]


def test_case_insensitive_keywords_and_latin1_fallback():
    (event,) = blocks(b"begin:vevent\nSUMMARY:caf\xe9\nend:vevent\n")
    assert event.name == "VEVENT"
    assert "café" in event.text()


def test_too_big_and_truncated(monkeypatch):
    monkeypatch.setattr(ical_blocks, "_READ_LIMIT", 16)  # long lines arrive in pieces
    data = (
        b"BEGIN:VEVENT\nDESCRIPTION:"
        + b"BEGIN:VEVENT" * 20
        + b"\nEND:VEVENT\nBEGIN:VEVENT\nSUMMARY:cut"
    )
    big, cut = blocks(data, limit=100)
    assert big.too_big and big.lines == []
    assert cut.truncated and cut.text().endswith("SUMMARY:cut")


def test_unfold():
    assert unfold("A:1\r\n 2\r\nB:3\r\n\tx") == ["A:12", "B:3x"]
