"""Template context for the organisation switcher and role-dependent navigation."""


def tenancy(request) -> dict:
    membership = getattr(request, "membership", None)
    if membership is None:
        return {"membership": None, "other_memberships": []}
    # The user's memberships as cases.middleware.ActiveOrganisationMiddleware read them, by organisation name.
    others = [other for other in request.memberships if other.pk != membership.pk]
    return {"membership": membership, "other_memberships": others}
