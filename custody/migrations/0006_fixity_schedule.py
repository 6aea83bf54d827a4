"""Schedule `fixity_run_scheduled` once a day in django-q2 (each run re-hashes FIXITY_SHARE_PER_RUN of the stored
files). Idempotent: a schedule for the function that already exists is kept as it is; reversing removes it."""

from django.db import migrations

FUNCTION = "custody.fixity.fixity_run_scheduled"


def schedule_create(apps, schema_editor):
    Schedule = apps.get_model("django_q", "Schedule")
    if not Schedule.objects.filter(func=FUNCTION).exists():
        Schedule.objects.create(name="Fixity checks", func=FUNCTION, schedule_type="D", repeats=-1)  # Schedule.DAILY


def schedule_delete(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.filter(func=FUNCTION).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("custody", "0005_fixity_state_and_new_actions"),
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
    ]

    operations = [migrations.RunPython(schedule_create, schedule_delete)]
