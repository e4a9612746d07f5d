from django.urls import path

from apps.core import settings_views, views

urlpatterns = [
    # "/" (name "home") is the dashboard: apps/analytics/urls.py
    path("health/live", views.health_live, name="health-live"),
    path("health/ready", views.health_ready, name="health-ready"),
    path("metrics", views.metrics, name="prometheus-django-metrics"),
    path("settings/", settings_views.settings_page, name="settings"),
    path(
        "settings/time-zone/detected/", settings_views.time_zone_detected, name="time-zone-detected"
    ),
]
