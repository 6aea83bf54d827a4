"""Schedule `retention_apply_all` every hour in django-q2. Idempotent: a schedule for the function that already
exists (created here or by an operator) is kept as it is; reversing removes it."""

from django.db import migrations

FUNCTION = "cases.retention.retention_apply_all"
EVERY_MINUTES = 60


def schedule_create(apps, schema_editor):
    Schedule = apps.get_model("django_q", "Schedule")
    if not Schedule.objects.filter(func=FUNCTION).exists():
        Schedule.objects.create(
            name="Media retention",
            func=FUNCTION,
            schedule_type="I",  # Schedule.MINUTES
            minutes=EVERY_MINUTES,
            repeats=-1,
        )


def schedule_delete(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.filter(func=FUNCTION).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0002_retention_policy_and_legal_hold"),
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
    ]

    operations = [migrations.RunPython(schedule_create, schedule_delete)]
