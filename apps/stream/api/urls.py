from django.urls import path

from apps.stream.api.ingest import ingest_events
from apps.stream.api.views import IngestKeyView

urlpatterns = [
    path("ingest/events/", ingest_events, name="ingest-events"),
    path("ingest/key/", IngestKeyView.as_view(), name="ingest-key"),
]
