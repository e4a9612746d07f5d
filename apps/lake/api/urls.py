from rest_framework.routers import DefaultRouter

from .views import ImportViewSet, UploadViewSet

router = DefaultRouter()
router.register("imports", ImportViewSet, basename="import")
router.register("uploads", UploadViewSet, basename="upload")
