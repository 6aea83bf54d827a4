"""RFC 3161 time-stamps of checkpoints: an append-only table beside the checkpoints, and the schedule that
time-stamps late what a TSA outage left unstamped (custody.timestamps)."""

import django.db.models.deletion
from django.db import migrations, models

from cases.schedules import schedule_operation
from custody.triggers import triggers_install, triggers_remove

TABLES = ("custody_checkpointtimestamp",)


def install(apps, schema_editor):
    triggers_install(schema_editor.connection, TABLES)


def remove(apps, schema_editor):
    triggers_remove(schema_editor.connection, TABLES)


class Migration(migrations.Migration):
    dependencies = [
        ("custody", "0011_account_security_actions"),
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
    ]

    operations = [
        migrations.CreateModel(
            name="CheckpointTimestamp",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("tsa_url", models.CharField(max_length=500)),
                ("token", models.BinaryField()),
                ("chain_pem", models.TextField()),
                ("gen_time", models.DateTimeField()),
                ("stored_at", models.DateTimeField()),
                (
                    "checkpoint",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.PROTECT, related_name="timestamp", to="custody.checkpoint"
                    ),
                ),
            ],
            options={"ordering": ["checkpoint"]},
        ),
        migrations.RunPython(install, remove),
        schedule_operation(
            name="Late checkpoint time-stamps",
            func="custody.timestamps.checkpoints_timestamp_late",
            schedule_type="I",
            minutes=5,
        ),
    ]
