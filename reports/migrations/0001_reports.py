# Reports: the Report model (evidence or case report, status, signed PDF's SHA-256 and storage key, checkpoint).

import django.db.models.deletion
import uuid
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("cases", "0001_initial_domain"),
        ("custody", "0001_ledger_tables"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="Report",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                (
                    "public_id",
                    models.UUIDField(default=uuid.uuid4, editable=False, unique=True, verbose_name="Report ID"),
                ),
                (
                    "kind",
                    models.CharField(choices=[("evidence", "Evidence report"), ("case", "Case report")], max_length=10),
                ),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("queued", "Queued"),
                            ("running", "Being generated"),
                            ("done", "Ready"),
                            ("failed", "Failed"),
                        ],
                        default="queued",
                        max_length=10,
                    ),
                ),
                ("requested_at", models.DateTimeField(auto_now_add=True)),
                ("started_at", models.DateTimeField(blank=True, null=True)),
                ("attempts", models.PositiveSmallIntegerField(default=0)),
                ("generated_at", models.DateTimeField(blank=True, null=True)),
                ("sha256", models.CharField(blank=True, db_index=True, max_length=64)),
                ("size", models.PositiveBigIntegerField(blank=True, null=True)),
                ("storage_key", models.CharField(blank=True, max_length=255)),
                ("error", models.TextField(blank=True)),
                (
                    "case",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT, related_name="reports", to="cases.case"
                    ),
                ),
                (
                    "checkpoint",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="custody.checkpoint",
                    ),
                ),
                (
                    "evidence",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="reports",
                        to="cases.evidenceitem",
                    ),
                ),
                (
                    "requested_by",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT, related_name="+", to=settings.AUTH_USER_MODEL
                    ),
                ),
            ],
            options={
                "ordering": ["-requested_at", "-id"],
                "indexes": [
                    models.Index(fields=["evidence", "-requested_at"], name="reports_rep_evidenc_5f7515_idx"),
                    models.Index(fields=["case", "-requested_at"], name="reports_rep_case_id_880a14_idx"),
                ],
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(
                            models.Q(("evidence__isnull", True), ("kind", "case")),
                            models.Q(("evidence__isnull", False), ("kind", "evidence")),
                            _connector="OR",
                        ),
                        name="report_evidence_matches_kind",
                    )
                ],
            },
        ),
    ]
