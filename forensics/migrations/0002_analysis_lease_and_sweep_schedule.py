"""The lease a worker holds on a claimed analysis (see cases.task_runs), and the sweep that queues again the
analyses whose worker is gone, scheduled every minute in django-q2 (see cases.schedules)."""

from django.db import migrations, models

from cases.schedules import schedule_operation


class Migration(migrations.Migration):
    dependencies = [
        ("forensics", "0001_analysis_runs"),
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
    ]

    operations = [
        migrations.AddField(
            model_name="analysis",
            name="lease_expires_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddIndex(
            model_name="analysis",
            index=models.Index(fields=["status", "lease_expires_at"], name="analysis_status_lease"),
        ),
        schedule_operation(
            name="Analyses whose worker is gone", func="forensics.tasks.analyses_sweep", schedule_type="I", minutes=1
        ),
    ]
