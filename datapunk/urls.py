from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.routers import DefaultRouter

from apps.lake.api.urls import router as lake_router
from apps.privacy.api.urls import router as privacy_router
from apps.privacy.api.urls import urlpatterns as privacy_api_urls

# One browsable API root at /api/ listing every app's endpoints.
api_router = DefaultRouter()
api_router.registry.extend(lake_router.registry)
api_router.registry.extend(privacy_router.registry)

urlpatterns = [
    path("", include("apps.core.urls")),
    path("", include("apps.lake.urls")),
    path("", include("django_prometheus.urls")),  # /metrics
    path("admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("api/auth/", include("rest_framework.urls")),
    path("", include("apps.privacy.urls")),
    path("api/", include(privacy_api_urls)),
    path("api/", include(api_router.urls)),
]
