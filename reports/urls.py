from django.urls import path

from . import certificate_pages, views

app_name = "reports"

urlpatterns = [
    path("evidence/<uuid:evidence_id>/reports/", views.EvidenceReportCreateView.as_view(), name="evidence-create"),
    path("cases/<uuid:case_id>/reports/", views.CaseReportCreateView.as_view(), name="case-create"),
    path("reports/<uuid:report_id>/download/", views.ReportDownloadView.as_view(), name="download"),
    path("reports/verify/", views.report_verify_page, name="verify"),
    path(
        "organisation/report-certificate/",
        certificate_pages.SigningCertificateView.as_view(),
        name="signing-certificate",
    ),
]
