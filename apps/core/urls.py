from django.urls import path

from apps.core import views

urlpatterns = [
    # "/" (name "home") is the dashboard: apps/analytics/urls.py
    path("health/live", views.health_live, name="health-live"),
    path("health/ready", views.health_ready, name="health-ready"),
    path("metrics", views.metrics, name="prometheus-django-metrics"),
]
