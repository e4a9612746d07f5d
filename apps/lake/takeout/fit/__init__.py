"""Google Fit in a Takeout: one module per kind of file.

- ``activity``: sessions (JSON), daily activity metrics and per-day interval CSVs;
- ``all_data``: ``All Data/derived_*.json`` and ``raw_*.json``, the measurement streams;
- ``tcx``: workouts as TCX files.

The folder is "Fit" or "Google Fit" (localised names of the folders inside it
are in each module).
"""

from __future__ import annotations

from pathlib import PurePosixPath

from ..paths import product_folder_index

FIT_FOLDERS = frozenset({"fit", "google fit"})


def in_fit(path: PurePosixPath) -> bool:
    return product_folder_index(path, FIT_FOLDERS) is not None
