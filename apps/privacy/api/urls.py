from django.urls import path
from rest_framework.routers import DefaultRouter

from .views import DeleteMyDataView, ExportViewSet

router = DefaultRouter()
router.register("privacy/exports", ExportViewSet, basename="privacy-export")

urlpatterns = [
    path("privacy/delete/", DeleteMyDataView.as_view(), name="privacy-delete"),
]
