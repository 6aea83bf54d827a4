"""Report endpoints: request an evidence or case report, watch its status, download it (a custody event), and
verify a PDF without an account."""

from django.core.files.storage import storages
from django.http import FileResponse
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.generics import GenericAPIView
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from cases.api.base import MemberAPIMixin
from cases.api.errors import ErrorSerializer
from cases.api.permissions import IsPublic
from cases.exceptions import Refused
from cases.roles import Scope

from ..certificates import Pkcs12UploadHandler, signing_certificate_describe, signing_certificate_import
from ..models import Report
from ..services import report_download_record, report_request
from ..verification import report_verify_file
from ..verify_limits import ReportVerifyThrottle, report_upload_limit, report_upload_refusal_raise
from .serializers import (
    ReportSerializer,
    ReportVerificationSerializer,
    ReportVerifyRequestSerializer,
    SigningCertificateImportSerializer,
    SigningCertificateSerializer,
)


class ReportNotReady(Refused):
    status_code = 409

    def __init__(self):
        super().__init__(_("The report is not ready; watch its status until it is done."))


class ReportRequestMixin(MemberAPIMixin):
    """GET lists the reports (anyone who sees the case); POST requests one (evidence:upload on the case)."""

    serializer_class = ReportSerializer
    queryset = Report.objects.none()  # names the model for the schema; handlers go through the case
    required_scopes = {"GET": Scope.CASE_READ, "POST": Scope.EVIDENCE_UPLOAD}

    def listed(self, reports) -> Response:
        page = self.paginate_queryset(reports.select_related("case", "evidence", "requested_by", "checkpoint"))
        return self.get_paginated_response(ReportSerializer(page, many=True).data)

    def requested(self, *, case, evidence=None) -> Response:
        # A refusal (analysis still running) becomes a 409 in the API's one error handler.
        report = report_request(actor=self.request.user, case=case, evidence=evidence)
        return Response(ReportSerializer(report).data, status=status.HTTP_202_ACCEPTED)


class EvidenceReportsView(ReportRequestMixin, GenericAPIView):
    @extend_schema(responses=ReportSerializer(many=True), summary="Reports of an evidence item, newest first")
    def get(self, request, evidence_id):
        return self.listed(Report.objects.filter(evidence=self.evidence).order_by("-requested_at", "-id"))

    @extend_schema(
        request=None,
        responses={202: ReportSerializer, 409: OpenApiResponse(description="The item's analysis has not finished.")},
        summary="Generate a signed PDF report of an evidence item",
    )
    def post(self, request, evidence_id):
        return self.requested(case=self.case, evidence=self.evidence)


class CaseReportsView(ReportRequestMixin, GenericAPIView):
    @extend_schema(responses=ReportSerializer(many=True), summary="Reports of a case and its items, newest first")
    def get(self, request, case_id):
        return self.listed(Report.objects.filter(case=self.case).order_by("-requested_at", "-id"))

    @extend_schema(
        request=None,
        responses={202: ReportSerializer, 409: OpenApiResponse(description="An item's analysis has not finished.")},
        summary="Generate a signed PDF report of a case and every item in it",
    )
    def post(self, request, case_id):
        return self.requested(case=self.case)


class ReportDetailView(MemberAPIMixin, APIView):
    @extend_schema(responses=ReportSerializer, summary="A report's status (queued, running, done, failed)")
    def get(self, request, report_id):
        return Response(ReportSerializer(self.report).data)


class ReportDownloadView(MemberAPIMixin, APIView):
    @extend_schema(
        responses={
            (200, "application/pdf"): OpenApiResponse(description="The signed PDF; recorded in the custody ledger."),
            409: OpenApiResponse(description="The report is not ready."),
        },
        summary="Download a report (a custody event)",
    )
    def get(self, request, report_id):
        report = self.report
        if not report.is_ready:
            raise ReportNotReady()
        report_download_record(report=report, actor=request.user)
        stored = storages["reports"].open(report.storage_key, "rb")
        return FileResponse(stored, as_attachment=True, filename=report.filename, content_type="application/pdf")


class ReportVerifyView(APIView):
    """Anyone holding a PDF may ask whether it is a genuine report of this system; no account is needed."""

    authentication_classes = []
    permission_classes = [IsPublic]
    throttle_classes = [ReportVerifyThrottle]
    parser_classes = [MultiPartParser]

    @extend_schema(
        request={"multipart/form-data": ReportVerifyRequestSerializer},
        responses={
            200: ReportVerificationSerializer,
            400: OpenApiResponse(ErrorSerializer, description="No file, or more than one."),
            413: OpenApiResponse(ErrorSerializer, description="Larger than any report; refused before it was read."),
            429: OpenApiResponse(ErrorSerializer, description="Too many verifications from this address; wait."),
        },
        summary="Verify that a PDF is a report this system issued, unaltered",
        description="One file per request, no larger than the largest report (a larger body is refused with 413 "
        "before it is read); limited per client address together with the verification page (429).",
        auth=[],
    )
    def post(self, request):
        report_upload_limit(request._request)
        data = request.data  # the body, read through the limited handler
        report_upload_refusal_raise(request._request)
        given = ReportVerifyRequestSerializer(data=data)
        given.is_valid(raise_exception=True)
        upload = given.validated_data["file"]
        try:
            verification = report_verify_file(upload)
        finally:
            upload.close()
        return Response(ReportVerificationSerializer(verification).data)


class SigningCertificateView(MemberAPIMixin, APIView):
    """The certificate the organisation's reports are signed with; administrators import the organisation's own."""

    required_scope = Scope.ORG_MANAGE
    parser_classes = [MultiPartParser]

    def initialize_request(self, request, *args, **kwargs):
        # Before authentication: its CSRF check reads the body.
        request.upload_handlers = [Pkcs12UploadHandler(request)]
        return super().initialize_request(request, *args, **kwargs)

    @extend_schema(responses=SigningCertificateSerializer, summary="The report-signing certificate in force")
    def get(self, request):
        return Response(SigningCertificateSerializer(signing_certificate_describe(self.membership.organisation)).data)

    @extend_schema(
        request={"multipart/form-data": SigningCertificateImportSerializer},
        responses={
            201: SigningCertificateSerializer,
            400: OpenApiResponse(ErrorSerializer, description="Not a usable PKCS#12 file, or a wrong password."),
        },
        summary="Import the organisation's report-signing certificate (PKCS#12)",
        description="Reports are signed with it from now on; the key is kept in the keys directory, the import "
        "recorded in the custody ledger, and reports signed with earlier certificates still verify.",
    )
    def post(self, request):
        given = SigningCertificateImportSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        upload = given.validated_data["file"]
        try:
            imported = signing_certificate_import(
                organisation=self.membership.organisation,
                pkcs12_data=upload.read(),
                password=given.validated_data["password"],
                actor=request.user,
            )
        finally:
            upload.close()
        return Response(SigningCertificateSerializer(imported).data, status=status.HTTP_201_CREATED)
