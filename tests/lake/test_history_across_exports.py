"""A history exported as HTML once and as JSON another time is one set of rows.

HTML pages show times to the second, JSON to the millisecond: an item is the
same when kind, link (or title) and second agree. Whichever comes first, the
JSON's exact time and fields are what stays.
"""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime

import pytest
from django.db import connections

from apps.lake.models import Event, Import
from tests.acting import as_user, takeout_import

from .conftest import make_zip
from .takeout.test_my_activity import card, page

pytestmark = pytest.mark.django_db

SEARCH_FOLDER = "Takeout/My Activity/Search"
WATCH_FOLDER = "Takeout/YouTube and YouTube Music/history"


def search_json(count: int, *, fraction: str = ".123") -> bytes:
    return json.dumps(
        [
            {
                "header": "Search",
                "title": f"Searched for tram {i}",
                "titleUrl": f"https://www.google.com/search?q=tram+{i}",
                "time": f"2024-03-01T10:{i // 60:02d}:{i % 60:02d}{fraction}Z",
                "products": ["Search"],
            }
            for i in range(count)
        ]
    ).encode()


def search_html(count: int) -> bytes:
    return page(
        *(
            card(
                "Search",
                f'Searched for&nbsp;<a href="https://www.google.com/search?q=tram+{i}">tram {i}</a>'
                f"<br>Mar 1, 2024, 10:{i // 60:02d}:{i % 60:02d} AM UTC",
            )
            for i in range(count)
        )
    )


def import_member(user, tmp_path, name: str, content: bytes) -> Import:

    archive = tmp_path / f"takeout-{len(list(tmp_path.iterdir()))}.zip"
    run = takeout_import(user, make_zip(archive, {name: content}))
    assert run.status == Import.Status.DONE, run.error
    return run


def test_html_first_then_json_is_one_row_with_the_json_time(owner, tmp_path):
    with as_user(owner):
        first = import_member(owner, tmp_path, f"{SEARCH_FOLDER}/MyActivity.html", search_html(3))
        assert first.records_written == 3
        assert Event.objects.get(user=owner, url__endswith="+1").occurred_at == datetime(
            2024, 3, 1, 10, 0, 1, tzinfo=UTC
        )

        second = import_member(owner, tmp_path, f"{SEARCH_FOLDER}/MyActivity.json", search_json(3))

        assert (second.records_written, second.records_duplicate) == (0, 3)
        events = Event.objects.filter(user=owner, kind="activity.search").order_by("occurred_at")
        assert [e.occurred_at for e in events] == [
            datetime(2024, 3, 1, 10, 0, s, 123000, tzinfo=UTC) for s in range(3)
        ]
        one = events[1]
        assert one.data["time"] == "2024-03-01T10:00:01.123Z"  # the JSON's own fields
        assert one.data["html"]["time"] == "Mar 1, 2024, 10:00:01 AM UTC"  # the card kept
        assert one.title == "Searched for tram 1"

        # Either export again adds nothing.
        for name, content in (
            ("MyActivity.html", search_html(3)),
            ("MyActivity.json", search_json(3)),
        ):
            again = import_member(owner, tmp_path, f"{SEARCH_FOLDER}/{name}", content)
            assert (again.records_written, again.records_duplicate) == (0, 3), name
        assert Event.objects.filter(user=owner).count() == 3


def test_json_first_then_html_adds_nothing(owner, tmp_path):
    with as_user(owner):
        import_member(owner, tmp_path, f"{SEARCH_FOLDER}/MyActivity.json", search_json(3))
        later = import_member(owner, tmp_path, f"{SEARCH_FOLDER}/MyActivity.html", search_html(4))

        assert (later.records_written, later.records_duplicate) == (1, 3)  # one item is new
        assert Event.objects.filter(user=owner).count() == 4
        exact = Event.objects.get(user=owner, url__endswith="+2")
        assert exact.occurred_at == datetime(2024, 3, 1, 10, 0, 2, 123000, tzinfo=UTC)
        assert "html" not in exact.data


def test_json_times_on_the_whole_second_take_over_the_html_row(owner, tmp_path):
    with as_user(owner):
        import_member(owner, tmp_path, f"{SEARCH_FOLDER}/MyActivity.html", search_html(2))
        second = import_member(
            owner, tmp_path, f"{SEARCH_FOLDER}/MyActivity.json", search_json(2, fraction="")
        )
        assert (second.records_written, second.records_duplicate) == (0, 2)
        assert all(
            e.data["time"].endswith("Z") and "html" in e.data
            for e in Event.objects.filter(user=owner)
        )


def test_youtube_watch_history_is_matched_by_its_video_link(owner, tmp_path):
    with as_user(owner):
        html = page(
            card(
                "YouTube",
                'Watched&nbsp;<a href="https://www.youtube.com/watch?v=abc">Cats &amp; dogs</a><br>'
                '<a href="https://www.youtube.com/channel/UC1">A channel</a><br>'
                "Nov 7, 2020, 10:15:09 PM EST",
                "<b>Products:</b><br>&emsp;YouTube<br>",
            )
        )
        item = {
            "header": "YouTube",
            "title": "Watched Cats & dogs",
            "titleUrl": "https://www.youtube.com/watch?v=abc",
            "subtitles": [{"name": "A channel", "url": "https://www.youtube.com/channel/UC1"}],
            "time": "2020-11-08T03:15:09.871Z",
            "products": ["YouTube"],
        }
        import_member(owner, tmp_path, f"{WATCH_FOLDER}/watch-history.html", html)
        second = import_member(
            owner, tmp_path, f"{WATCH_FOLDER}/watch-history.json", json.dumps([item]).encode()
        )
        assert second.records_duplicate == 1
        watch = Event.objects.get(user=owner, kind="youtube.watch")
        assert watch.occurred_at == datetime(2020, 11, 8, 3, 15, 9, 871000, tzinfo=UTC)


