"""The one base for tenant pages: resolves the member, checks the declared scope, and turns the case, evidence or
report id of the URL into scoped objects before the handler runs (a foreign id is a 404 like a missing one)."""

from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.shortcuts import render
from django.utils.translation import gettext as _

from .models import Case, EvidenceItem
from .roles import Scope
from .tenancy import url_objects_resolve


class MemberView(LoginRequiredMixin):
    """Concrete views declare `required_scope`; handlers read `self.membership`, and `self.case`, `self.evidence`
    or `self.report` for the ids in the URL, already checked for that scope. They never look these up again."""

    required_scope: Scope = Scope.CASE_READ
    case: Case | None = None
    evidence: EvidenceItem | None = None
    report = None

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        self.membership = request.membership
        if self.membership is None:
            return render(request, "cases/no_organisation.html", status=403)
        if not self.membership.has_scope(self.required_scope):
            raise PermissionDenied(
                _("Your role (%(role)s) cannot do this: %(scope)s is not part of it.")
                % {"role": self.membership.get_role_display(), "scope": Scope(self.required_scope).label.lower()}
            )
        found = url_objects_resolve(self.membership, kwargs, self.required_scope)
        self.case, self.evidence, self.report = found.case, found.evidence, found.report
        return super().dispatch(request, *args, **kwargs)
