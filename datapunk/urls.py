from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.permissions import IsAuthenticated
from rest_framework.routers import DefaultRouter

from apps.lake.api.urls import router as lake_router
from apps.privacy.api.urls import router as privacy_router
from apps.privacy.api.urls import urlpatterns as privacy_api_urls

_signed_in = [IsAuthenticated]

# One browsable API root at /api/ listing every app's endpoints.
api_router = DefaultRouter()
api_router.registry.extend(lake_router.registry)
api_router.registry.extend(privacy_router.registry)

urlpatterns = [
    # analytics first: its dashboard is the home page "/" (name "home")
    path("", include("apps.analytics.urls")),
    path("", include("apps.core.urls")),
    path("", include("apps.lake.urls")),
    path("", include("apps.analytics.search.urls")),  # /search/, /api/search/
    # Streams: /feed/, /api/ingest/..., /api/webhooks/<provider>/ (before the API router).
    path("", include("apps.stream.urls")),
    # Connections: /connections/, /api/connections/
    path("", include("apps.connectors.urls")),
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
    path("", include("apps.privacy.urls")),
    path("api/", include(privacy_api_urls)),
    path("api/", include(api_router.urls)),
]

# PII detection and masking: the policy page and /api/privacy/ (findings, policy, reveal).
urlpatterns += [
    path("", include("apps.privacy.pii.urls")),
    path("api/privacy/", include("apps.privacy.pii.api.urls")),
]
