"""The admin site, with every change made through it in the audit log.

Every ModelAdmin registered on the default site (any app's) is wrapped with
``AuditedModelAdmin``: Django's own admin history (LogEntry) stays as it is,
and each addition, change and deletion also becomes an audit entry naming the
staff user and the owner of the object. Deletions are audited as Django logs
them, before the objects are gone (their owner is still known), and each
object of a bulk delete gets its own entry.

Staff read only their own rows here until they open an access to someone
else's on the site's access page (apps/privacy/admin_access.py).
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path

from apps.privacy.admin_access import (
    AdminAccessRefused,
    admin_access_close,
    admin_access_current,
    admin_access_open,
)
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


class AdminAccessForm(forms.Form):
    username = forms.CharField(
        required=False, help_text="Whose data. Leave empty with 'every user' ticked."
    )
    every_user = forms.BooleanField(
        required=False, label="Every user (superusers only)", help_text="The system context."
    )
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Why you need it (a support case, an incident). Kept in the audit log.",
    )

    def clean(self):
        data = super().clean()
        if bool(data.get("username")) == bool(data.get("every_user")):
            raise forms.ValidationError("name one user, or tick 'every user'")
        if data.get("username"):
            user = get_user_model().objects.filter(username=data["username"]).first()
            if user is None:
                raise forms.ValidationError(f"no user {data['username']!r}")
            data["user"] = user
        return data


class AuditedAdminSite(admin.AdminSite):
    def get_urls(self):
        return [
            path("access/", self.admin_view(self.access_view), name="access"),
            *super().get_urls(),
        ]

    def each_context(self, request: HttpRequest) -> dict:
        context = super().each_context(request)
        if getattr(request, "user", None) is not None and request.user.is_staff:
            context["datapunk_access"] = admin_access_current(request)
        return context

    def access_view(self, request: HttpRequest) -> HttpResponse:
        """Open or end an access to someone else's rows (audited)."""
        form = AdminAccessForm()
        if request.method == "POST" and "end" in request.POST:
            admin_access_close(request=request)
            messages.info(request, "Access ended: you see your own rows again.")
            return redirect("admin:access")
        if request.method == "POST":
            form = AdminAccessForm(request.POST)
            if form.is_valid():
                user = form.cleaned_data.get("user")
                try:
                    access = admin_access_open(
                        request=request,
                        user_id=None if user is None else user.pk,
                        label="every user" if user is None else user.get_username(),
                        reason=form.cleaned_data["reason"],
                    )
                except AdminAccessRefused as exc:
                    form.add_error(None, str(exc))
                else:
                    messages.warning(
                        request,
                        f"You now read {access.label}'s data for {access.seconds_left // 60} "
                        "minutes; every page you open is in the audit log.",
                    )
                    return redirect("admin:index")
        context = {
            **self.each_context(request),
            "title": "Access a user's data",
            "form": form,
        }
        return TemplateResponse(request, "admin/datapunk_access.html", context)

    def register(self, model_or_iterable, admin_class=None, **options):
        base = admin_class or admin.ModelAdmin
        if not issubclass(base, AuditedModelAdmin):
            base = type(base.__name__, (AuditedModelAdmin, base), {"__module__": base.__module__})
        super().register(model_or_iterable, base, **options)
