"""REST endpoints of the custody ledger under /api/v1/custody/. The public keys are public; everything else
needs custody:read, on the case concerned or, for the organisation-wide verification, on every case."""

from django.http import HttpResponse
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.exceptions import NotFound, PermissionDenied, ValidationError
from rest_framework.generics import ListAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from cases.api.base import MemberAPIMixin
from cases.api.permissions import IsPublic
from cases.roles import Reach, Scope

from ..bundles import custody_bundle_build, entry_as_json, public_keys_document
from ..checkpoints import checkpoint_fields, checkpoint_origin
from ..ledger import ledger_entries
from ..merkle_store import stored_consistency_proof, tree_size
from ..models import Checkpoint, CustodyEvent, Witness
from ..verification import custody_verification_run
from ..views import sealed_export_response
from ..witnesses import (
    checkpoint_cosignatures_add,
    checkpoint_note_published,
    latest_noted_checkpoint,
    log_verifier_keys,
    witness_add,
)
from .serializers import (
    ConsistencyProofSerializer,
    ConsistencyQuerySerializer,
    CosignatureSerializer,
    CosignedNoteSerializer,
    CustodyBundleSerializer,
    CustodyEntrySerializer,
    ListedCheckpointSerializer,
    LogSerializer,
    PublicKeySerializer,
    VerificationSerializer,
    WitnessAddSerializer,
    WitnessSerializer,
)


class CustodyKeysView(APIView):
    """Every public key the ledger was ever signed with, for anyone verifying entries, checkpoints or bundles."""

    authentication_classes = []
    permission_classes = [IsPublic]

    @extend_schema(responses=PublicKeySerializer(many=True), auth=[])
    def get(self, request):
        return Response(PublicKeySerializer(public_keys_document(), many=True).data)


class LedgerEntryPageMixin:
    """Lists a page of ledger entries, oldest first, exactly as hashed and signed; get_queryset names them."""

    required_scope = Scope.CUSTODY_READ
    serializer_class = CustodyEntrySerializer

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.get_queryset().order_by("sequence").only("pk"))
        entries = ledger_entries(CustodyEvent.objects.filter(pk__in=[event.pk for event in page]))
        return self.get_paginated_response(self.get_serializer([entry_as_json(e) for e in entries], many=True).data)


class CaseEventsView(LedgerEntryPageMixin, MemberAPIMixin, ListAPIView):
    """Every ledger entry about the case or any of its evidence."""

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation: no request, no membership
            return CustodyEvent.objects.none()
        return CustodyEvent.objects.filter(case=self.case)


class EvidenceEventsView(LedgerEntryPageMixin, MemberAPIMixin, ListAPIView):
    """Every ledger entry about one evidence item."""

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return CustodyEvent.objects.none()
        return CustodyEvent.objects.filter(evidence=self.evidence)


class EvidenceBundleView(MemberAPIMixin, APIView):
    """The item's custody bundle, for `python -m custody.verify`; makes a checkpoint first if none covers it."""

    required_scope = Scope.CUSTODY_READ

    @extend_schema(responses=CustodyBundleSerializer)
    def get(self, request, evidence_id):
        item = self.evidence
        response = Response(custody_bundle_build(item=item))
        response["Content-Disposition"] = f'attachment; filename="custody-bundle-{item.public_id}.json"'
        return response


class CheckpointListView(MemberAPIMixin, ListAPIView):
    """The organisation's signed checkpoints, newest first; keep a copy of the newest root outside the server."""

    required_scope = Scope.CUSTODY_READ
    serializer_class = ListedCheckpointSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Checkpoint.objects.none()
        return Checkpoint.objects.filter(organisation_id=self.membership.organisation_id).order_by(
            "-tree_size", "-made_at"
        )

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.get_queryset().prefetch_related("cosignatures__witness"))
        organisation = self.membership.organisation
        data = [
            entry_as_json(checkpoint_fields(checkpoint, organisation))
            | {"note": checkpoint.note, "cosignatures": checkpoint.cosignatures.all()}
            for checkpoint in page
        ]
        return self.get_paginated_response(ListedCheckpointSerializer(data, many=True).data)


class VerifyView(MemberAPIMixin, APIView):
    """Verify the organisation's whole ledger now and record that in it (custody:read on every case)."""

    required_scope = Scope.CUSTODY_READ

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        if self.membership.reach(Scope.CUSTODY_READ) is not Reach.ALL:
            raise PermissionDenied(
                _("Verifying the whole ledger needs custody access to every case of the organisation.")
            )

    @extend_schema(request=None, responses=VerificationSerializer)
    def post(self, request):
        organisation = self.membership.organisation
        verification, event = custody_verification_run(organisation=organisation, via="api", actor=request.user)
        latest = verification.latest_checkpoint
        body = {
            "organisation": organisation.slug,
            "ok": verification.ok,
            "summary": verification.summary(),
            "entries_checked": verification.report.entries_checked,
            "checkpoints_checked": verification.checkpoints_checked,
            "problems": [
                {"kind": str(p.kind), "label": p.label, "sequence": p.sequence, "detail": p.detail}
                for p in verification.report.problems
            ],
            "latest_checkpoint": entry_as_json(checkpoint_fields(latest, organisation)) if latest else None,
            "recorded_as": event.sequence,
        }
        return Response(VerificationSerializer(body).data)


