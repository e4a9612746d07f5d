from django.urls import path

from apps.analytics.search.api import SearchView
from apps.analytics.search.views import search_page

urlpatterns = [
    path("search/", search_page, name="search"),
    path("api/search/", SearchView.as_view(), name="api-search"),
]
