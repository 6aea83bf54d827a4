"""API representations of analyses: status, verdict with its findings, and the versions that reproduce it."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from ..models import Analysis


class FindingSerializer(serializers.Serializer):
    rule_id = serializers.CharField()
    title = serializers.CharField()
    category = serializers.CharField()
    severity = serializers.ChoiceField(choices=["info", "warning", "critical"])
    explanation = serializers.CharField()
    innocent_explanation = serializers.CharField()
    evidence = serializers.DictField()


class AnalysisSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    evidence = serializers.UUIDField(source="evidence.public_id", read_only=True)
    verdict_text = serializers.CharField(source="verdict_sentence", read_only=True)
    findings = serializers.SerializerMethodField()
    requested_by = serializers.CharField(source="requested_by.username", default=None, read_only=True)

    class Meta:
        model = Analysis
        fields = [
            "id", "evidence", "status", "reason", "requested_by", "queued_at", "started_at", "finished_at",
            "attempts", "verdict", "verdict_text", "findings", "ruleset_version", "engine_version",
            "tool_versions", "result_sha256", "error",
        ]  # fmt: skip

    @extend_schema_field(FindingSerializer(many=True))
    def get_findings(self, analysis: Analysis) -> list:
        return analysis.findings


class AnalysisResultSerializer(AnalysisSerializer):
    """One analysis with every analyser's raw output (ExifTool tags, structure walks, MediaInfo, C2PA)."""

    result = serializers.JSONField(read_only=True)

    class Meta(AnalysisSerializer.Meta):
        fields = [*AnalysisSerializer.Meta.fields, "result"]
