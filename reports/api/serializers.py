"""API representations of reports (status, hashes, download link) and of a verification outcome."""

from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from ..models import Report
from ..verification import Outcome, ReportVerification


class ReportSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    case = serializers.UUIDField(source="case.public_id", read_only=True)
    evidence = serializers.UUIDField(source="evidence.public_id", default=None, allow_null=True, read_only=True)
    requested_by = serializers.CharField(source="requested_by.username", read_only=True)
    checkpoint_tree_size = serializers.IntegerField(
        source="checkpoint.tree_size", default=None, allow_null=True, read_only=True
    )
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = Report
        fields = [
            "id", "kind", "case", "evidence", "status", "requested_by", "requested_at", "started_at",
            "generated_at", "sha256", "size", "checkpoint_tree_size", "error", "download_url",
        ]  # fmt: skip

    def get_download_url(self, report: Report) -> str | None:
        if not report.is_ready:
            return None
        return reverse("api:report-download", kwargs={"report_id": report.public_id})


class ReportVerifyRequestSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="The PDF to check.")


class VerifiedReportSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    kind = serializers.ChoiceField(choices=["evidence", "case"])
    case = serializers.UUIDField()
    evidence = serializers.ListField(child=serializers.UUIDField())
    generated_at = serializers.DateTimeField()


class ReportVerificationSerializer(serializers.Serializer):
    """What verification discloses: the verdict, and for a genuine report only its own ids and date."""

    genuine = serializers.BooleanField()
    outcome = serializers.ChoiceField(choices=[o.value for o in Outcome])
    message = serializers.CharField()
    sha256 = serializers.CharField()
    report = serializers.SerializerMethodField()

    @extend_schema_field(VerifiedReportSerializer(allow_null=True))
    def get_report(self, verification: ReportVerification) -> dict | None:
        if not verification.genuine:
            return None
        return {
            "id": verification.report_id,
            "kind": verification.kind,
            "case": verification.case_id,
            "evidence": verification.evidence_ids,
            "generated_at": verification.generated_at,
        }
