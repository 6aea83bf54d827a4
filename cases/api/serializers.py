"""API representations of cases and evidence; public UUIDs are the ids, database keys never leave the server."""

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from forensics.assessment import EDITING_KINDS
from forensics.presentation import assessment_lines

from ..models import (
    ApiToken,
    Case,
    CaseNote,
    CaseStatus,
    EvidenceItem,
    Invitation,
    Membership,
    Organisation,
    RetentionPolicy,
)
from ..roles import Role


class CaseSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    created_by = serializers.CharField(source="created_by.username", read_only=True)
    assignees = serializers.SlugRelatedField(slug_field="username", many=True, read_only=True)

    class Meta:
        model = Case
        fields = [
            "id",
            "reference",
            "title",
            "description",
            "status",
            "created_by",
            "assignees",
            "legal_hold",
            "legal_hold_reason",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["reference", "status", "legal_hold", "legal_hold_reason", "created_at", "updated_at"]


class CaseUpdateSerializer(serializers.Serializer):
    """PATCH of a case: either field may be left out to keep it."""

    title = serializers.CharField(max_length=200, required=False)
    description = serializers.CharField(allow_blank=True, required=False)


class CaseStatusSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=CaseStatus.choices)


class CaseAssignSerializer(serializers.Serializer):
    usernames = serializers.ListField(
        child=serializers.CharField(max_length=150),
        allow_empty=True,
        max_length=200,
        help_text="Every assignee of the case afterwards (replaces the list); members who may work on cases.",
    )


class CaseNoteSerializer(serializers.ModelSerializer):
    author = serializers.CharField(source="author.username", read_only=True)
    text = serializers.CharField(max_length=20000)

    class Meta:
        model = CaseNote
        fields = ["text", "author", "created_at"]
        read_only_fields = ["created_at"]


class LegalHoldSerializer(serializers.Serializer):
    hold = serializers.BooleanField(help_text="true places a legal hold, false lifts it.")
    reason = serializers.CharField(max_length=2000, help_text="Recorded in the custody ledger.")


class MediaDeleteSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=400, help_text="Recorded in the custody ledger.")


class RetentionSerializer(serializers.ModelSerializer):
    policy = serializers.ChoiceField(source="retention_policy", choices=RetentionPolicy.choices)
    days = serializers.IntegerField(source="retention_days", min_value=1, max_value=36500, required=False)
    summary = serializers.CharField(source="retention_summary", read_only=True)

    class Meta:
        model = Organisation
        fields = ["kind", "policy", "days", "summary"]
        read_only_fields = ["kind"]


class DigestSerializer(serializers.Serializer):
    algorithm = serializers.CharField(help_text="sha256, sha1 or md5.")
    value = serializers.CharField(help_text="The digest of the bytes as received, in lower-case hex.")


FOUND_AT_HELP = "Where the material was found: a URL or a platform and account."


class AcquisitionSerializer(serializers.Serializer):
    """Where the material was found, by whom and when: the same three names in an upload and in every item."""

    found_at = serializers.CharField(
        max_length=2000,
        required=False,
        allow_blank=True,
        default="",
        help_text="Where the material was found: a URL or a platform and account (up to 2,000 characters).",
    )
    collected_by = serializers.CharField(
        max_length=200,
        required=False,
        allow_blank=True,
        default="",
        help_text="Who collected it (up to 200 characters).",
    )
    collected_at = serializers.DateTimeField(
        required=False, allow_null=True, default=None, help_text="When it was collected (ISO 8601, with offset)."
    )


class SyntheticMediaAnswerSerializer(serializers.Serializer):
    state = serializers.ChoiceField(choices=["declared", "none"], help_text="Declared as AI-generated, or not.")
    by = serializers.ListField(child=serializers.CharField(), help_text="Generators the declarations name.")
    rules = serializers.ListField(
        child=serializers.CharField(), required=False, help_text="The rules whose findings declare it."
    )
    text = serializers.CharField(help_text='The answer in words ("declared by Adobe Firefly").')


