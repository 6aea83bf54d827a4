"""REST endpoints for organisations, cases and evidence under /api/v1/."""

from axes.handlers.proxy import AxesProxyHandler
from django.contrib.auth import authenticate
from django.db.models import Prefetch
from django.http import StreamingHttpResponse
from django.shortcuts import get_object_or_404
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import APIException, ValidationError
from rest_framework.generics import GenericAPIView
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from custody.access import IntegrityAlarm, evidence_view_record, media_download_record, verified_media_chunks

from .. import accounts, services
from ..auth_views import login_attempts_serialised
from ..client_address import client_address
from ..exceptions import MediaDeleted, Refused
from ..forms import AssignForm
from ..media_types import ACCEPTED
from ..models import ApiToken, Case, EvidenceDigest, EvidenceItem, Invitation, Membership
from ..roles import Scope
from ..tenancy import membership_activate
from ..two_factor import two_factor_state
from ..upload import uploaded_files
from .base import MemberAPIMixin
from .errors import ErrorSerializer
from .filters import CaseFilter
from .permissions import IsPublic, IsSignedIn, request_membership
from .serializers import (
    AccountCreateSerializer,
    AcquisitionSerializer,
    ApiTokenCreateSerializer,
    ApiTokenRenameSerializer,
    ApiTokenSerializer,
    CaseAssignSerializer,
    CaseNoteSerializer,
    CaseSerializer,
    CaseStatusSerializer,
    CaseUpdateSerializer,
    EvidenceItemSerializer,
    EvidenceUploadResultSerializer,
    EvidenceUploadSerializer,
    InvitationOfferSerializer,
    InvitationSendSerializer,
    InvitationSerializer,
    LegalHoldSerializer,
    MediaDeleteSerializer,
    MemberRoleSerializer,
    MemberSerializer,
    MembershipSerializer,
    OrganisationSwitchSerializer,
    RetentionSerializer,
    TokenObtainSerializer,
    TokenSerializer,
)
from .throttles import UploadRateThrottle

NOT_FOUND = OpenApiResponse(ErrorSerializer, description="No such object in the active organisation.")
CONFLICT = OpenApiResponse(ErrorSerializer, description="Refused in the object's present state; `detail` says why.")
# One answer for every username that is not a member here, so that it tells nothing about other organisations.
NOT_A_MEMBER = gettext_lazy(
    "Not a member of this organisation. Invite them (invitations/) or create their account (accounts/)."
)


def evidence_queryset(queryset):
    return queryset.select_related("case", "received_by", "duplicate_of__case").prefetch_related(
        Prefetch("digests", queryset=EvidenceDigest.objects.order_by("algorithm"))
    )


class OrganisationViewSet(viewsets.GenericViewSet):
    """The caller's organisations, and switching the one that requests act in."""

    permission_classes = [IsSignedIn]
    serializer_class = MembershipSerializer
    queryset = Membership.objects.none()  # names the model for the schema; get_queryset serves requests
    pagination_class = None  # a person belongs to a handful of organisations

    def get_queryset(self):
        return Membership.objects.filter(user=self.request.user).select_related("organisation")

    def list(self, request):
        active = request_membership(request)
        data = self.get_serializer(self.get_queryset(), many=True, context={"active": active}).data
        return Response(data)

    @extend_schema(request=OrganisationSwitchSerializer, responses={200: MembershipSerializer, 404: NOT_FOUND})
    @action(detail=False, methods=["post"], serializer_class=OrganisationSwitchSerializer)
    def switch(self, request):
        """Act in another of the caller's organisations: for a token, every later request with it (recorded in
        that organisation's ledger); for a session, the rest of the session."""
        serializer = OrganisationSwitchSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        membership = get_object_or_404(self.get_queryset(), organisation__slug=serializer.validated_data["slug"])
        if isinstance(request.auth, ApiToken):
            services.api_token_activate(token=request.auth, membership=membership)
        else:
            membership_activate(request, membership)
        return Response(MembershipSerializer(membership, context={"active": membership}).data)


