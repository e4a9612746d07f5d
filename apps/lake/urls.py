from django.urls import path

from apps.lake import views

urlpatterns = [
    path("imports/", views.import_list, name="import-list"),
    path("imports/<int:pk>/", views.import_detail, name="import-detail"),
]
