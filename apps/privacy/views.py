from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from apps.privacy.models import AuditEntry, Export


@login_required
def privacy_page(request: HttpRequest) -> HttpResponse:
    """Export all my data, delete my data, and what the audit log says about me."""
    user = request.user
    assert isinstance(user, User)  # login_required
    return render(
        request,
        "privacy/privacy.html",
        {
            "exports": Export.objects.filter(user=user)[:20],
            "audit": AuditEntry.objects.filter(user_id=user.pk)[:50],
            "has_password": user.has_usable_password(),
        },
    )
