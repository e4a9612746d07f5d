import subprocess
import uuid
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def pg_root() -> Path:
    """The Debian root scripts/postgres.sh runs the server (and pgBackRest) in."""
    out = subprocess.run(
        ["bash", str(ROOT / "scripts" / "postgres.sh"), "root"],
        capture_output=True,
        text=True,
        check=True,
    )
    return Path(out.stdout.strip())


@pytest.fixture
def repo_path(pg_root):
    """A fresh repository path inside the root (pgBackRest sees the root's paths), removed after."""
    inside = f"/var/tmp/datapunk-test-repo-{uuid.uuid4().hex[:8]}"
    yield inside
    subprocess.run(["umount", str(pg_root / inside.lstrip("/"))], capture_output=True, check=False)
    subprocess.run(["rm", "-rf", str(pg_root / inside.lstrip("/"))], check=False)


def pointing_at(settings, repo: str, *extra: str) -> list[str]:
    """DATAPUNK_PGBACKREST_COMMAND with the repository moved to ``repo``."""
    return [*settings.DATAPUNK_PGBACKREST_COMMAND, f"--repo1-path={repo}", *extra]