EXPORT_RESPONSES = {
    (200, "application/zip"): OpenApiResponse(
        description="The sealed export; check it with `python -m custody.verify_export`. Recorded as export.created."
    ),
    409: OpenApiResponse(description="A stored copy is damaged; an integrity alarm was raised and nothing exported."),
}


class CaseExportView(MemberAPIMixin, APIView):
    """A sealed zip of the case: media still held, metadata, findings, reports, custody bundles, keys, manifest."""

    required_scope = Scope.MEDIA_DOWNLOAD

    @extend_schema(responses=EXPORT_RESPONSES)
    def get(self, request, case_id):
        return sealed_export_response(case=self.case, item=None, actor=request.user)


class EvidenceExportView(MemberAPIMixin, APIView):
    """A sealed zip of one evidence item."""

    required_scope = Scope.MEDIA_DOWNLOAD

    @extend_schema(responses=EXPORT_RESPONSES)
    def get(self, request, evidence_id):
        return sealed_export_response(case=self.case, item=self.evidence, actor=request.user)


class OrganisationLedgerMixin(MemberAPIMixin):
    """Views about the organisation's whole ledger tree: custody:read on every case of the organisation."""

    required_scope = Scope.CUSTODY_READ

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        if self.membership.reach(self.scope_for_request()) is not Reach.ALL:
            raise PermissionDenied(_("The organisation's whole ledger needs custody access to every case."))


class CheckpointNoteView(OrganisationLedgerMixin, APIView):
    """The newest checkpoint as a C2SP signed note (text/plain), with every witness cosignature stored for it:
    what `python -m custody.witness` reads."""

    @extend_schema(responses={(200, "text/plain"): str, 404: OpenApiResponse(description="No checkpoint yet.")})
    def get(self, request):
        checkpoint = latest_noted_checkpoint(self.membership.organisation)
        if checkpoint is None:
            raise NotFound(_("No checkpoint has been published as a signed note yet."))
        return HttpResponse(checkpoint_note_published(checkpoint), content_type="text/plain; charset=utf-8")


class CosignaturesView(OrganisationLedgerMixin, APIView):
    """A witness sends back a checkpoint note carrying its cosignature; stored if the organisation named it."""

    @extend_schema(request=CosignedNoteSerializer, responses=CosignatureSerializer(many=True))
    def post(self, request):
        body = CosignedNoteSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        stored = checkpoint_cosignatures_add(
            organisation=self.membership.organisation, note=body.validated_data["note"], actor=request.user
        )
        return Response(CosignatureSerializer(stored, many=True).data, status=201)


class ConsistencyProofView(OrganisationLedgerMixin, APIView):
    """The RFC 6962 consistency proof between two sizes of the organisation's ledger tree (O(log n) rows)."""

    @extend_schema(parameters=[ConsistencyQuerySerializer], responses=ConsistencyProofSerializer)
    def get(self, request):
        query = ConsistencyQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        old_size, new_size = query.validated_data["old_size"], query.validated_data["new_size"]
        organisation = self.membership.organisation
        size = tree_size(organisation.pk)
        if not 1 <= old_size <= new_size <= size:
            raise ValidationError(
                _("Sizes must satisfy 1 <= old_size <= new_size <= %(size)d, the ledger's size.") % {"size": size}
            )
        proof = stored_consistency_proof(organisation.pk, old_size, new_size)
        body = {"old_size": old_size, "new_size": new_size, "proof": [node.hex() for node in proof]}
        return Response(ConsistencyProofSerializer(body).data)


class LogView(OrganisationLedgerMixin, APIView):
    """The organisation's log: its origin, the verifier keys of its checkpoint notes, the witnesses it named."""

    @extend_schema(responses=LogSerializer)
    def get(self, request):
        organisation = self.membership.organisation
        body = {
            "origin": checkpoint_origin(organisation),
            "verifier_keys": log_verifier_keys(organisation),
            "witnesses": Witness.objects.filter(organisation=organisation),
        }
        return Response(LogSerializer(body).data)


class WitnessAddView(MemberAPIMixin, APIView):
    """Name an external witness by its cosignature verifier key (administrators)."""

    required_scope = Scope.ORG_MANAGE

    @extend_schema(request=WitnessAddSerializer, responses=WitnessSerializer)
    def post(self, request):
        body = WitnessAddSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        witness = witness_add(
            organisation=self.membership.organisation,
            vkey=body.validated_data["vkey"],
            url=body.validated_data["url"],
            actor=request.user,
        )
        return Response(WitnessSerializer(witness).data, status=201)
