"""The admin site, with every change made through it in the audit log.

Every ModelAdmin registered on the default site (any app's) is wrapped with
``AuditedModelAdmin``: Django's own admin history (LogEntry) stays as it is,
and each addition, change and deletion also becomes an audit entry naming the
staff user and the owner of the object. Deletions are audited as Django logs
them, before the objects are gone (their owner is still known), and each
object of a bulk delete gets its own entry.
"""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth import get_user_model

from apps.privacy.audit import audit_record, request_ip


def _owner_of(obj) -> int | None:
    if isinstance(obj, get_user_model()):
        return obj.pk
    owner = getattr(obj, "user_id", None)
    return owner if isinstance(owner, int) else None


def _audit(request, action: str, obj, message: str = "") -> None:
    meta = obj._meta
    audit_record(
        action=action,
        user_id=_owner_of(obj),
        actor_id=request.user.pk,
        target=f"{meta.app_label}.{meta.model_name}:{obj.pk}",
        detail={"object": str(obj)[:200], "change": message},
        ip=request_ip(request),
    )


class AuditedModelAdmin(admin.ModelAdmin):
    def log_addition(self, request, obj, message):
        entry = super().log_addition(request, obj, message)
        _audit(request, "admin.add", obj, entry.get_change_message() if entry else "")
        return entry

    def log_change(self, request, obj, message):
        entry = super().log_change(request, obj, message)
        _audit(request, "admin.change", obj, entry.get_change_message() if entry else "")
        return entry

    def log_deletions(self, request, queryset):
        objects = list(queryset)
        entries = super().log_deletions(request, objects)
        for obj in objects:
            _audit(request, "admin.delete", obj)
        return entries


class AuditedAdminSite(admin.AdminSite):
    def register(self, model_or_iterable, admin_class=None, **options):
        base = admin_class or admin.ModelAdmin
        if not issubclass(base, AuditedModelAdmin):
            base = type(base.__name__, (AuditedModelAdmin, base), {"__module__": base.__module__})
        super().register(model_or_iterable, base, **options)
