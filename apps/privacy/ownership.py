"""Which models hold a user's rows: every model with a ``user_id`` column.

Found from the app registry, never listed by hand, so a model another app
adds is exported, deleted and checked for isolation without touching this
app. The same rule as the catalog discovery of apps/privacy/rls.py.
"""

from __future__ import annotations

from django.apps import apps
from django.db import models

from apps.privacy.rls import APPEND_ONLY_TABLES, EXEMPT_TABLES


def user_owned_models(*, include_append_only: bool = False) -> list[type[models.Model]]:
    """Concrete models with a ``user_id`` column, outside the account machinery,
    ordered by table name. The audit log is left out unless asked for: it is
    about the user, but it is the system's record, kept after a deletion."""
    found = []
    for model in apps.get_models():
        meta = model._meta
        if meta.proxy or not meta.managed:
            continue
        if meta.db_table in EXEMPT_TABLES:
            continue
        if meta.db_table in APPEND_ONLY_TABLES and not include_append_only:
            continue
        if any(field.column == "user_id" for field in meta.concrete_fields):
            found.append(model)
    return sorted(found, key=lambda model: model._meta.db_table)
