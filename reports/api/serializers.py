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


class SignatureFactsSerializer(serializers.Serializer):
    """The report's signature as a PDF reader would judge it: signer, chain, time-stamp, PAdES level, trust."""

    signer = serializers.CharField()
    chain = serializers.ListField(child=serializers.CharField(), help_text="CA certificates, issuer first.")
    self_signed = serializers.BooleanField(help_text="Signed with the installation's self-signed demo certificate.")
    level = serializers.ChoiceField(choices=["B-B", "B-T", "B-LT"], help_text="PAdES baseline level.")
    timestamp = serializers.DateTimeField(allow_null=True, help_text="The signature's RFC 3161 time-stamp.")
    timestamp_authority = serializers.CharField()
    timestamp_trusted = serializers.BooleanField(help_text="The time-stamp's TSA chains to a configured TSA root.")
    trusted = serializers.BooleanField(help_text="The signer chains to a root this installation trusts.")
    trusted_root = serializers.CharField()
    revoked = serializers.BooleanField(help_text="The signer's CA revoked its certificate before the signature's time.")
    trust_sentence = serializers.CharField()


class ReportVerificationSerializer(serializers.Serializer):
    """What verification discloses: the verdict, for a genuine report only its own ids and date, and for a
    signature made with one of this installation's certificates what a PDF reader would conclude about it."""

    genuine = serializers.BooleanField()
    outcome = serializers.ChoiceField(choices=[o.value for o in Outcome])
    message = serializers.CharField()
    sha256 = serializers.CharField()
    report = serializers.SerializerMethodField()
    signature = SignatureFactsSerializer(allow_null=True)

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


class SigningCertificateSerializer(serializers.Serializer):
    """The certificate the organisation's reports are signed with."""

    subject = serializers.CharField()
    issuer = serializers.CharField()
    chain = serializers.ListField(child=serializers.CharField(), help_text="CA certificates, issuer first.")
    fingerprint = serializers.CharField(help_text="SHA-256 of the certificate (DER), hex.")
    not_valid_after = serializers.DateTimeField()
    usable_until = serializers.DateTimeField(
        help_text="The earliest end of validity of the certificate and its CA chain: from then on no report is signed "
        "until a new certificate is imported."
    )
    expired = serializers.BooleanField(help_text="Past usable_until: reports fail until a new certificate is imported.")
    expires_soon = serializers.BooleanField(help_text="Within 30 days of usable_until.")
    self_signed = serializers.BooleanField(help_text="The installation's self-signed default, for demonstrations.")


class SigningCertificateImportSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="PKCS#12 (.p12/.pfx): the certificate, its private key and the CA chain.")
    password = serializers.CharField(required=False, allow_blank=True, trim_whitespace=False, default="")
