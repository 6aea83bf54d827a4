"""The one base for tenant pages: resolves the member, checks the declared scope, and finds cases fail-closed."""

from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, render

from .models import Case
from .roles import Scope


class MemberView(LoginRequiredMixin):
    """Concrete views declare `required_scope`; a case-bound view also gets the case through `get_case`."""

    required_scope: Scope = Scope.CASE_READ

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        self.membership = request.membership
        if self.membership is None:
            return render(request, "cases/no_organisation.html", status=403)
        if not self.membership.has_scope(self.required_scope):
            raise PermissionDenied(f"Your role ({self.membership.get_role_display()}) cannot do this.")
        return super().dispatch(request, *args, **kwargs)

    def get_case(self, case_id, scope: Scope | None = None) -> Case:
        """The case if this member may see it (404 otherwise, foreign or missing alike), checked for `scope`."""
        case = get_object_or_404(
            Case.objects.for_member(self.membership).select_related("organisation"), public_id=case_id
        )
        if not self.membership.can(scope or self.required_scope, case):
            raise PermissionDenied(f"Your role ({self.membership.get_role_display()}) cannot do this on this case.")
        return case
