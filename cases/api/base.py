"""The one base for tenant API views: resolves the membership after authentication, checks the declared scope,
and turns the case, evidence or report id of the URL into scoped objects before the handler runs."""

from django.utils.translation import gettext as _
from rest_framework.exceptions import PermissionDenied

from ..models import Case, EvidenceItem, Membership
from ..roles import Scope
from ..tenancy import url_objects_resolve
from .permissions import IsActiveMember, request_membership


class MemberAPIMixin:
    """Concrete views declare `required_scopes` per viewset action or HTTP method (or `required_scope` for all).

    Handlers read `self.membership`, and `self.case`, `self.evidence` or `self.report` for the ids in the URL,
    already checked against the member's reach for the request's scope; they never look these up themselves."""

    permission_classes = [IsActiveMember]
    required_scope: Scope = Scope.CASE_READ
    required_scopes: dict[str, Scope] = {}
    membership: Membership
    case: Case | None = None
    evidence: EvidenceItem | None = None
    report = None

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        self.membership = request_membership(request)
        scope = self.scope_for_request()
        if not self.membership.has_scope(scope):
            raise PermissionDenied(
                _("Your role (%(role)s) cannot do this: %(scope)s is not part of it.")
                % {"role": self.membership.get_role_display(), "scope": Scope(scope).label.lower()}
            )
        found = url_objects_resolve(self.membership, kwargs, scope)
        self.case, self.evidence, self.report = found.case, found.evidence, found.report

    def get_object(self):
        """For a viewset whose lookup is a case, evidence or report id: the object resolved before the handler."""
        resolved = {"case_id": self.case, "evidence_id": self.evidence, "report_id": self.report}
        if self.lookup_url_kwarg in resolved:
            return resolved[self.lookup_url_kwarg]
        return super().get_object()

    def scope_for_request(self) -> Scope:
        scopes = self.required_scopes
        return scopes.get(getattr(self, "action", None)) or scopes.get(self.request.method) or self.required_scope
