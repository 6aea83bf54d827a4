from django.urls import path

from . import views

urlpatterns = [
    path("evidence/<uuid:evidence_id>/reports/", views.EvidenceReportsView.as_view(), name="evidence-reports"),
    path("cases/<uuid:case_id>/reports/", views.CaseReportsView.as_view(), name="case-reports"),
    path("reports/verify", views.ReportVerifyView.as_view(), name="report-verify"),
    path("organisation/report-certificate/", views.SigningCertificateView.as_view(), name="signing-certificate"),
    path("reports/<uuid:report_id>/", views.ReportDetailView.as_view(), name="report-detail"),
    path("reports/<uuid:report_id>/download/", views.ReportDownloadView.as_view(), name="report-download"),
]
