from celery import shared_task

from apps.lake.services import takeout_import_run


@shared_task(acks_late=True)
def run_takeout_import(import_id: int) -> None:
    """Run or resume one import; a no-op if it is gone, finished, or running elsewhere."""
    takeout_import_run(import_id=import_id)