class EditingAnswerSerializer(serializers.Serializer):
    state = serializers.ChoiceField(choices=["found", "none"], help_text="Evidence of editing or re-encoding found.")
    kinds = serializers.ListField(
        child=serializers.ChoiceField(choices=list(EDITING_KINDS)), help_text="The kinds of change, most telling first."
    )
    software = serializers.ListField(child=serializers.CharField(), help_text="Editing software the metadata names.")
    rules = serializers.ListField(
        child=serializers.CharField(), required=False, help_text="The rules whose findings are the evidence."
    )
    text = serializers.CharField(help_text="The answer in words.")


class ProvenanceAnswerSerializer(serializers.Serializer):
    state = serializers.ChoiceField(
        choices=["intact", "broken", "unreadable", "none"],
        help_text="C2PA provenance: signed and unchanged, changed after signing, present but unreadable, or none.",
    )
    signer = serializers.CharField(allow_null=True, help_text="The certificate issuer of the active manifest.")
    trusted = serializers.BooleanField(help_text="The signer is on a trust list configured on this server.")
    text = serializers.CharField(help_text="The answer in words.")


class MetadataAnswerSerializer(serializers.Serializer):
    state = serializers.ChoiceField(
        choices=["present", "removed", "none"],
        help_text="Capture metadata present, removed from a format that carries it (EM-STRIP-001), or none at all.",
    )
    text = serializers.CharField(help_text="The answer in words.")


class AssessmentSerializer(serializers.Serializer):
    """The four questions answered from the latest finished analysis's findings (see docs/api.md)."""

    synthetic_media = SyntheticMediaAnswerSerializer()
    editing = EditingAnswerSerializer()
    provenance = ProvenanceAnswerSerializer()
    metadata = MetadataAnswerSerializer()


def assessment_with_words(assessment: dict) -> dict | None:
    """The stored assessment of an item with each answer's words added; None before its first analysis ends."""
    if not assessment:
        return None
    words = {line.aspect: line.text for line in assessment_lines(assessment)}
    return {aspect: {**assessment.get(aspect, {}), "text": words[aspect]} for aspect in words}


class DuplicateOfSerializer(serializers.Serializer):
    """The earlier item an upload duplicates, given only to a member who may open its case (else null)."""

    id = serializers.UUIDField(source="public_id")
    original_filename = serializers.CharField()
    case = serializers.UUIDField(source="case.public_id")
    case_reference = serializers.CharField(source="case.reference")
    case_title = serializers.CharField(source="case.title")
    received_at = serializers.DateTimeField()

    def get_attribute(self, item):
        membership = getattr(self.context.get("view"), "membership", None)
        return item.duplicate_shown_to(membership) if membership is not None else None


class EvidenceItemSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True, help_text="The item's id, for evidence/{id}/.")
    case = serializers.UUIDField(source="case.public_id", read_only=True, help_text="The id of its case.")
    case_reference = serializers.CharField(source="case.reference", read_only=True, help_text="E.g. EM-2026-00012.")
    digests = DigestSerializer(many=True, read_only=True, help_text="SHA-256, SHA-1 and MD5 of the bytes received.")
    received_by = serializers.CharField(
        source="received_by.username", read_only=True, help_text="Who uploaded or imported it."
    )
    duplicate_of = serializers.UUIDField(
        source="duplicate_of.public_id",
        read_only=True,
        allow_null=True,
        help_text="The earlier item of this organisation with the same SHA-256, if any.",
    )
    duplicate_of_item = DuplicateOfSerializer(
        source="*",
        read_only=True,
        allow_null=True,
        help_text="The earlier item with identical bytes: its file name and case when the caller may open that "
        "case, else null (`duplicate_of` still gives its id).",
    )
    type_mismatches = serializers.ListField(
        child=serializers.CharField(),
        read_only=True,
        help_text="Where the declared type or the name's extension disagrees with the bytes, in words.",
    )
    found_at = serializers.CharField(source="acquired_from", read_only=True, help_text=FOUND_AT_HELP)
    collected_by = serializers.CharField(source="acquired_by", read_only=True, help_text="Who collected it.")
    collected_at = serializers.DateTimeField(
        source="acquired_at", read_only=True, allow_null=True, help_text="When it was collected."
    )
    media_held = serializers.BooleanField(
        read_only=True, help_text="False once the stored bytes were deleted (retention or by hand)."
    )
    assessment = serializers.SerializerMethodField(
        help_text="Synthetic media, editing or re-encoding, provenance and metadata, answered from the latest "
        "finished analysis; null until one has finished."
    )

    class Meta:
        model = EvidenceItem
        fields = [
            "id",
            "case",
            "case_reference",
            "original_filename",
            "declared_mime_type",
            "detected_mime_type",
            "size",
            "digests",
            "type_mismatches",
            "duplicate_of",
            "duplicate_of_item",
            "received_at",
            "received_by",
            "found_at",
            "collected_by",
            "collected_at",
            "analysis_status",
            "verdict",
            "assessment",
            "media_held",
            "media_deleted_at",
            "media_deleted_reason",
        ]

        extra_kwargs = {
            "original_filename": {
                "help_text": "The file name exactly as the client sent it (control characters written as \\uXXXX); "
                "data only, never a path."
            },
            "declared_mime_type": {"help_text": "The type the client declared for the file part."},
            "detected_mime_type": {"help_text": "The type libmagic reads from the bytes."},
            "size": {"help_text": "Bytes received."},
            "received_at": {"help_text": "When the bytes were received."},
            "analysis_status": {"help_text": "queued, running, done or failed."},
            "verdict": {"help_text": "ok, attention or compromised; empty until an analysis is done."},
            "media_deleted_at": {"help_text": "When the stored bytes were deleted (null while held)."},
            "media_deleted_reason": {"help_text": "Why they were deleted."},
        }

    @extend_schema_field(AssessmentSerializer(allow_null=True))
    def get_assessment(self, item: EvidenceItem) -> dict | None:
        return assessment_with_words(item.assessment)


class EvidenceUploadSerializer(AcquisitionSerializer):
    files = serializers.ListField(
        child=serializers.FileField(),
        allow_empty=False,
        help_text="One or more image or video files, each a part named `files` (repeat the part for each file). "
        "Its file name is kept exactly as sent.",
    )


class EvidenceRefusalSerializer(serializers.Serializer):
    file = serializers.CharField(help_text="The refused file's name, as sent.")
    detail = serializers.CharField(help_text="Why it was refused, for a person to read.")
    code = serializers.CharField(help_text="UnsupportedEvidenceType, UploadTooLarge, CaseClosed…")


class EvidenceUploadResultSerializer(serializers.Serializer):
    items = EvidenceItemSerializer(many=True, help_text="The items received, in the order of the parts.")
    refused = EvidenceRefusalSerializer(many=True, help_text="Files refused while others were received.")


class MembershipSerializer(serializers.ModelSerializer):
    organisation = serializers.CharField(source="organisation.name")
    slug = serializers.CharField(source="organisation.slug")
    active = serializers.SerializerMethodField()

    class Meta:
        model = Membership
        fields = ["organisation", "slug", "role", "active"]

    def get_active(self, membership: Membership) -> bool:
        active = self.context.get("active")
        return active is not None and active.pk == membership.pk


class OrganisationSwitchSerializer(serializers.Serializer):
    slug = serializers.SlugField()


class MemberSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True, help_text="The membership's id, for members/{id}/.")
    username = serializers.CharField(source="user.username", read_only=True)
    role = serializers.ChoiceField(choices=Role.choices, read_only=True)
    active = serializers.BooleanField(
        source="user.is_active", read_only=True, help_text="False once deactivated: the account cannot sign in."
    )

    class Meta:
        model = Membership
        fields = ["id", "username", "role", "active", "created_at"]
        read_only_fields = ["created_at"]
        extra_kwargs = {"created_at": {"help_text": "When they joined this organisation."}}


class MemberRoleSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150, help_text="A member of the active organisation.")
    role = serializers.ChoiceField(choices=Role.choices)


class InvitationSendSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150, help_text="The account to invite; it joins only if it accepts.")
    role = serializers.ChoiceField(choices=Role.choices)


class InvitationSerializer(serializers.ModelSerializer):
    """An invitation as its organisation's administrators see it; the same whether the username exists or not."""

    id = serializers.UUIDField(source="public_id", read_only=True)
    invited_by = serializers.CharField(source="invited_by.username", read_only=True)

    class Meta:
        model = Invitation
        fields = ["id", "username", "role", "status", "invited_by", "created_at"]
        read_only_fields = fields


class InvitationOfferSerializer(serializers.ModelSerializer):
    """An invitation as the invited person sees it: who offers which role."""

    id = serializers.UUIDField(source="public_id", read_only=True)
    organisation = serializers.CharField(source="organisation.name", read_only=True)
    invited_by = serializers.CharField(source="invited_by.username", read_only=True)

    class Meta:
        model = Invitation
        fields = ["id", "organisation", "role", "status", "invited_by", "created_at"]
        read_only_fields = fields


class AccountCreateSerializer(serializers.Serializer):
    username = serializers.CharField(
        max_length=150, validators=[UnicodeUsernameValidator()], help_text="Letters, digits and @/./+/-/_ only."
    )
    password = serializers.CharField(
        max_length=4096, write_only=True, trim_whitespace=False, help_text="The first password; they can change it."
    )
    role = serializers.ChoiceField(choices=Role.choices)
    email = serializers.EmailField(
        required=False, allow_blank=True, default="", help_text="Where password reset links go (optional)."
    )

    def validate(self, attrs):
        try:
            validate_password(attrs["password"], user=get_user_model()(username=attrs["username"]))
        except DjangoValidationError as invalid:
            raise serializers.ValidationError({"password": list(invalid.messages)}) from invalid
        return attrs


class TokenObtainSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150, write_only=True)
    password = serializers.CharField(max_length=4096, write_only=True, trim_whitespace=False)
    name = serializers.CharField(
        max_length=100, required=False, default="API", help_text="A label to recognise the token by later."
    )
    code = serializers.CharField(
        max_length=40,
        required=False,
        write_only=True,
        help_text="For an account with two-factor authentication: the code its authenticator app shows now, or "
        "one of its unused recovery codes (used up by this). Without it such an account gets 400 "
        "`two_factor_code_required`.",
    )


class ApiTokenCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100, help_text="What the token is for, to recognise it by later.")


class ApiTokenRenameSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100, help_text="The token's new name (at most 100 characters).")


class TokenSerializer(serializers.Serializer):
    token = serializers.CharField(help_text="Send as `Authorization: Token <token>`; shown only this once.")
    name = serializers.CharField()
    prefix = serializers.CharField(help_text="The token's first characters, as listed in tokens/.")
    created_at = serializers.DateTimeField()


class ApiTokenSerializer(serializers.ModelSerializer):
    """A token as listed for revoking: never its secret, which is not stored, nor its hash."""

    user = serializers.CharField(source="user.username", read_only=True, help_text="Whose token it is.")
    prefix = serializers.CharField(read_only=True, help_text="The token's first characters.")

    organisation = serializers.SlugRelatedField(
        slug_field="slug", read_only=True, help_text="Slug of the organisation the token acts in (null: nowhere)."
    )

    class Meta:
        model = ApiToken
        fields = ["id", "name", "prefix", "user", "organisation", "created_at", "last_used_at"]
        read_only_fields = fields
        extra_kwargs = {
            "id": {"help_text": "The token's number, for tokens/{id}/."},
            "name": {"help_text": "The name given when the token was made."},
            "created_at": {"help_text": "When the token was made."},
            "last_used_at": {"help_text": "When a request last authenticated with it (null: never)."},
        }
