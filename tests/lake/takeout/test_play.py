"""Google Play Store: Installs.json, Library.json, Purchase History.json."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from pathlib import PurePosixPath

import pytest

from apps.lake.takeout import play
from apps.lake.takeout.records import BadRecord, MemberError

FOLDER = "Takeout/Google Play Store"

INSTALL = {
    "install": {
        "doc": {"documentType": "Android Apps", "title": "ClickUp - Manage Teams & Tasks"},
        "firstInstallationTime": "2022-03-14T07:06:12.070725Z",
        "deviceAttribute": {
            "model": "SM-S901E",
            "manufacturer": "samsung",
            "deviceDisplayName": "samsung SM-S901E",
        },
        "lastUpdateTime": "2024-08-27T22:55:15.184610Z",
    }
}
LIBRARY = {
    "libraryDoc": {
        "doc": {"documentType": "Book", "title": "A Book"},
        "acquisitionTime": "2019-01-02T03:04:05.000Z",
    }
}
PURCHASE = {
    "purchaseHistory": {
        "invoicePrice": "€4.99",
        "paymentMethodTitle": "Visa-1234",
        "userLanguageCode": "de",
        "userCountry": "DE",
        "doc": {"documentType": "Android Apps", "title": "Paid App"},
        "purchaseTime": "2020-05-06T07:08:09.123Z",
    }
}


def parser(product: str):
    return next(p for p in play.PARSERS if p.product == product)


def parse(product: str, items: object, name: str) -> list:
    stream = io.BytesIO(json.dumps(items).encode())
    return list(parser(product).parse(stream, PurePosixPath(f"{FOLDER}/{name}")))


def test_installs_use_first_installation_time_then_last_update() -> None:
    update_only = {"install": {"doc": {"title": "Old"}, "lastUpdateTime": "2024-01-01T00:00:00Z"}}
    first, second = parse("play.installs", [INSTALL, update_only], "Installs.json")

    assert first.kind == "play.install"
    assert first.occurred_at == datetime(2022, 3, 14, 7, 6, 12, 70725, tzinfo=UTC)
    assert first.title == "ClickUp - Manage Teams & Tasks"
    assert first.text == "samsung SM-S901E"
    assert first.data == INSTALL
    assert second.occurred_at == datetime(2024, 1, 1, tzinfo=UTC) and second.title == "Old"


def test_library() -> None:
    (record,) = parse("play.library", [LIBRARY], "Library.json")
    assert (record.kind, record.title, record.text) == ("play.library", "A Book", "Book")
    assert record.occurred_at == datetime(2019, 1, 2, 3, 4, 5, tzinfo=UTC)


def test_purchases() -> None:
    (record,) = parse("play.purchases", [PURCHASE], "Purchase History.json")
    assert (record.kind, record.title) == ("play.purchase", "Paid App")
    assert record.data["purchaseHistory"]["invoicePrice"] == "€4.99"
    assert record.occurred_at == datetime(2020, 5, 6, 7, 8, 9, 123000, tzinfo=UTC)


def test_bad_entries_are_quarantined() -> None:
    items = [
        {"install": {"doc": {"title": "no time"}}},
        {"install": {"firstInstallationTime": "not a time"}},
        {"libraryDoc": {}},
        "junk",
    ]
    records = parse("play.installs", items, "Installs.json")
    assert all(isinstance(r, BadRecord) for r in records)
    assert [r.reason for r in records[::2]] == [
        "Play install: no firstInstallationTime or lastUpdateTime",
        'Play install: no "install" object',
    ]
    assert "not an ISO 8601 timestamp" in records[1].reason
    assert records[3].reason == 'Play install: no "install" object'


def test_broken_file_raises_member_error() -> None:
    stream = io.BytesIO(b'[{"install": {"doc": ')
    with pytest.raises(MemberError):
        list(parser("play.installs").parse(stream, PurePosixPath(f"{FOLDER}/Installs.json")))


@pytest.mark.parametrize(
    "product, path",
    [
        ("play.installs", f"{FOLDER}/Installs.json"),
        ("play.library", f"{FOLDER}/Library.json"),
        ("play.purchases", f"{FOLDER}/Purchase History.json"),
        ("play.installs", "Takeout/Google Play\u00a0Store/Installs.json"),
    ],
)
def test_matches(product: str, path: str) -> None:
    claiming = [p.product for p in play.PARSERS if p.matches(PurePosixPath(path))]
    assert claiming == [product]


@pytest.mark.parametrize(
    "path",
    [
        "Library.json",
        "Installs.json",
        f"{FOLDER}/Devices.json",
        f"{FOLDER}/Reviews.json",
        "Takeout/Google Play Books/Library.json",
        "Takeout/My Activity/Google Play Store/MyActivity.json",
    ],
)
def test_does_not_match_other_files(path: str) -> None:
    assert not any(p.matches(PurePosixPath(path)) for p in play.PARSERS)


def test_sniffers_tell_the_three_files_apart() -> None:
    heads = {
        "play.installs": json.dumps([INSTALL]).encode(),
        "play.library": json.dumps([LIBRARY]).encode(),
        "play.purchases": json.dumps([PURCHASE]).encode(),
    }
    for product, head in heads.items():
        sniffed = [p.product for p in play.PARSERS if p.sniff and p.sniff(head)]
        assert sniffed == [product]
    for p in play.PARSERS:
        assert not p.sniff(b'[{"header": "Google Play Store", "title": "Used Play"}]')
