"""Search over a user's events: selectors (reads), services (embedding writes), Celery
tasks, lake receivers, the page, the API and their URLs."""
