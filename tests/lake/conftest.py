import io
import json
import tarfile
import zipfile
from pathlib import Path

import pytest

from apps.lake.sample_takeout import build_sample_takeout, records_json_lines


@pytest.fixture
def sample_zip(tmp_path) -> Path:
    return build_sample_takeout(tmp_path / "takeout-001.zip", points=300)


def make_zip(path: Path, members: dict[str, bytes | str], compression=zipfile.ZIP_DEFLATED) -> Path:
    with zipfile.ZipFile(path, "w", compression=compression) as archive:
        for name, content in members.items():
            archive.writestr(name, content if isinstance(content, bytes) else content.encode())
    return path


def make_tgz(path: Path, members: dict[str, bytes | str]) -> Path:
    with tarfile.open(path, "w:gz") as archive:
        for name, content in members.items():
            data = content if isinstance(content, bytes) else content.encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return path


def records_json(count: int, seed: int = 3) -> bytes:
    return b"".join(records_json_lines(count, seed=seed))


def chrome_history(count: int) -> str:
    return json.dumps(
        {
            "Browser History": [
                {
                    "title": f"page {i}",
                    "url": f"https://example.org/{i}",
                    "time_usec": 1_700_000_000_000_000 + i * 1_000_000,
                    "page_transition": "LINK",
                }
                for i in range(count)
            ]
        }
    )
