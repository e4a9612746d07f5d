from django.urls import path

from .views import FindingList, MaskedEventView, PolicyView, RevealView

urlpatterns = [
    path("findings/", FindingList.as_view(), name="privacy-findings"),
    path("policy/", PolicyView.as_view(), name="privacy-policy"),
    path("events/<int:event_id>/", MaskedEventView.as_view(), name="privacy-event"),
    path("events/<int:event_id>/reveal/", RevealView.as_view(), name="privacy-event-reveal"),
]
