"""Analysis endpoints of an evidence item: the history of runs, one run in full, and re-analysis."""

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.generics import get_object_or_404
from rest_framework.response import Response
from rest_framework.views import APIView

from cases.api.base import MemberAPIMixin
from cases.models import EvidenceItem
from cases.roles import Scope

from ..models import Analysis
from ..services import analysis_queue
from .serializers import AnalysisResultSerializer, AnalysisSerializer


class EvidenceAnalysesView(MemberAPIMixin, APIView):
    """GET: every analysis of the item, newest first. POST: re-analyse with the current rule set."""

    required_scopes = {"GET": Scope.CASE_READ, "POST": Scope.EVIDENCE_UPLOAD}

    def scope_for_request(self) -> Scope:
        return self.required_scopes[self.request.method]

    def get_item(self, evidence_id) -> EvidenceItem:
        item = get_object_or_404(
            EvidenceItem.objects.for_member(self.membership).select_related("case__organisation"),
            public_id=evidence_id,
        )
        self.get_case(item.case.public_id)
        return item

    @extend_schema(responses=AnalysisSerializer(many=True))
    def get(self, request, evidence_id):
        item = self.get_item(evidence_id)
        analyses = item.analyses.select_related("evidence", "requested_by").order_by("-queued_at", "-id")
        return Response(AnalysisSerializer(analyses, many=True).data)

    @extend_schema(request=None, responses={202: AnalysisSerializer})
    def post(self, request, evidence_id):
        item = self.get_item(evidence_id)
        analysis = analysis_queue(item=item, reason="reanalysis", actor=request.user)
        return Response(AnalysisSerializer(analysis).data, status=status.HTTP_202_ACCEPTED)


class AnalysisDetailView(MemberAPIMixin, APIView):
    """One analysis with the full output of every analyser."""

    required_scope = Scope.CASE_READ

    @extend_schema(responses=AnalysisResultSerializer)
    def get(self, request, analysis_id):
        visible = EvidenceItem.objects.for_member(self.membership)
        analysis = get_object_or_404(
            Analysis.objects.filter(evidence__in=visible).select_related("evidence", "requested_by"),
            public_id=analysis_id,
        )
        return Response(AnalysisResultSerializer(analysis).data)
