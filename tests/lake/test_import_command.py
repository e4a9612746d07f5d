"""What import_takeout tells its user when there is nothing to do or nothing to reach."""

import subprocess
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from apps.lake.models import Import
from tests.acting import count_of
from tests.conftest import import_takeout_command

from .conftest import make_zip

pytestmark = pytest.mark.django_db


def _import(*args: str) -> str:
    out = StringIO()
    call_command("import_takeout", *args, "--sync", stdout=out, stderr=StringIO())
    return out.getvalue()


def test_an_empty_folder_is_refused_before_anything_is_stored(owner, tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(CommandError, match="there are no files in it"):
        _import(str(tmp_path / "empty"), "--user", owner.username)
    assert count_of(owner, Import) == 0


def test_files_that_are_not_takeout_are_named_as_such(owner, tmp_path):
    archive = make_zip(tmp_path / "photos.zip", {"holiday/notes.txt": "hello"})
    out = _import(str(archive), "--user", owner.username)
    assert "Nothing in these files is something Datapunk reads" in out


def test_a_database_that_does_not_answer_is_named_without_a_traceback(owner, tmp_path, child_env):
    archive = make_zip(tmp_path / "t.zip", {"holiday/notes.txt": "hello"})
    env = {**child_env, "DATABASE_URL": "postgres://datapunk:datapunk@127.0.0.1:1/datapunk"}
    result = subprocess.run(
        import_takeout_command(archive, username=owner.username),
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert "cannot reach the database" in result.stderr
    assert "bash scripts/postgres.sh start" in result.stderr
    assert "Traceback" not in result.stderr
