from collections.abc import Iterator
from contextlib import contextmanager

from django.db import models

from apps.core.db.context import system_context, user_context
from apps.core.retry import datapunk_task
from apps.lake.models import Import, Upload
from apps.lake.services import takeout_import_run
from apps.lake.uploads import upload_verify


@contextmanager
def _as_owner(model: type[models.Model], pk: int) -> Iterator[bool]:
    """Run the block as the user who owns row ``pk`` (False: the row is gone).
    Whose row it is may be read across users; the work itself runs as that user."""
    with system_context():
        user_id = model._default_manager.filter(pk=pk).values_list("user_id", flat=True).first()
    if user_id is None:
        yield False
        return
    with user_context(user_id):
        yield True


# A lost database connection pauses an import with everything committed kept;
# retrying later resumes it from its checkpoints. Other errors are recorded on
# the import's rows by the service and need no retry.
@datapunk_task()
def run_takeout_import(import_id: int) -> None:
    """Run or resume one import; a no-op if it is gone, finished, or running elsewhere."""
    with _as_owner(Import, import_id) as found:
        if found:
            takeout_import_run(import_id=import_id)


@datapunk_task()
def run_upload_verify(upload_id: int) -> None:
    """Hash a completed upload whose running digest was lost; a no-op unless it is verifying."""
    with _as_owner(Upload, upload_id) as found:
        if found:
            upload_verify(upload_id=upload_id)
