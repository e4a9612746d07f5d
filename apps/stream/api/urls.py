from django.urls import path

from apps.stream.api.views import IngestEventsView, IngestKeyView

urlpatterns = [
    path("ingest/events/", IngestEventsView.as_view(), name="ingest-events"),
    path("ingest/key/", IngestKeyView.as_view(), name="ingest-key"),
]
