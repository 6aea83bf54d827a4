"""Attaches `request.membership` (the active organisation and role) to every session-authenticated request."""

from .tenancy import SESSION_KEY, membership_resolve


class ActiveOrganisationMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.membership = membership_resolve(request.user, request.session.get(SESSION_KEY))
        return self.get_response(request)
