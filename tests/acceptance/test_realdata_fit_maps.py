"""Fit and Maps have no public sample (SOURCES.md, "Gaps"): check at least that their
parsers claim none of the real files of other products, Maps' My Activity included."""

from pathlib import Path, PurePosixPath

from apps.lake.takeout import maps
from apps.lake.takeout.fit import activity as fit

MATCHERS = (
    fit.matches_session,
    fit.matches_daily_metrics,
    fit.matches_intervals,
    maps.matches_saved_places,
    maps.matches_labeled_places,
    maps.matches_saved_list,
)
SNIFFERS = (
    fit.sniff_session,
    fit.sniff_daily_metrics,
    fit.sniff_intervals,
    maps.sniff_saved_places,
    maps.sniff_saved_list,
)


def test_no_real_file_is_claimed(realdata: Path):
    files = [p for p in realdata.rglob("*") if p.is_file() and p.name != "SOURCES.md"]
    assert any(p.parent.name == "Maps" and p.parent.parent.name == "My Activity" for p in files)
    for path in files:
        member = PurePosixPath(path.relative_to(realdata).as_posix())
        assert not any(match(member) for match in MATCHERS), member
        head = path.read_bytes()[:8192]
        assert not any(sniff(head) for sniff in SNIFFERS), member