class CaseViewSet(
    MemberAPIMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet
):
    """Cases the caller may see in the active organisation.

    Editing the title and description (PATCH) needs case:create on the case: whoever may open cases may word
    the ones they work on (an investigator only sees the cases they created or are assigned to), while auditors,
    who only read, may not.
    """

    serializer_class = CaseSerializer
    queryset = Case.objects.none()  # names the model for the schema; get_queryset serves requests
    lookup_field = "public_id"
    lookup_url_kwarg = "case_id"
    lookup_value_converter = "uuid"
    filterset_class = CaseFilter
    required_scopes = {
        "create": Scope.CASE_CREATE,
        "partial_update": Scope.CASE_CREATE,
        "set_status": Scope.CASE_MANAGE,
        "legal_hold": Scope.CASE_MANAGE,
        "assign": Scope.CASE_MANAGE,
        "note_add": Scope.NOTE_ADD,
    }

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation: no request, no membership
            return Case.objects.none()
        return (
            Case.objects.for_member(self.membership)
            .select_related("created_by")
            .prefetch_related("assignees")
            .order_by("-created_at", "-id")
        )

    def perform_create(self, serializer):
        serializer.instance = services.case_create(
            organisation=self.membership.organisation, actor=self.request.user, **serializer.validated_data
        )

    @extend_schema(request=CaseUpdateSerializer, responses=CaseSerializer)
    def partial_update(self, request, case_id=None):
        """Change the title and/or the description; recorded in the custody ledger."""
        case = self.case
        given = CaseUpdateSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        case = services.case_update(
            case=case,
            title=given.validated_data.get("title", case.title),
            description=given.validated_data.get("description", case.description),
            actor=request.user,
        )
        return Response(CaseSerializer(case).data)

    @extend_schema(request=CaseAssignSerializer, responses=CaseSerializer)
    @action(detail=True, methods=["post"], url_path="assignees", serializer_class=CaseAssignSerializer)
    def assign(self, request, case_id=None):
        """Replace the case's assignees with the given members (who must hold a role that works on cases)."""
        case = self.case
        given = CaseAssignSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        usernames = set(given.validated_data["usernames"])
        # The assignment form defines who may be assigned; the API applies the same rule.
        eligible = list(
            AssignForm(organisation=case.organisation).fields["investigators"].queryset.filter(username__in=usernames)
        )
        if unknown := usernames - {user.username for user in eligible}:
            raise ValidationError(
                {
                    "usernames": [
                        _("Not members of this organisation who work on cases: %(names)s.")
                        % {"names": ", ".join(sorted(unknown))}
                    ]
                }
            )
        services.case_assign(case=case, investigators=eligible, actor=request.user)
        return Response(CaseSerializer(self.get_queryset().get(pk=case.pk)).data)

    @extend_schema(responses=CaseNoteSerializer(many=True))
    @action(detail=True, methods=["get"], serializer_class=CaseNoteSerializer)
    def notes(self, request, case_id=None):
        """The case's notes, oldest first."""
        case = self.case
        page = self.paginate_queryset(case.notes.select_related("author").order_by("created_at", "id"))
        return self.get_paginated_response(CaseNoteSerializer(page, many=True).data)

    @extend_schema(request=CaseNoteSerializer, responses={201: CaseNoteSerializer, 409: CONFLICT})
    @notes.mapping.post
    def note_add(self, request, case_id=None):
        """Add a note (refused with 409 while the case is closed); the ledger records its SHA-256."""
        case = self.case
        given = CaseNoteSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        note = services.case_note_add(case=case, text=given.validated_data["text"], actor=request.user)
        return Response(CaseNoteSerializer(note).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=CaseStatusSerializer, responses=CaseSerializer)
    @action(detail=True, methods=["post"], url_path="status", serializer_class=CaseStatusSerializer)
    def set_status(self, request, case_id=None):
        case = self.case
        serializer = CaseStatusSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.case_status_change(case=case, status=serializer.validated_data["status"], actor=request.user)
        return Response(CaseSerializer(case).data)

    @extend_schema(request=LegalHoldSerializer, responses=CaseSerializer)
    @action(detail=True, methods=["post"], url_path="legal-hold", serializer_class=LegalHoldSerializer)
    def legal_hold(self, request, case_id=None):
        """Place or lift the case's legal hold, which suspends every deletion of its media."""
        case = self.case
        serializer = LegalHoldSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        case = services.case_legal_hold_set(case=case, actor=request.user, **serializer.validated_data)
        return Response(CaseSerializer(case).data)


