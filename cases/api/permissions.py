"""Who may call an API view. The default (settings) requires an active membership; a view open to more people
says so by naming `IsPublic` or `IsSignedIn`, and tests/cases/test_fail_closed.py lists each such route."""

from django.utils.translation import gettext_lazy
from rest_framework.permissions import AllowAny, BasePermission, IsAuthenticated

from ..models import ApiToken, Membership
from ..tenancy import SESSION_KEY, membership_resolve, token_membership


def request_membership(request) -> Membership | None:
    """The membership a request acts in, resolved once per request: a token's bound organisation, else the
    session's chosen (or earliest joined) one."""
    if not hasattr(request, "active_membership"):
        if isinstance(request.auth, ApiToken):
            request.active_membership = token_membership(request.auth)
        else:
            request.active_membership = membership_resolve(request.user, request.session.get(SESSION_KEY))
    return request.active_membership


class IsActiveMember(BasePermission):
    """The caller is signed in and a member of the organisation their session or token acts in."""

    message = gettext_lazy(
        "You are not a member of the organisation this session or token acts in (or of any organisation)."
    )

    def has_permission(self, request, view) -> bool:
        return bool(request.user and request.user.is_authenticated) and request_membership(request) is not None


class IsSignedIn(IsAuthenticated):
    """Any signed-in person, for views about their own account only (their organisations, invitations to them)."""


class IsPublic(AllowAny):
    """Anyone, without an account: report verification, public keys, the schema, getting a token."""
