"""Schedule `fixity_run_scheduled` once a day in django-q2 (each run re-hashes FIXITY_SHARE_PER_RUN of the stored files). See cases.schedules."""

from django.db import migrations

from cases.schedules import schedule_operation


class Migration(migrations.Migration):
    dependencies = [
        ("custody", "0005_fixity_state_and_new_actions"),
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
    ]

    operations = [
        schedule_operation(name="Fixity checks", func="custody.fixity.fixity_run_scheduled", schedule_type="D")
    ]
