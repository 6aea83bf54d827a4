from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy


class CasesConfig(AppConfig):
    name = "cases"
    verbose_name = gettext_lazy("Cases and evidence")

    def ready(self) -> None:
        post_migrate.connect(sqlite_text_index_heal, sender=self)


def sqlite_text_index_heal(using: str, **kwargs) -> None:
    """Put back the SQLite search tables' triggers after a migration that rebuilt `cases_case` or
    `cases_evidenceitem` (SQLite alters a table by copying it, which drops its triggers)."""
    from django.db import connections

    from .search import sqlite_fts5_available, sqlite_text_index_create, sqlite_text_index_present

    connection = connections[using]
    if connection.vendor != "sqlite":
        return
    with connection.cursor() as cursor:
        if sqlite_fts5_available(cursor) and not sqlite_text_index_present(connection):
            sqlite_text_index_create(cursor)


class TwoFactorAdminConfig(admin_apps.AdminConfig):
    """django.contrib.admin with the site of cases/admin_site.py (staff sign in with a second factor)."""

    default = False  # named in INSTALLED_APPS in place of django.contrib.admin; CasesConfig stays this app's
    default_site = "cases.admin_site.TwoFactorAdminSite"
