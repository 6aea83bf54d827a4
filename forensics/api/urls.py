from django.urls import path

from . import views

urlpatterns = [
    path("evidence/<uuid:evidence_id>/analyses/", views.EvidenceAnalysesView.as_view(), name="evidence-analyses"),
    path("evidence/<uuid:evidence_id>/findings/", views.EvidenceFindingsView.as_view(), name="evidence-findings"),
    path("evidence/<uuid:evidence_id>/metadata/", views.EvidenceMetadataView.as_view(), name="evidence-metadata"),
    path("analyses/<uuid:analysis_id>/", views.AnalysisDetailView.as_view(), name="analysis-detail"),
]
