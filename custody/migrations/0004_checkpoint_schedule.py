"""Schedule `checkpoints_make_all` every ten minutes in django-q2. Idempotent: a schedule for the function that
already exists (created here or by an operator) is kept as it is; reversing removes it."""

from django.db import migrations

FUNCTION = "custody.checkpoints.checkpoints_make_all"
EVERY_MINUTES = 10


def schedule_create(apps, schema_editor):
    Schedule = apps.get_model("django_q", "Schedule")
    if not Schedule.objects.filter(func=FUNCTION).exists():
        Schedule.objects.create(
            name="Custody checkpoints",
            func=FUNCTION,
            schedule_type="I",  # Schedule.MINUTES
            minutes=EVERY_MINUTES,
            repeats=-1,
        )


def schedule_delete(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.filter(func=FUNCTION).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("custody", "0003_review_sign_offs"),
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
    ]

    operations = [migrations.RunPython(schedule_create, schedule_delete)]
