from django.urls import include, path

from apps.stream import views

urlpatterns = [
    path("feed/", views.feed, name="feed"),
    path("api/webhooks/twitch/", views.twitch_eventsub, name="webhook-twitch"),
    path("api/webhooks/microsoft/", views.microsoft_graph, name="webhook-microsoft"),
    path("api/", include("apps.stream.api.urls")),
    path("", include("apps.stream.devices.urls")),
]
