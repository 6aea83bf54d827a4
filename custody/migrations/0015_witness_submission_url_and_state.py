"""Witnesses the server pushes checkpoints to (c2sp.org/tlog-witness): their URL and the state of the pushes, and
the schedule that retries the pushes an outage left behind."""

from django.db import migrations, models

from cases.schedules import schedule_operation


class Migration(migrations.Migration):
    dependencies = [
        ("custody", "0014_report_certificate_imported_action"),
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
    ]

    operations = [
        migrations.AddField(
            model_name="witness",
            name="acknowledged_size",
            field=models.PositiveBigIntegerField(default=0),
        ),
        migrations.AddField(
            model_name="witness",
            name="failing_since",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="witness",
            name="failure",
            field=models.CharField(blank=True, max_length=500),
        ),
        migrations.AddField(
            model_name="witness",
            name="submitted_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="witness",
            name="url",
            field=models.URLField(blank=True, max_length=500),
        ),
        schedule_operation(
            name="Witness cosignatures",
            func="custody.witness_submissions.witnesses_submit_pending",
            schedule_type="I",
            minutes=10,
        ),
    ]
