"""Schedule `retention_apply_all` every hour in django-q2. See cases.schedules."""

from django.db import migrations

from cases.schedules import schedule_operation


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0002_retention_policy_and_legal_hold"),
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
    ]

    operations = [
        schedule_operation(name="Media retention", func="cases.retention.retention_apply_all", schedule_type="I", minutes=60)
    ]
