"""The one way migrations put a recurring job on django-q2's schedule (checkpoints, retention, fixity).

Idempotent: a schedule for the function that already exists (made by an earlier run or by an operator, perhaps
with another interval) is kept as it is; reversing the migration removes it."""

from django.db import migrations


def schedule_operation(*, name: str, func: str, schedule_type: str, minutes: int | None = None) -> migrations.RunPython:
    """A reversible RunPython that schedules `func`; `schedule_type` is django-q2's code ("I" minutes, "D" daily)."""

    def create(apps, schema_editor):
        Schedule = apps.get_model("django_q", "Schedule")
        if not Schedule.objects.filter(func=func).exists():
            Schedule.objects.create(name=name, func=func, schedule_type=schedule_type, minutes=minutes, repeats=-1)

    def delete(apps, schema_editor):
        apps.get_model("django_q", "Schedule").objects.filter(func=func).delete()

    return migrations.RunPython(create, delete)
