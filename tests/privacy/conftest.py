from pathlib import Path

import pytest

from apps.core.db.context import user_context
from apps.lake.models import Import
from apps.lake.sample_takeout import build_sample_takeout
from apps.lake.services import takeout_import_prepare, takeout_import_run
from apps.privacy.pii.scanner import pii_scanner


def import_sample(user, folder: Path, *, points: int = 200, seed_name: str = "a") -> Import:
    """A real Takeout import for ``user``, run as the app runs it (in the user's context)."""
    archive = build_sample_takeout(folder / f"takeout-{seed_name}.zip", points=points)
    with user_context(user.pk):
        run = takeout_import_prepare(user=user, paths=[archive])
        finished = takeout_import_run(import_id=run.pk)
    assert finished is not None and finished.status == Import.Status.DONE
    return finished


@pytest.fixture
def alice(make_user):
    return make_user("alice")


@pytest.fixture
def bob(make_user):
    return make_user("bob")


@pytest.fixture(scope="session")
def scanner():
    """The process's scanner, loaded once (about a second)."""
    return pii_scanner()
