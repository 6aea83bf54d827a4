from csp.decorators import csp_update
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.i18n import JavaScriptCatalog
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerSplitView

from cases import account_pages
from cases.auth_views import LoginView, PasswordResetConfirmView, second_factor_verify
from cases.views import favicon, home

urlpatterns = [
    path("", home, name="home"),
    path("login/", LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("login/code/", second_factor_verify, name="account-two-factor-verify"),
    path("password-reset/", auth_views.PasswordResetView.as_view(), name="password_reset"),
    path("password-reset/sent/", auth_views.PasswordResetDoneView.as_view(), name="password_reset_done"),
    path("password-reset/<uidb64>/<token>/", PasswordResetConfirmView.as_view(), name="password_reset_confirm"),
    path("password-reset/done/", auth_views.PasswordResetCompleteView.as_view(), name="password_reset_complete"),
    path("account/", account_pages.account, name="account"),
    path("account/password/", account_pages.PasswordChangeView.as_view(), name="account-password"),
    path("account/two-factor/", account_pages.two_factor_setup, name="account-two-factor-setup"),
    path(
        "account/two-factor/recovery-codes/",
        account_pages.two_factor_codes_renew,
        name="account-two-factor-codes",
    ),
    path("account/two-factor/off/", account_pages.two_factor_disable, name="account-two-factor-disable"),
    path("account/tokens/", account_pages.api_token_create, name="account-token-create"),
    path("account/tokens/<int:token_id>/rename/", account_pages.api_token_rename, name="account-token-rename"),
    path("account/tokens/<int:token_id>/revoke/", account_pages.api_token_revoke, name="account-token-revoke"),
    path("favicon.ico", favicon, name="favicon"),
    # The translations the page scripts use (gettext, ngettext, interpolate), for the language of the request.
    path("jsi18n/", JavaScriptCatalog.as_view(), name="javascript-catalog"),
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
