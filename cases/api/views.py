"""REST endpoints for organisations, cases and evidence under /api/v1/."""

from django.db.models import Prefetch, Q
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from custody.access import evidence_view_record

from .. import services
from ..exceptions import Refused
from ..models import ApiToken, Case, EvidenceDigest, EvidenceItem, Membership
from ..roles import Scope
from ..tenancy import membership_activate, membership_resolve
from ..upload import uploaded_files
from .authentication import api_token_activate
from .base import MemberAPIMixin, preferred_organisation_id
from .serializers import (
    AcquisitionSerializer,
    CaseSerializer,
    CaseStatusSerializer,
    EvidenceItemSerializer,
    EvidenceUploadResultSerializer,
    EvidenceUploadSerializer,
    LegalHoldSerializer,
    MediaDeleteSerializer,
    MemberSerializer,
    MembershipSerializer,
    OrganisationSwitchSerializer,
    RetentionSerializer,
)
from .throttles import UploadRateThrottle


def evidence_queryset(queryset):
    return queryset.select_related("case", "received_by", "duplicate_of").prefetch_related(
        Prefetch("digests", queryset=EvidenceDigest.objects.order_by("algorithm"))
    )


class OrganisationViewSet(viewsets.GenericViewSet):
    """The caller's organisations, and switching the one that requests act in."""

    serializer_class = MembershipSerializer

    def get_queryset(self):
        return Membership.objects.filter(user=self.request.user).select_related("organisation")

    def list(self, request):
        active = membership_resolve(request.user, preferred_organisation_id(request))
        data = self.get_serializer(self.get_queryset(), many=True, context={"active": active}).data
        return Response(data)

    @extend_schema(request=OrganisationSwitchSerializer, responses=MembershipSerializer)
    @action(detail=False, methods=["post"], serializer_class=OrganisationSwitchSerializer)
    def switch(self, request):
        serializer = OrganisationSwitchSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        membership = get_object_or_404(self.get_queryset(), organisation__slug=serializer.validated_data["slug"])
        if isinstance(request.auth, ApiToken):
            api_token_activate(token=request.auth, organisation=membership.organisation)
        else:
            membership_activate(request, membership)
        return Response(MembershipSerializer(membership, context={"active": membership}).data)


class CaseViewSet(
    MemberAPIMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet
):
    serializer_class = CaseSerializer
    lookup_field = "public_id"
    lookup_url_kwarg = "case_id"
    filterset_fields = ["status"]
    required_scopes = {"create": Scope.CASE_CREATE, "set_status": Scope.CASE_MANAGE, "legal_hold": Scope.CASE_MANAGE}

    def get_queryset(self):
        cases = Case.objects.for_member(self.membership).select_related("created_by").prefetch_related("assignees")
        if query := self.request.query_params.get("q", "").strip():
            cases = cases.filter(Q(reference__icontains=query) | Q(title__icontains=query))
        return cases

    def perform_create(self, serializer):
        serializer.instance = services.case_create(
            organisation=self.membership.organisation, actor=self.request.user, **serializer.validated_data
        )

    @extend_schema(request=CaseStatusSerializer, responses=CaseSerializer)
    @action(detail=True, methods=["post"], url_path="status", serializer_class=CaseStatusSerializer)
    def set_status(self, request, case_id=None):
        case = self.get_case(case_id)
        serializer = CaseStatusSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.case_status_change(case=case, status=serializer.validated_data["status"], actor=request.user)
        return Response(CaseSerializer(case).data)

    @extend_schema(request=LegalHoldSerializer, responses=CaseSerializer)
    @action(detail=True, methods=["post"], url_path="legal-hold", serializer_class=LegalHoldSerializer)
    def legal_hold(self, request, case_id=None):
        """Place or lift the case's legal hold, which suspends every deletion of its media."""
        case = self.get_case(case_id)
        serializer = LegalHoldSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        case = services.case_legal_hold_set(case=case, actor=request.user, **serializer.validated_data)
        return Response(CaseSerializer(case).data)


