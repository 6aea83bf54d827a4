"""Reject TRUNCATE of the ledger tables on PostgreSQL, which the row triggers of 0002 and 0003 do not see."""

from django.db import migrations

from custody.triggers import truncate_triggers_install, truncate_triggers_remove

TABLES = ("custody_custodyevent", "custody_checkpoint", "custody_reviewsignoff")


def install(apps, schema_editor):
    truncate_triggers_install(schema_editor.connection, TABLES)


def remove(apps, schema_editor):
    truncate_triggers_remove(schema_editor.connection, TABLES)


class Migration(migrations.Migration):
    dependencies = [("custody", "0008_membership_and_token_actions")]

    operations = [migrations.RunPython(install, remove)]
