"""Request middleware of the pages: the active organisation of every session-authenticated request, and the site's
own 404 page under DEBUG."""

from django.conf import settings
from django.http import Http404

from .api.errors import API_PREFIX, not_found
from .tenancy import SESSION_KEY, membership_choose, memberships_of


class ActiveOrganisationMiddleware:
    """Attaches `request.membership` (the active organisation and role) to every session-authenticated request, and
    `request.memberships` (all of the user's, with their organisations), which the two-factor gate and the
    organisation switcher read instead of querying them again."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.memberships = memberships_of(request.user)
        request.membership = membership_choose(request.memberships, request.session.get(SESSION_KEY))
        return self.get_response(request)


class DebugNotFoundPageMiddleware:
    """Under DEBUG, Django answers a page's 404 with its technical page; the site's own page (in the layout, saying
    why, with a way back) is what people must see under `make run` too. A view's Http404 and an address no URL
    pattern matches both get it; the API keeps its JSON (cases.api.errors). 403s already use the site's page under
    DEBUG, and a crash keeps Django's debug page so that developers can debug."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        # No URL pattern matched (request.resolver_match is set only once one does): Django answered its
        # technical "Page not found" with the patterns it tried.
        if self._applies(request) and response.status_code == 404 and request.resolver_match is None:
            return not_found(request, Http404())
        return response

    def process_exception(self, request, exception):
        if self._applies(request) and isinstance(exception, Http404):
            return not_found(request, exception)
        return None

    @staticmethod
    def _applies(request) -> bool:
        return settings.DEBUG and not request.path.startswith(API_PREFIX)
