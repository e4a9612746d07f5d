from django.urls import path

from apps.stream.devices import views

urlpatterns = [
    path("devices/", views.devices_page, name="devices"),
    path("devices/<int:device_id>/revoke/", views.device_revoke_view, name="device-revoke"),
    path("api/devices/owntracks/", views.owntracks, name="device-owntracks"),
    path("api/devices/overland/", views.overland, name="device-overland"),
    path("api/devices/gpslogger/", views.gpslogger, name="device-gpslogger"),
]
