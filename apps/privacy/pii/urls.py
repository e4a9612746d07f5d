from django.urls import path

from apps.privacy.pii import views

urlpatterns = [
    path("privacy/pii/", views.pii_policy, name="privacy-pii"),
]
