"""Acceptance tests against real Takeout files published by other projects.

They run whenever ../shared/realdata (or DATAPUNK_REALDATA) exists, as it does
in CI; a clone of the project alone skips them, as SOURCES.md asks.
"""

import os
from pathlib import Path

import pytest

REALDATA = Path(
    os.environ.get(
        "DATAPUNK_REALDATA", Path(__file__).resolve().parents[2].parent / "shared" / "realdata"
    )
)


def pytest_collection_modifyitems(items):
    for item in items:
        if "acceptance" in item.nodeid.split("/"):
            item.add_marker(pytest.mark.realdata)


@pytest.fixture
def realdata() -> Path:
    if not REALDATA.is_dir():
        pytest.skip(f"no real sample data at {REALDATA}")
    return REALDATA
