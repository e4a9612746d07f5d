from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.permissions import IsAuthenticated
from rest_framework.routers import DefaultRouter

from apps.lake.api.urls import router as lake_router

_signed_in = [IsAuthenticated]

# One browsable API root at /api/ listing every app's endpoints.
api_router = DefaultRouter()
api_router.registry.extend(lake_router.registry)

urlpatterns = [
    path("", include("apps.core.urls")),
    path("", include("apps.lake.urls")),
    path("admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),
    # The API's map is for its users, not for anyone who finds the server.
    path(
        "api/schema/", SpectacularAPIView.as_view(permission_classes=_signed_in), name="api-schema"
    ),
    path(
        "api/docs/",
        SpectacularSwaggerView.as_view(url_name="api-schema", permission_classes=_signed_in),
        name="api-docs",
    ),
    path("api/auth/", include("rest_framework.urls")),
    path("api/", include(api_router.urls)),
]
