"""Reject UPDATE and DELETE on the ledger tables inside the database itself (SQLite and PostgreSQL)."""

from django.db import migrations

from custody.triggers import triggers_install, triggers_remove


TABLES = ("custody_custodyevent", "custody_checkpoint")


def install(apps, schema_editor):
    triggers_install(schema_editor.connection, TABLES)


def remove(apps, schema_editor):
    triggers_remove(schema_editor.connection, TABLES)


class Migration(migrations.Migration):
    dependencies = [("custody", "0001_ledger_tables")]

    operations = [migrations.RunPython(install, remove)]
