from django.urls import path

from . import views

urlpatterns = [
    path("keys/", views.CustodyKeysView.as_view(), name="custody-keys"),
    path("checkpoints/", views.CheckpointListView.as_view(), name="custody-checkpoints"),
    path("verify/", views.VerifyView.as_view(), name="custody-verify"),
    path("log/", views.LogView.as_view(), name="custody-log"),
    path("witnesses/", views.WitnessAddView.as_view(), name="custody-witness-add"),
    path("checkpoint/", views.CheckpointNoteView.as_view(), name="custody-checkpoint-note"),
    path("checkpoint/cosignatures/", views.CosignaturesView.as_view(), name="custody-cosignatures"),
    path("consistency/", views.ConsistencyProofView.as_view(), name="custody-consistency"),
    path("cases/<uuid:case_id>/events/", views.CaseEventsView.as_view(), name="custody-case-events"),
    path("evidence/<uuid:evidence_id>/events/", views.EvidenceEventsView.as_view(), name="custody-evidence-events"),
    path("evidence/<uuid:evidence_id>/bundle/", views.EvidenceBundleView.as_view(), name="custody-evidence-bundle"),
    path("cases/<uuid:case_id>/export/", views.CaseExportView.as_view(), name="custody-case-export"),
    path("evidence/<uuid:evidence_id>/export/", views.EvidenceExportView.as_view(), name="custody-evidence-export"),
]
