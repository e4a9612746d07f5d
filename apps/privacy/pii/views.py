"""The PII page: what was found, and the masking policy per risk class."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from apps.core.user_settings import mask_on_screen
from apps.privacy.pii.models import RedactionPolicy
from apps.privacy.selectors import finding_counts_of, findings_of, scan_state_of
from apps.privacy.services import redaction_policy_of, redaction_policy_set

RECENT_FINDINGS = 50


class PolicyForm(forms.Form):
    high = forms.ChoiceField(choices=RedactionPolicy.Action.choices, label="High risk")
    medium = forms.ChoiceField(choices=RedactionPolicy.Action.choices, label="Medium risk")
    low = forms.ChoiceField(choices=RedactionPolicy.Action.choices, label="Low risk")


@login_required
def pii_policy(request: HttpRequest) -> HttpResponse:
    user_id = int(request.user.pk or 0)  # login_required: always a user
    if request.method == "POST":
        form = PolicyForm(request.POST)
        if form.is_valid():
            redaction_policy_set(user_id=user_id, **form.cleaned_data)
            messages.success(request, "Saved: the API and exports show personal data this way now.")
            return redirect("privacy-pii")
    else:
        policy = redaction_policy_of(user_id=user_id)
        form = PolicyForm(initial={"high": policy.high, "medium": policy.medium, "low": policy.low})
    return render(
        request,
        "privacy/pii.html",
        {
            "form": form,
            "counts": finding_counts_of(user_id=user_id),
            "state": scan_state_of(user_id=user_id),
            "findings": findings_of(user_id=user_id)[:RECENT_FINDINGS],
            "mask_on_screen": mask_on_screen(user_id=user_id),
        },
    )
