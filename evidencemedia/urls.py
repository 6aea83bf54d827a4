from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

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
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
    path("api/redoc/", SpectacularRedocView.as_view(url_name="schema"), name="redoc"),
    path("admin/", admin.site.urls),
]

# Under /api/ these answer with the API's error body; elsewhere they render the usual pages.
handler400 = "cases.api.errors.malformed"
handler404 = "cases.api.errors.not_found"
handler500 = "cases.api.errors.server_failure"
