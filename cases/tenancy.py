"""Which organisation a request acts in. The membership decides; ids sent by the client only express a wish."""

from django.contrib.auth.models import AnonymousUser

from .models import Membership

SESSION_KEY = "active_organisation_id"


def membership_resolve(user, preferred_organisation_id: int | None) -> Membership | None:
    """The user's membership in the preferred organisation if they have one, else their first; None for none."""
    if user is None or isinstance(user, AnonymousUser) or not user.is_authenticated:
        return None
    memberships = list(Membership.objects.filter(user=user).select_related("organisation"))
    preferred = [m for m in memberships if m.organisation_id == preferred_organisation_id]
    return (preferred or memberships or [None])[0]


def membership_activate(request, membership: Membership) -> None:
    request.session[SESSION_KEY] = membership.organisation_id
    request.membership = membership
