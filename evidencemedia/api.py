"""The /api/v1/ router: each app contributes its own urls module."""

from django.urls import include, path

app_name = "api"

urlpatterns = [
    path("", include("cases.api.urls")),
    path("custody/", include("custody.api.urls")),
    path("", include("forensics.api.urls")),
    path("", include("reports.api.urls")),
]
