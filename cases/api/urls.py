from django.urls import path
from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter(use_regex_path=False)  # path converters: a malformed id never reaches a view
router.register("organisations", views.OrganisationViewSet, basename="organisation")
router.register("members", views.MemberViewSet, basename="member")
router.register("invitations", views.InvitationViewSet, basename="invitation")
router.register("tokens", views.ApiTokenViewSet, basename="api-token")
router.register("account/invitations", views.AccountInvitationViewSet, basename="account-invitation")
router.register("cases", views.CaseViewSet, basename="case")
router.register("evidence", views.EvidenceViewSet, basename="evidence")

urlpatterns = [
    path("auth/token/", views.TokenObtainView.as_view(), name="auth-token"),
    path("accounts/", views.AccountCreateView.as_view(), name="account-create"),
    path("organisation/retention/", views.OrganisationRetentionView.as_view(), name="organisation-retention"),
    path("cases/<uuid:case_id>/evidence/", views.CaseEvidenceView.as_view(), name="case-evidence"),
    *router.urls,
]
