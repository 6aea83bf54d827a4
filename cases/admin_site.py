"""The Django admin site, behind the site's own sign-in rules: the same password lock-out as the log-in page, and
staff must have given their second factor in this session (cases.two_factor.TwoFactorMiddleware sends them to
enrol or to enter their code first; this site refuses an unverified session even if that gate were bypassed)."""

from django.contrib.admin import AdminSite

from .auth_views import AdminLoginForm


class TwoFactorAdminSite(AdminSite):
    login_form = AdminLoginForm

    def has_permission(self, request) -> bool:
        return super().has_permission(request) and request.user.is_verified()