def test_different_items_in_one_second_stay_apart(owner, tmp_path):
    with as_user(owner):
        html = page(
            card(
                "Search",
                'Searched for&nbsp;<a href="https://www.google.com/search?q=a">a</a>'
                "<br>Mar 1, 2024, 10:00:00 AM UTC",
            )
        )
        import_member(owner, tmp_path, f"{SEARCH_FOLDER}/MyActivity.html", html)
        other = {
            "header": "Search",
            "title": "Searched for b",
            "titleUrl": "https://www.google.com/search?q=b",
            "time": "2024-03-01T10:00:00.500Z",
        }
        second = import_member(
            owner, tmp_path, f"{SEARCH_FOLDER}/MyActivity.json", json.dumps([other]).encode()
        )
        assert second.records_written == 1
        assert Event.objects.filter(user=owner).count() == 2


def test_rows_stored_twice_before_this_matching_do_not_fail_a_later_import(owner, tmp_path):
    """Before, HTML and JSON of one item were two rows, and two HTML exports whose
    cards differed were two rows too. A later import goes through, adding nothing."""
    with as_user(owner):
        import io
        from pathlib import PurePosixPath

        from apps.lake.takeout import my_activity
        from apps.lake.writer import BatchWriter

        def store_as_before(path: str, content: bytes) -> None:
            with BatchWriter(user_id=owner.pk, source="takeout") as writer:
                for record in my_activity.parse(io.BytesIO(content), PurePosixPath(path)):
                    record.history_format = ""  # as stored before this matching existed
                    writer.add(record)
                writer.flush()

        store_as_before(f"{SEARCH_FOLDER}/MyActivity.json", search_json(2))
        store_as_before(f"{SEARCH_FOLDER}/MyActivity.html", search_html(2))
        changed_cards = search_html(2).replace(b"&emsp;Search", b"&emsp;Google Search")
        store_as_before(f"{SEARCH_FOLDER}/MyActivity.html", changed_cards)
        assert Event.objects.filter(user=owner).count() == 6

        again = import_member(owner, tmp_path, f"{SEARCH_FOLDER}/MyActivity.json", search_json(2))
        html_again = import_member(
            owner, tmp_path, f"{SEARCH_FOLDER}/MyActivity.html", search_html(2)
        )

        assert (again.records_written, again.records_duplicate) == (0, 2)
        assert (html_again.records_written, html_again.records_duplicate) == (0, 2)
        assert Event.objects.filter(user=owner).count() == 6


def test_two_html_rows_of_one_item_and_then_its_json(owner, tmp_path):
    with as_user(owner):
        import io
        from pathlib import PurePosixPath

        from apps.lake.takeout import my_activity
        from apps.lake.writer import BatchWriter

        for content in (
            search_html(2),
            search_html(2).replace(b"&emsp;Search", b"&emsp;Google Search"),
        ):
            with BatchWriter(user_id=owner.pk, source="takeout") as writer:
                for record in my_activity.parse(
                    io.BytesIO(content), PurePosixPath(f"{SEARCH_FOLDER}/MyActivity.html")
                ):
                    record.history_format = ""  # as stored before this matching existed
                    writer.add(record)
                writer.flush()

        run = import_member(owner, tmp_path, f"{SEARCH_FOLDER}/MyActivity.json", search_json(2))

        assert (run.records_written, run.records_duplicate) == (0, 2)
        exact = [e for e in Event.objects.filter(user=owner) if e.occurred_at.microsecond == 123000]
        assert len(exact) == 2  # one HTML row of each item took the JSON over
        assert Event.objects.filter(user=owner).count() == 4  # the older twins stay


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("rounds", [5])
def test_html_and_json_written_at_the_same_moment_make_one_row_each(owner, rounds):
    """Two writers of the same history commit at the same moment: no duplicate.

    Both batches are parsed first, then flushed together from two threads on
    two connections, so each transaction runs while the other is uncommitted.
    """
    with as_user(owner):
        import io
        from pathlib import PurePosixPath

        from apps.core.db.context import user_context
        from apps.lake.takeout import my_activity
        from apps.lake.writer import BatchWriter

        count = 500
        for round_no in range(rounds):
            Event.objects.filter(user=owner).delete()
            members = [
                (f"{SEARCH_FOLDER}/MyActivity.html", search_html(count)),
                (f"{SEARCH_FOLDER}/MyActivity.json", search_json(count)),
            ]
            if round_no % 2:
                members.reverse()
            barrier = threading.Barrier(2)
            errors: list[BaseException] = []

            def write(path: str, content: bytes, barrier: threading.Barrier, errors: list) -> None:
                try:
                    records = list(my_activity.parse(io.BytesIO(content), PurePosixPath(path)))
                    with (
                        user_context(owner.pk),
                        BatchWriter(user_id=owner.pk, source="takeout") as writer,
                    ):
                        for record in records:
                            writer.add(record)
                        barrier.wait()
                        writer.flush()
                except BaseException as exc:  # reported below
                    errors.append(exc)
                finally:
                    connections.close_all()

            threads = [
                threading.Thread(target=write, args=(*member, barrier, errors))
                for member in members
            ]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=120)

            assert not errors
            assert Event.objects.filter(user=owner).count() == count, f"round {round_no}"
            assert all(
                e.occurred_at.microsecond == 123000 for e in Event.objects.filter(user=owner)
            )
