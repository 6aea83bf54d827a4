"""The one base for tenant API views: resolves the membership after authentication and checks declared scopes."""

from rest_framework.exceptions import PermissionDenied
from rest_framework.generics import get_object_or_404

from ..models import ApiToken, Case, EvidenceItem, Membership
from ..roles import Scope
from ..tenancy import SESSION_KEY, membership_resolve


def preferred_organisation_id(request) -> int | None:
    """The organisation a token was switched to, or the session's active one; membership still decides."""
    if isinstance(request.auth, ApiToken):
        return request.auth.organisation_id
    return request.session.get(SESSION_KEY)


class MemberAPIMixin:
    """Concrete views declare `required_scopes` per viewset action or HTTP method (or `required_scope` for all)."""

    required_scope: Scope = Scope.CASE_READ
    required_scopes: dict[str, Scope] = {}
    membership: Membership

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        membership = membership_resolve(request.user, preferred_organisation_id(request))
        if membership is None:
            raise PermissionDenied("You are not a member of any organisation.")
        self.membership = membership
        if not membership.has_scope(self.scope_for_request()):
            raise PermissionDenied(f"Your role ({membership.get_role_display()}) cannot do this.")

    def scope_for_request(self) -> Scope:
        scopes = self.required_scopes
        return scopes.get(getattr(self, "action", None)) or scopes.get(self.request.method) or self.required_scope

    def get_case(self, case_id, scope: Scope | None = None) -> Case:
        case = get_object_or_404(Case.objects.for_member(self.membership), public_id=case_id)
        if not self.membership.can(scope or self.scope_for_request(), case):
            raise PermissionDenied(f"Your role ({self.membership.get_role_display()}) cannot do this on this case.")
        return case

    def get_evidence(self, evidence_id, scope: Scope | None = None) -> EvidenceItem:
        """The item if the member may see its case (404 otherwise, foreign or missing alike), checked for `scope`."""
        item = get_object_or_404(
            EvidenceItem.objects.for_member(self.membership).select_related("case__organisation"),
            public_id=evidence_id,
        )
        if not self.membership.can(scope or self.scope_for_request(), item.case):
            raise PermissionDenied(f"Your role ({self.membership.get_role_display()}) cannot do this on this case.")
        return item
