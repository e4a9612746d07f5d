from django.urls import path

from apps.privacy import pii_views

urlpatterns = [
    path("privacy/pii/", pii_views.pii_policy, name="privacy-pii"),
]
