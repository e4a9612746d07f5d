from django.urls import path

from apps.analytics import api, metrics_api, views

urlpatterns = [
    path("", views.dashboard, name="home"),
    path("timeline/", views.timeline, name="timeline"),
    path("events/<int:event_id>/", views.event_detail, name="event-detail"),
    path("map/", views.map_page, name="map"),
    path("health/", views.health_page, name="health"),
    path("api/events/", api.events_list, name="api-events"),
    path("api/timeseries/", api.timeseries, name="api-timeseries"),
    path("api/metrics/", metrics_api.metrics, name="api-metrics"),
    path("api/metrics/measurements/", metrics_api.measurements, name="api-metric-measurements"),
    path("api/map/", api.map_data, name="api-map"),
    path("api/stays/", api.stays, name="api-stays"),
    path("api/where/", api.where, name="api-where"),
    path("api/geofences/", api.geofences, name="api-geofences"),
    path("api/geofences/<int:pk>/", api.geofence_detail, name="api-geofence-detail"),
]
