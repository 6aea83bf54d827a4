from django.urls import path

from . import member_pages, views

app_name = "cases"

urlpatterns = [
    path("organisations/switch/", views.organisation_switch, name="organisation-switch"),
    path("organisation/settings/", views.OrganisationSettingsView.as_view(), name="organisation-settings"),
    path("organisation/members/", member_pages.MembersView.as_view(), name="members"),
    path(
        "organisation/members/<uuid:membership_id>/remove/",
        member_pages.MemberRemoveView.as_view(),
        name="member-remove",
    ),
    path(
        "organisation/members/<uuid:membership_id>/deactivate/",
        member_pages.MemberDeactivateView.as_view(),
        name="member-deactivate",
    ),
    path(
        "organisation/members/<uuid:membership_id>/reactivate/",
        member_pages.MemberDeactivateView.as_view(reactivate=True),
        name="member-reactivate",
    ),
    path(
        "organisation/members/<uuid:membership_id>/password-reset/",
        member_pages.MemberPasswordResetView.as_view(),
        name="member-password-reset",
    ),
    path("organisation/two-factor/", member_pages.TwoFactorPolicyView.as_view(), name="two-factor-policy"),
    path("organisation/invitations/", member_pages.InvitationSendView.as_view(), name="invitation-send"),
    path(
        "organisation/invitations/<uuid:invitation_id>/revoke/",
        member_pages.InvitationRevokeView.as_view(),
        name="invitation-revoke",
    ),
    path(
        "organisation/tokens/<int:token_id>/revoke/",
        member_pages.ApiTokenRevokeView.as_view(),
        name="api-token-revoke",
    ),
    path("organisation/accounts/", member_pages.AccountCreateView.as_view(), name="account-create"),
    path("invitations/", member_pages.invitations, name="invitations"),
    path("invitations/<uuid:invitation_id>/accept/", member_pages.invitation_accept, name="invitation-accept"),
    path("invitations/<uuid:invitation_id>/decline/", member_pages.invitation_decline, name="invitation-decline"),
    path("dashboard/", views.DashboardView.as_view(), name="dashboard"),
    path("live/status/", views.LiveStatusView.as_view(), name="live-status"),
    path("cases/", views.CaseListView.as_view(), name="list"),
    path("cases/new/", views.CaseCreateView.as_view(), name="create"),
    path("cases/<uuid:case_id>/", views.CaseDetailView.as_view(), name="detail"),
    path("cases/<uuid:case_id>/evidence/", views.EvidenceUploadView.as_view(), name="upload"),
    path("cases/<uuid:case_id>/status/", views.CaseStatusView.as_view(), name="status"),
    path("cases/<uuid:case_id>/assignees/", views.CaseAssignView.as_view(), name="assign"),
    path("cases/<uuid:case_id>/notes/", views.CaseNoteView.as_view(), name="note"),
    path("cases/<uuid:case_id>/legal-hold/", views.CaseLegalHoldView.as_view(), name="legal-hold"),
    path("evidence/<uuid:evidence_id>/", views.EvidenceDetailView.as_view(), name="evidence-detail"),
    path("evidence/<uuid:evidence_id>/download/", views.EvidenceDownloadView.as_view(), name="evidence-download"),
    path("evidence/<uuid:evidence_id>/preview/", views.EvidencePreviewView.as_view(), name="evidence-preview"),
    path(
        "evidence/<uuid:evidence_id>/thumbnail-comparison/",
        views.EvidenceThumbnailComparisonView.as_view(),
        name="evidence-thumbnail-comparison",
    ),
    path("evidence/<uuid:evidence_id>/analyse/", views.EvidenceAnalyseView.as_view(), name="evidence-analyse"),
    path(
        "evidence/<uuid:evidence_id>/delete-media/",
        views.EvidenceMediaDeleteView.as_view(),
        name="evidence-delete-media",
    ),
]
