from django.urls import path

from apps.connectors import views

urlpatterns = [
    path("connections/", views.connection_list, name="connections"),
    path("connections/<int:pk>/sync/", views.connection_sync_now, name="connection-sync"),
    path(
        "connections/<int:pk>/disconnect/",
        views.connection_disconnect_view,
        name="connection-disconnect",
    ),
]