class CaseEvidenceView(MemberAPIMixin, GenericAPIView):
    """Evidence of one case: list it, or upload one or more files as multipart form data."""

    parser_classes = [MultiPartParser]
    throttle_classes = [UploadRateThrottle]
    serializer_class = EvidenceItemSerializer
    queryset = EvidenceItem.objects.none()  # names the model for the schema; handlers go through the case
    required_scopes = {"GET": Scope.CASE_READ, "POST": Scope.EVIDENCE_UPLOAD}

    @extend_schema(responses=EvidenceItemSerializer(many=True))
    def get(self, request, case_id):
        """The case's items in the order they were received."""
        case = self.case
        page = self.paginate_queryset(evidence_queryset(case.evidence.order_by("received_at", "id")))
        return self.get_paginated_response(EvidenceItemSerializer(page, many=True, context={"view": self}).data)

    @extend_schema(
        request={"multipart/form-data": EvidenceUploadSerializer},
        responses={
            201: EvidenceUploadResultSerializer,
            409: OpenApiResponse(ErrorSerializer, description="The case is closed; reopen it first."),
            413: OpenApiResponse(ErrorSerializer, description="A file is over the size limit; nothing was kept."),
            415: OpenApiResponse(
                ErrorSerializer,
                description="No file was an accepted image or video; with several files, `errors` says why for each.",
            ),
        },
    )
    def post(self, request, case_id):
        case = self.case
        files = uploaded_files(request)
        details = AcquisitionSerializer(data=request.data)
        if not details.is_valid():
            for received in files:
                received.close()
            raise ValidationError(details.errors)
        acquisition = services.Acquisition(**details.validated_data)
        receipts, refusals, refused = [], [], []
        for received in files:
            try:
                receipts.append(
                    services.evidence_receive(case=case, received=received, actor=request.user, acquisition=acquisition)
                )
            except Refused as refusal:
                if len(files) == 1:
                    raise
                refusals.append(refusal)
                refused.append(
                    {"file": received.original_name, "detail": refusal.message, "code": type(refusal).__name__}
                )
        if not receipts:
            return _nothing_accepted(refusals, refused)
        items = evidence_queryset(EvidenceItem.objects.filter(pk__in=[r.item.pk for r in receipts]))
        body = {"items": EvidenceItemSerializer(items, many=True, context={"view": self}).data, "refused": refused}
        return Response(body, status=status.HTTP_201_CREATED)


def _nothing_accepted(refusals: list[Refused], refused: list[dict]) -> Response:
    """Every file of an upload was refused: the one error body, each file's refusal under `errors`. The status
    and code are the refusals' own when they agree (a closed case refuses every file alike), else 400."""
    kinds = {type(refusal) for refusal in refusals}
    status_code, code = (refusals[0].status_code, kinds.pop().__name__) if len(kinds) == 1 else (400, "Refused")
    detail = _("None of the %(count)d files was accepted; `errors` says why for each.") % {"count": len(refused)}
    return Response({"detail": detail, "code": code, "errors": refused}, status=status_code)


