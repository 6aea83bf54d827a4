"""Evidence items keep the assessment of their latest finished analysis; items analysed before it are assessed
from their stored findings (forensics.assessment is a pure function of them)."""

from django.db import migrations, models

from forensics.assessment import assessment_make


def assessments_fill(apps, schema_editor):
    EvidenceItem = apps.get_model("cases", "EvidenceItem")
    Analysis = apps.get_model("forensics", "Analysis")
    for item in EvidenceItem.objects.exclude(verdict="").only("pk").iterator():
        latest = Analysis.objects.filter(evidence_id=item.pk, status="done").order_by("-finished_at", "-id").first()
        if latest is not None:
            assessment = assessment_make(latest.findings, latest.result)
            EvidenceItem.objects.filter(pk=item.pk).update(assessment=assessment)


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0008_organisation_two_factor_required"),
        ("forensics", "0002_analysis_lease_and_sweep_schedule"),
    ]

    operations = [
        migrations.AddField(
            model_name="evidenceitem",
            name="assessment",
            field=models.JSONField(blank=True, default=dict),
        ),
        # Backwards the column is dropped with everything in it, so there is nothing to undo row by row.
        migrations.RunPython(assessments_fill, migrations.RunPython.noop),
    ]
