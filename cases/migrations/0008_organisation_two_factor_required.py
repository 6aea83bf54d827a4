from django.db import migrations, models


def legal_aid_starts_without_the_requirement(apps, schema_editor):
    """Existing organisations get their kind's default: required for law enforcement, not for legal aid."""
    apps.get_model("cases", "Organisation").objects.filter(kind="legal_aid").update(two_factor_required=False)


class Migration(migrations.Migration):
    dependencies = [("cases", "0007_case_status_reviewed")]

    operations = [
        migrations.AddField(
            model_name="organisation",
            name="two_factor_required",
            field=models.BooleanField(default=True),
        ),
        migrations.RunPython(legal_aid_starts_without_the_requirement, migrations.RunPython.noop),
    ]
