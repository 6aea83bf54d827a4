"""API representations of analyses: status, verdict with its findings, and the versions that reproduce it."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from cases.models import AnalysisStatus

from ..examination import STATES, examination_lines
from ..models import Analysis
from ..presentation import metadata_groups


class FindingSerializer(serializers.Serializer):
    rule_id = serializers.CharField()
    title = serializers.CharField()
    category = serializers.CharField()
    severity = serializers.ChoiceField(choices=["info", "warning", "critical"])
    explanation = serializers.CharField()
    innocent_explanation = serializers.CharField()
    evidence = serializers.DictField()


class ExaminationSerializer(serializers.Serializer):
    name = serializers.CharField(help_text='The analyser, as in the result\'s runs ("double_jpeg", "c2pa"…).')
    check = serializers.CharField(help_text="What it examines, in words.")
    state = serializers.ChoiceField(choices=STATES)
    reason = serializers.CharField(
        help_text="Why it was not applicable or not made, or why only partly (where a walk stopped, what a tool "
        "reported); empty when examined."
    )


class AnalysisSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    evidence = serializers.UUIDField(source="evidence.public_id", read_only=True)
    verdict_text = serializers.CharField(source="verdict_sentence", read_only=True)
    findings = serializers.SerializerMethodField()
    examination = serializers.SerializerMethodField()
    requested_by = serializers.CharField(source="requested_by.username", default=None, allow_null=True, read_only=True)

    class Meta:
        model = Analysis
        fields = [
            "id", "evidence", "status", "reason", "requested_by", "queued_at", "started_at", "finished_at",
            "attempts", "verdict", "verdict_text", "findings", "examination", "ruleset_version", "engine_version",
            "tool_versions", "result_sha256", "error",
        ]  # fmt: skip

    @extend_schema_field(FindingSerializer(many=True))
    def get_findings(self, analysis: Analysis) -> list:
        return analysis.findings

    @extend_schema_field(ExaminationSerializer(many=True))
    def get_examination(self, analysis: Analysis) -> list:
        """Each check the analysis made on the file, or why not (empty until it is done)."""
        return ExaminationSerializer(examination_lines(analysis.result), many=True).data


class AnalysisResultSerializer(AnalysisSerializer):
    """One analysis with every analyser's raw output (ExifTool tags, structure walks, MediaInfo, C2PA)."""

    result = serializers.JSONField(read_only=True)

    class Meta(AnalysisSerializer.Meta):
        fields = [*AnalysisSerializer.Meta.fields, "result"]


class MetadataTagSerializer(serializers.Serializer):
    name = serializers.CharField()
    value = serializers.CharField()


class MetadataGroupSerializer(serializers.Serializer):
    source = serializers.ChoiceField(choices=["exiftool", "mediainfo"])
    name = serializers.CharField(help_text='ExifTool family-1 group ("EXIF:IFD0", "XMP-xmp"…) or MediaInfo track.')
    tags = MetadataTagSerializer(many=True)
    binary_count = serializers.IntegerField(help_text="Binary values given as a summary instead of their bytes.")


class EvidenceMetadataSerializer(serializers.Serializer):
    """The metadata read by the item's latest analysis, grouped as ExifTool and MediaInfo group it."""

    analysis = serializers.UUIDField(help_text="The analysis it was read by.")
    status = serializers.ChoiceField(choices=AnalysisStatus.choices, help_text="Groups are empty until it is done.")
    groups = MetadataGroupSerializer(many=True)


def metadata_group_list(result: dict) -> list[dict]:
    """ExifTool groups, then one group per MediaInfo track ("General", "Video 1"…), as plain data."""
    groups = [
        {
            "source": "exiftool",
            "name": group.name,
            "tags": [{"name": name, "value": value} for name, value in group.rows],
            "binary_count": group.binary_count,
        }
        for group in metadata_groups(result)
    ]
    tracks = ((result or {}).get("mediainfo") or {}).get("tracks") or []
    for track in tracks:
        fields = {key: value for key, value in track.items() if key not in {"track_type", "track_id"}}
        name = str(track.get("track_type") or "Track")
        if track.get("track_id") is not None:
            name = f"{name} {track['track_id']}"
        groups.append(
            {
                "source": "mediainfo",
                "name": name,
                "tags": [{"name": key, "value": str(fields[key])} for key in sorted(fields)],
                "binary_count": sum(1 for value in fields.values() if str(value).startswith("(binary data")),
            }
        )
    return groups
