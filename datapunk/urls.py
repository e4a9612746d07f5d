from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.routers import DefaultRouter

from apps.lake.api.urls import router as lake_router

# One browsable API root at /api/ listing every app's endpoints.
api_router = DefaultRouter()
api_router.registry.extend(lake_router.registry)

urlpatterns = [
    path("", include("apps.core.urls")),
    path("", include("apps.lake.urls")),
    path("", include("apps.connectors.urls")),
    path("", include("django_prometheus.urls")),  # /metrics
    path("admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("api/auth/", include("rest_framework.urls")),
    path("api/", include(api_router.urls)),
]
