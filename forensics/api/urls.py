from django.urls import path

from . import views

urlpatterns = [
    path("evidence/<uuid:evidence_id>/analyses/", views.EvidenceAnalysesView.as_view(), name="evidence-analyses"),
    path("analyses/<uuid:analysis_id>/", views.AnalysisDetailView.as_view(), name="analysis-detail"),
]
