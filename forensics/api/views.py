"""Analysis endpoints of an evidence item: the history of runs, one run in full, re-analysis, and the latest
run's findings and metadata."""

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.exceptions import NotFound
from rest_framework.generics import GenericAPIView, get_object_or_404
from rest_framework.response import Response
from rest_framework.views import APIView

from cases.api.base import MemberAPIMixin
from cases.api.errors import ErrorSerializer
from cases.models import EvidenceItem
from cases.roles import Scope

from ..models import Analysis
from ..services import analysis_queue
from .serializers import (
    AnalysisResultSerializer,
    AnalysisSerializer,
    EvidenceMetadataSerializer,
    metadata_group_list,
)


class EvidenceAnalysesView(MemberAPIMixin, GenericAPIView):
    """GET: every analysis of the item, newest first. POST: re-analyse with the current rule set."""

    serializer_class = AnalysisSerializer
    queryset = Analysis.objects.none()  # names the model for the schema; handlers go through the case
    required_scopes = {"GET": Scope.CASE_READ, "POST": Scope.EVIDENCE_UPLOAD}

    @extend_schema(responses=AnalysisSerializer(many=True))
    def get(self, request, evidence_id):
        analyses = self.evidence.analyses.select_related("evidence", "requested_by").order_by("-queued_at", "-id")
        page = self.paginate_queryset(analyses)
        return self.get_paginated_response(AnalysisSerializer(page, many=True).data)

    @extend_schema(request=None, responses={202: AnalysisSerializer})
    def post(self, request, evidence_id):
        analysis = analysis_queue(item=self.evidence, reason="reanalysis", actor=request.user)
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


NOT_ANALYSED = OpenApiResponse(ErrorSerializer, description="No such item, or it has never been analysed.")


class LatestAnalysisView(MemberAPIMixin, APIView):
    required_scope = Scope.CASE_READ

    def latest_analysis(self) -> Analysis:
        analysis = (
            self.evidence.analyses.select_related("evidence", "requested_by").order_by("-queued_at", "-id").first()
        )
        if analysis is None:
            raise NotFound(_("This item has never been analysed; request an analysis first."))
        return analysis


class EvidenceFindingsView(LatestAnalysisView):
    """The item's latest analysis: its status and, once done, the verdict with the findings that justify it."""

    @extend_schema(responses={200: AnalysisSerializer, 404: NOT_ANALYSED})
    def get(self, request, evidence_id):
        return Response(AnalysisSerializer(self.latest_analysis()).data)


class EvidenceMetadataView(LatestAnalysisView):
    """The metadata the item's latest analysis read, grouped: ExifTool groups, then MediaInfo tracks."""

    @extend_schema(responses={200: EvidenceMetadataSerializer, 404: NOT_ANALYSED})
    def get(self, request, evidence_id):
        analysis = self.latest_analysis()
        groups = metadata_group_list(analysis.result)
        body = {"analysis": analysis.public_id, "status": analysis.status, "groups": groups}
        return Response(EvidenceMetadataSerializer(body).data)
