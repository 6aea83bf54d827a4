"""Template context for the organisation switcher and role-dependent navigation."""

from .models import Membership


def tenancy(request) -> dict:
    membership = getattr(request, "membership", None)
    if membership is None:
        return {"membership": None, "other_memberships": []}
    others = Membership.objects.filter(user=request.user).exclude(pk=membership.pk).select_related("organisation")
    return {"membership": membership, "other_memberships": others}