class EvidenceViewSet(MemberAPIMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = EvidenceItemSerializer
    queryset = EvidenceItem.objects.none()  # names the model for the schema; get_queryset serves requests
    lookup_field = "public_id"
    lookup_url_kwarg = "evidence_id"
    lookup_value_converter = "uuid"
    required_scopes = {"delete_media": Scope.MEDIA_DELETE, "download": Scope.MEDIA_DOWNLOAD}

    def retrieve(self, request, *args, **kwargs):
        item = self.evidence
        evidence_view_record(item=item, actor=request.user, via="api")
        return Response(self.get_serializer(item).data)

    @extend_schema(request=MediaDeleteSerializer, responses={200: EvidenceItemSerializer, 409: CONFLICT})
    @action(detail=True, methods=["post"], url_path="delete-media", serializer_class=MediaDeleteSerializer)
    def delete_media(self, request, evidence_id=None):
        """Delete the item's stored media now (admin or supervisor); the item and all about it stay."""
        item = self.evidence
        serializer = MediaDeleteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.evidence_media_delete(
            item=item, reason=f"deleted by hand: {serializer.validated_data['reason']}", actor=request.user
        )
        item = evidence_queryset(EvidenceItem.objects.filter(pk=item.pk)).get()
        return Response(EvidenceItemSerializer(item, context={"view": self}).data)

    @extend_schema(
        responses={
            (200, "application/octet-stream"): OpenApiResponse(
                bytes, description="The original bytes, re-hashed as they stream; recorded in the custody ledger."
            ),
            409: OpenApiResponse(
                ErrorSerializer, description="The stored copy does not match what was received: an integrity alarm."
            ),
            410: OpenApiResponse(ErrorSerializer, description="The media was deleted (retention or by hand)."),
        }
    )
    @action(detail=True, methods=["get"])
    def download(self, request, evidence_id=None):
        """The original media exactly as received (media:download on the case)."""
        item = self.evidence
        if not item.media_held:
            raise MediaDeleted(item.media_deleted_message)
        media_download_record(item=item, actor=request.user, via="api")
        try:
            chunks = verified_media_chunks(item=item, actor=request.user)
        except IntegrityAlarm as alarm:
            raise IntegrityAlarmRefused(str(alarm)) from alarm
        response = StreamingHttpResponse(chunks, content_type="application/octet-stream")
        response["Content-Length"] = str(item.size)
        filename = f"{item.public_id}{ACCEPTED[item.detected_mime_type].extensions[0]}"
        response["Content-Disposition"] = content_disposition_header(True, filename)
        return response


class IntegrityAlarmRefused(Refused):
    """The stored copy no longer matches what was received; the alarm is already in the ledger."""

    status_code = 409


class OrganisationRetentionView(MemberAPIMixin, APIView):
    """The active organisation's retention policy for media (administrators only)."""

    required_scope = Scope.ORG_MANAGE

    @extend_schema(responses=RetentionSerializer)
    def get(self, request):
        return Response(RetentionSerializer(self.membership.organisation).data)

    @extend_schema(request=RetentionSerializer, responses=RetentionSerializer)
    def put(self, request):
        serializer = RetentionSerializer(self.membership.organisation, data=request.data)
        serializer.is_valid(raise_exception=True)
        organisation = services.organisation_retention_set(
            organisation=self.membership.organisation,
            policy=serializer.validated_data["retention_policy"],
            days=serializer.validated_data.get("retention_days"),
            actor=request.user,
        )
        return Response(RetentionSerializer(organisation).data)


class MemberViewSet(MemberAPIMixin, mixins.ListModelMixin, mixins.DestroyModelMixin, viewsets.GenericViewSet):
    """Members of the active organisation (administrators only). POST changes a member's role; people join by
    accepting an invitation (`invitations/`) or in an account made here (`accounts/`)."""

    serializer_class = MemberSerializer
    queryset = Membership.objects.none()  # names the model for the schema; get_queryset serves requests
    required_scope = Scope.ORG_MANAGE
    lookup_field = "public_id"
    lookup_url_kwarg = "membership_id"
    lookup_value_converter = "uuid"

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Membership.objects.none()
        return (
            Membership.objects.filter(organisation_id=self.membership.organisation_id)
            .select_related("user")
            .order_by("user__username")
        )

    @extend_schema(request=MemberRoleSerializer, responses={201: MemberSerializer, 409: CONFLICT})
    def create(self, request):
        given = MemberRoleSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        # Only this organisation's members are looked up, so the answer says nothing about anyone else's account.
        member = self.get_queryset().filter(user__username=given.validated_data["username"]).first()
        if member is None:
            raise ValidationError({"username": [NOT_A_MEMBER]})
        membership = services.membership_set(
            organisation=self.membership.organisation,
            user=member.user,
            role=given.validated_data["role"],
            actor=request.user,
        )
        return Response(MemberSerializer(membership).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses={204: None, 409: CONFLICT})
    def destroy(self, request, *args, **kwargs):
        return super().destroy(request, *args, **kwargs)

    def perform_destroy(self, instance):
        services.membership_remove(membership=instance, actor=self.request.user)

    @extend_schema(request=None, responses={200: MemberSerializer, 404: NOT_FOUND, 409: CONFLICT})
    @action(detail=True, methods=["post"])
    def deactivate(self, request, membership_id=None):
        """The member can no longer sign in and their tokens stop working; only for an account that belongs to
        this organisation alone, not one's own nor an administrator's. Recorded in the ledger."""
        member = self.get_object()
        accounts.account_deactivate(membership=member, actor=request.user)
        member.user.refresh_from_db()
        return Response(MemberSerializer(member).data)

    @extend_schema(request=None, responses={200: MemberSerializer, 404: NOT_FOUND, 409: CONFLICT})
    @action(detail=True, methods=["post"])
    def reactivate(self, request, membership_id=None):
        member = self.get_object()
        accounts.account_reactivate(membership=member, actor=request.user)
        member.user.refresh_from_db()
        return Response(MemberSerializer(member).data)

    @extend_schema(request=None, responses={204: None, 404: NOT_FOUND, 409: CONFLICT})
    @action(detail=True, methods=["post"], url_path="password-reset")
    def password_reset(self, request, membership_id=None):
        """E-mail the member a one-time link to choose a new password (409 when no address is on record)."""
        accounts.account_password_reset_send(
            membership=self.get_object(),
            actor=request.user,
            domain=request.get_host(),
            use_https=request.is_secure(),
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


class InvitationViewSet(MemberAPIMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    """The active organisation's pending invitations (administrators only): send one, list them, revoke one.

    Inviting answers the same whether the username exists or not, and wherever its holder belongs."""

    serializer_class = InvitationSerializer
    queryset = Invitation.objects.none()  # names the model for the schema; get_queryset serves requests
    required_scope = Scope.ORG_MANAGE
    lookup_field = "public_id"
    lookup_url_kwarg = "invitation_id"
    lookup_value_converter = "uuid"

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Invitation.objects.none()
        return Invitation.objects.pending().filter(organisation_id=self.membership.organisation_id)

    @extend_schema(request=InvitationSendSerializer, responses={201: InvitationSerializer, 409: CONFLICT})
    def create(self, request):
        given = InvitationSendSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        invitation = services.invitation_send(
            organisation=self.membership.organisation, actor=request.user, **given.validated_data
        )
        return Response(InvitationSerializer(invitation).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={200: InvitationSerializer, 409: CONFLICT})
    @action(detail=True, methods=["post"])
    def revoke(self, request, invitation_id=None):
        """Withdraw a pending invitation; recorded in the ledger."""
        invitation = services.invitation_revoke(invitation=self.get_object(), actor=request.user)
        return Response(InvitationSerializer(invitation).data)


class ApiTokenViewSet(MemberAPIMixin, mixins.ListModelMixin, mixins.DestroyModelMixin, viewsets.GenericViewSet):
    """API tokens acting in the active organisation: a member's own, or every member's for its administrators.
    POST makes a new named token of the caller's, acting here; PATCH renames one of the caller's own; DELETE
    revokes one (each recorded in the ledger); a revoked token authenticates nowhere afterwards."""

    serializer_class = ApiTokenSerializer
    queryset = ApiToken.objects.none()  # names the model for the schema; get_queryset serves requests
    required_scope = Scope.TOKEN_REVOKE
    lookup_url_kwarg = "token_id"
    lookup_value_converter = "int"

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return ApiToken.objects.none()
        return ApiToken.objects.for_member(self.membership).select_related("user").order_by("-created_at", "-id")

    @extend_schema(request=ApiTokenCreateSerializer, responses={201: TokenSerializer})
    def create(self, request):
        """Make a token for the caller, named, acting in the organisation this request acts in. Its secret is in
        this answer only."""
        given = ApiTokenCreateSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        token, secret = services.api_token_create(
            user=request.user, name=given.validated_data["name"], organisation=self.membership.organisation
        )
        body = {"token": secret, "name": token.name, "prefix": token.prefix, "created_at": token.created_at}
        return Response(TokenSerializer(body).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=ApiTokenRenameSerializer,
        responses={
            200: ApiTokenSerializer,
            400: OpenApiResponse(ErrorSerializer, description="An empty or over-long name; nothing was changed."),
            404: NOT_FOUND,
        },
    )
    def partial_update(self, request, *args, **kwargs):
        """Rename one of the caller's own tokens; another person's, an administrator's colleagues' included, is a
        404 like a missing one."""
        token = get_object_or_404(self.get_queryset().filter(user=request.user), pk=kwargs[self.lookup_url_kwarg])
        given = ApiTokenRenameSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        renamed = services.api_token_rename(token=token, name=given.validated_data["name"], actor=request.user)
        return Response(ApiTokenSerializer(renamed).data)

    @extend_schema(responses={204: None, 404: NOT_FOUND})
    def destroy(self, request, *args, **kwargs):
        return super().destroy(request, *args, **kwargs)

    def perform_destroy(self, instance):
        services.api_token_revoke(token=instance, actor=self.request.user)


class AccountInvitationViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """Invitations offered to the caller, whatever organisation they act in or whether they belong to any."""

    permission_classes = [IsSignedIn]
    serializer_class = InvitationOfferSerializer
    queryset = Invitation.objects.none()  # names the model for the schema; get_queryset serves requests
    pagination_class = None  # a handful at most
    lookup_field = "public_id"
    lookup_url_kwarg = "invitation_id"
    lookup_value_converter = "uuid"

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Invitation.objects.none()
        return Invitation.objects.for_invitee(self.request.user).select_related("organisation", "invited_by")

    @extend_schema(request=None, responses={200: MembershipSerializer, 404: NOT_FOUND, 409: CONFLICT})
    @action(detail=True, methods=["post"])
    def accept(self, request, invitation_id=None):
        """Join the organisation with the offered role. Where this session or token acts does not change: switch
        to the organisation (organisations/switch/) to work there."""
        membership = services.invitation_accept(invitation=self.get_object(), actor=request.user)
        return Response(MembershipSerializer(membership, context={"active": request_membership(request)}).data)

    @extend_schema(request=None, responses={200: InvitationOfferSerializer, 404: NOT_FOUND, 409: CONFLICT})
    @action(detail=True, methods=["post"])
    def decline(self, request, invitation_id=None):
        invitation = services.invitation_decline(invitation=self.get_object(), actor=request.user)
        return Response(InvitationOfferSerializer(invitation).data)


class AccountCreateView(MemberAPIMixin, GenericAPIView):
    """Create a new account whose only membership is the active organisation (administrators only)."""

    serializer_class = AccountCreateSerializer
    required_scope = Scope.ORG_MANAGE

    @extend_schema(request=AccountCreateSerializer, responses={201: MemberSerializer})
    def post(self, request):
        given = AccountCreateSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        membership = services.account_create(
            organisation=self.membership.organisation, actor=request.user, **given.validated_data
        )
        return Response(MemberSerializer(membership).data, status=status.HTTP_201_CREATED)


class InvalidCredentials(APIException):
    status_code = status.HTTP_400_BAD_REQUEST
    default_detail = gettext_lazy("The username or password is wrong.")
    default_code = "invalid_credentials"


class SecondFactorCodeNeeded(APIException):
    status_code = status.HTTP_400_BAD_REQUEST
    default_detail = gettext_lazy(
        "This account uses two-factor authentication: send `code`, the code its authenticator app shows now (or "
        "an unused recovery code)."
    )
    default_code = "two_factor_code_required"


class SecondFactorCodeWrong(APIException):
    status_code = status.HTTP_400_BAD_REQUEST
    default_detail = gettext_lazy("The two-factor code is not right (or too many were wrong: wait a few seconds).")
    default_code = "two_factor_code_invalid"


class SecondFactorMissing(APIException):
    status_code = status.HTTP_403_FORBIDDEN
    default_detail = gettext_lazy(
        "Your organisation requires two-factor authentication: set it up in the web interface (your account "
        "page) before getting a token."
    )
    default_code = "two_factor_required"


class TokenObtainView(GenericAPIView):
    """Exchange a username and password for a new API token.

    The password is taken under the same lock-out as the log-in page and the admin (django-axes, per username), so
    none is a way around the others; a locked-out attempt is answered 429 by the lock-out's middleware.
    """

    authentication_classes = []
    permission_classes = [IsPublic]
    serializer_class = TokenObtainSerializer

    @extend_schema(
        request=TokenObtainSerializer,
        responses={
            201: TokenSerializer,
            400: OpenApiResponse(ErrorSerializer, description="Wrong username or password, or a missing field."),
            429: OpenApiResponse(ErrorSerializer, description="Too many failed log-ins; wait and try again."),
        },
        auth=[],
    )
    def post(self, request):
        given = TokenObtainSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        username = given.validated_data["username"]
        address = client_address(request._request)
        locked_before = AxesProxyHandler.is_locked(request._request, {"username": username})
        with login_attempts_serialised(username):
            user = authenticate(request._request, username=username, password=given.validated_data["password"])
        if user is None:
            if not locked_before:
                accounts.account_sign_in_failure_record(username=username, address=address)
            raise InvalidCredentials()
        method = _second_factor_check(user, given.validated_data.get("code"), address)
        accounts.account_sign_in_record(user=user, address=address, method=f"{method}, for an API token")
        token, secret = services.api_token_create(user=user, name=given.validated_data["name"])
        body = {"token": secret, "name": token.name, "prefix": token.prefix, "created_at": token.created_at}
        return Response(TokenSerializer(body).data, status=status.HTTP_201_CREATED)


def _second_factor_check(user, code: str | None, address: str) -> str:
    """The second factor the token endpoint asks of an account that has one or must have one; returns how the
    person proved who they are."""
    enrolled, required = two_factor_state(user)
    if not enrolled:
        if required:
            raise SecondFactorMissing()
        return "password"
    if not code:
        raise SecondFactorCodeNeeded()
    verification = accounts.two_factor_verify(user=user, code=code, address=address)
    if verification.device is None:
        raise SecondFactorCodeWrong()
    return "password and recovery code" if verification.recovery_codes_left is not None else "password and code"
