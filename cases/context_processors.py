"""Template context for the organisation switcher, role-dependent navigation and the layout's links."""

import functools

from django.conf import settings
from django.urls import get_script_prefix, get_urlconf, reverse

# The links of the layout's header (templates/base.html), by the name the layout gives each, and the URL name of each.
LAYOUT_LINKS = {
    "home": "home",
    "dashboard": "cases:dashboard",
    "cases": "cases:list",
    "custody_audit": "custody:audit",
    "members": "cases:members",
    "invitations": "cases:invitations",
    "organisation_switch": "cases:organisation-switch",
    "account": "account",
    "logout": "logout",
    "javascript_catalog": "javascript-catalog",
}


def tenancy(request) -> dict:
    membership = getattr(request, "membership", None)
    if membership is None:
        return {"membership": None, "other_memberships": []}
    # The user's memberships as cases.middleware.ActiveOrganisationMiddleware read them, by organisation name.
    others = [other for other in request.memberships if other.pk != membership.pk]
    return {"membership": membership, "other_memberships": others}


def layout_links(request) -> dict:
    """`layout_links`: the layout's links (LAYOUT_LINKS), the same on every page of a site, reversed once a process
    for each URLconf and script prefix; ten {% url %} tags took some 0.4 ms a page."""
    return {"layout_links": _reversed(get_urlconf() or settings.ROOT_URLCONF, get_script_prefix())}


# A site has one or two; bounded because the prefix comes from the request (a proxy's SCRIPT_NAME, which gunicorn
# also takes from a request header), so a client could otherwise fill the cache with prefixes of its own.
@functools.lru_cache(maxsize=8)
def _reversed(urlconf: str, script_prefix: str) -> dict[str, str]:
    # The script prefix is part of each link (reverse reads it), hence of the key.
    return {key: reverse(name, urlconf=urlconf) for key, name in LAYOUT_LINKS.items()}
