"""Schedule `checkpoints_make_all` every ten minutes in django-q2. See cases.schedules."""

from django.db import migrations

from cases.schedules import schedule_operation


class Migration(migrations.Migration):
    dependencies = [
        ("custody", "0003_review_sign_offs"),
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
    ]

    operations = [
        schedule_operation(
            name="Custody checkpoints", func="custody.checkpoints.checkpoints_make_all", schedule_type="I", minutes=10
        )
    ]
