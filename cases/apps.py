from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class CasesConfig(AppConfig):
    name = "cases"
    verbose_name = "Cases and evidence"


class TwoFactorAdminConfig(admin_apps.AdminConfig):
    """django.contrib.admin with the site of cases/admin_site.py (staff sign in with a second factor)."""

    default = False  # named in INSTALLED_APPS in place of django.contrib.admin; CasesConfig stays this app's
    default_site = "cases.admin_site.TwoFactorAdminSite"
