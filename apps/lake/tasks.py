from celery import shared_task

from apps.lake.services import CONNECTION_ERRORS, takeout_import_run


# A lost database connection pauses an import with everything committed kept;
# retrying later resumes it from its checkpoints. Other errors are recorded on
# the import's rows by the service and need no retry.
@shared_task(
    acks_late=True,
    autoretry_for=CONNECTION_ERRORS,
    retry_backoff=30,
    retry_backoff_max=600,
    retry_jitter=True,
    max_retries=8,
)
def run_takeout_import(import_id: int) -> None:
    """Run or resume one import; a no-op if it is gone, finished, or running elsewhere."""
    takeout_import_run(import_id=import_id)
