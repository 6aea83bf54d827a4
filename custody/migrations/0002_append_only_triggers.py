"""Reject UPDATE and DELETE on the ledger tables inside the database itself (SQLite and PostgreSQL)."""

from django.db import migrations

from custody.triggers import triggers_install, triggers_remove


def install(apps, schema_editor):
    triggers_install(schema_editor.connection)


def remove(apps, schema_editor):
    triggers_remove(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [("custody", "0001_ledger_tables")]

    operations = [migrations.RunPython(install, remove)]
