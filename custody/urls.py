from django.urls import path

from . import views

app_name = "custody"

urlpatterns = [
    path("", views.AuditView.as_view(), name="audit"),
    path("verify/", views.VerifyNowView.as_view(), name="verify"),
    path("cases/<uuid:case_id>/", views.CaseCustodyView.as_view(), name="case"),
    path("cases/<uuid:case_id>/sign-off/", views.SignOffView.as_view(), name="sign-off"),
    path("cases/<uuid:case_id>/export/", views.CaseExportView.as_view(), name="case-export"),
    path("evidence/<uuid:evidence_id>/export/", views.EvidenceExportView.as_view(), name="evidence-export"),
]
