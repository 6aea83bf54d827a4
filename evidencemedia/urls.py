from csp.decorators import csp_update
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerSplitView

from cases.auth_views import AdminLoginForm, LoginView
from cases.views import home

# The admin's log-in takes its password under the same lock-out as the site's.
admin.site.login_form = AdminLoginForm

urlpatterns = [
    path("", home, name="home"),
    path("login/", LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("", include("cases.urls")),
    path("custody/", include("custody.urls")),
    path("", include("reports.urls")),
    path("api/v1/", include("evidencemedia.api")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves Swagger UI's start-up script as a file: the Content-Security-Policy runs no inline one.
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="swagger-ui"),
    # Redoc renders through styles it injects at run time; only this page allows inline style (never script).
    path(
        "api/redoc/",
        csp_update({"style-src": ["'unsafe-inline'"], "worker-src": ["blob:"]})(
            SpectacularRedocView.as_view(url_name="schema")
        ),
        name="redoc",
    ),
    path("admin/", admin.site.urls),
]

# Under /api/ these answer with the API's error body; elsewhere they render the usual pages.
handler400 = "cases.api.errors.malformed"
handler404 = "cases.api.errors.not_found"
handler500 = "cases.api.errors.server_failure"