class CaseEvidenceView(MemberAPIMixin, APIView):
    """Evidence of one case: list it, or upload one or more files as multipart form data."""

    parser_classes = [MultiPartParser]
    throttle_classes = [UploadRateThrottle]
    required_scopes = {"GET": Scope.CASE_READ, "POST": Scope.EVIDENCE_UPLOAD}

    def scope_for_request(self) -> Scope:
        return self.required_scopes[self.request.method]

    @extend_schema(responses=EvidenceItemSerializer(many=True))
    def get(self, request, case_id):
        case = self.get_case(case_id)
        items = evidence_queryset(case.evidence.all())
        return Response(EvidenceItemSerializer(items, many=True).data)

    @extend_schema(
        request={"multipart/form-data": EvidenceUploadSerializer}, responses={201: EvidenceUploadResultSerializer}
    )
    def post(self, request, case_id):
        case = self.get_case(case_id)
        files = uploaded_files(request)
        details = AcquisitionSerializer(data=request.data)
        if not details.is_valid():
            for received in files:
                received.close()
            raise ValidationError(details.errors)
        acquisition = services.Acquisition(**details.validated_data)
        receipts, refused = [], []
        for received in files:
            try:
                receipts.append(
                    services.evidence_receive(case=case, received=received, actor=request.user, acquisition=acquisition)
                )
            except Refused as refusal:
                if len(files) == 1:
                    raise
                refused.append(
                    {"file": received.original_name, "detail": refusal.message, "code": type(refusal).__name__}
                )
        items = evidence_queryset(EvidenceItem.objects.filter(pk__in=[r.item.pk for r in receipts]))
        body = {"items": EvidenceItemSerializer(items, many=True).data, "refused": refused}
        return Response(body, status=status.HTTP_201_CREATED if receipts else status.HTTP_415_UNSUPPORTED_MEDIA_TYPE)


class EvidenceViewSet(MemberAPIMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = EvidenceItemSerializer
    lookup_field = "public_id"
    lookup_url_kwarg = "evidence_id"

    def get_queryset(self):
        return evidence_queryset(EvidenceItem.objects.for_member(self.membership))

    required_scopes = {"delete_media": Scope.MEDIA_DELETE}

    def retrieve(self, request, *args, **kwargs):
        item = self.get_object()
        evidence_view_record(item=item, actor=request.user, via="api")
        return Response(self.get_serializer(item).data)

    @extend_schema(request=MediaDeleteSerializer, responses=EvidenceItemSerializer)
    @action(detail=True, methods=["post"], url_path="delete-media", serializer_class=MediaDeleteSerializer)
    def delete_media(self, request, evidence_id=None):
        """Delete the item's stored media now (admin or supervisor); the item and all about it stay."""
        item = self.get_object()
        self.get_case(item.case.public_id)
        serializer = MediaDeleteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.evidence_media_delete(
            item=item, reason=f"deleted by hand: {serializer.validated_data['reason']}", actor=request.user
        )
        return Response(EvidenceItemSerializer(evidence_queryset(EvidenceItem.objects.filter(pk=item.pk)).get()).data)


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


class MemberViewSet(
    MemberAPIMixin, mixins.ListModelMixin, mixins.CreateModelMixin, mixins.DestroyModelMixin, viewsets.GenericViewSet
):
    """Members of the active organisation (administrators only). POST adds a member or changes a role."""

    serializer_class = MemberSerializer
    required_scope = Scope.ORG_MANAGE
    lookup_field = "public_id"
    lookup_url_kwarg = "membership_id"

    def get_queryset(self):
        return Membership.objects.filter(organisation_id=self.membership.organisation_id).select_related("user")

    def perform_create(self, serializer):
        serializer.instance = services.membership_set(
            organisation=self.membership.organisation,
            user=serializer.validated_data["user"],
            role=serializer.validated_data["role"],
            actor=self.request.user,
        )

    def perform_destroy(self, instance):
        services.membership_remove(membership=instance, actor=self.request.user)
