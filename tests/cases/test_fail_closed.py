"""Pages and API fail closed: every route is member-scoped unless it is named here as public (open to anyone) or
as an account route (any signed-in person, about their own account only). A route added without either fails."""

import uuid

import pytest
from django.contrib.admin.sites import AdminSite
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.urls.converters import IntConverter
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.test import APIRequestFactory
from rest_framework.views import APIView

from cases import services
from cases.api.base import MemberAPIMixin
from cases.api.permissions import IsActiveMember, IsPublic, IsSignedIn
from cases.models import Organisation
from cases.services import api_token_create
from cases.views_base import MemberView
from custody.models import CustodyEvent
from tests.conftest import PASSWORD

# Open to anyone, on purpose: signing in, report verification, public keys, the API schema and its documentation.
PUBLIC = {
    "home",  # only redirects to the dashboard
    "login",
    "logout",
    "password_reset",  # "forgot my password": answers alike whether the address belongs to an account
    "password_reset_done",
    "password_reset_confirm",
    "password_reset_complete",
    "favicon",
    "javascript-catalog",  # the translations of the page scripts' strings
    "reports:verify",
    "api:report-verify",
    "api:custody-keys",
    "api:auth-token",
    "schema",
    "swagger-ui",
    "redoc",
}
# Any signed-in person, about their own account: the organisations they belong to, and invitations to them.
ACCOUNT = {
    "cases:organisation-switch",
    "cases:invitations",
    "cases:invitation-accept",
    "cases:invitation-decline",
    "api:organisation-list",
    "api:organisation-switch",
    "api:account-invitation-list",
    "api:account-invitation-accept",
    "api:account-invitation-decline",
    "account",
    "account-password",
    "account-two-factor-verify",
    "account-two-factor-setup",
    "account-two-factor-codes",
    "account-two-factor-disable",
    "account-token-create",
    "account-token-rename",
    "account-token-revoke",
}


def _routes(patterns=None, namespace="", prefix=""):
    """(name, route, view callback) for every URL pattern of the project outside the Django admin."""
    for entry in patterns if patterns is not None else get_resolver().url_patterns:
        if isinstance(entry, URLResolver):
            if isinstance(getattr(entry.urlconf_name, "__self__", None), AdminSite) or entry.app_name == "admin":
                continue  # staff-only; test_admin.py covers it
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from _routes(entry.url_patterns, inner, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            yield f"{namespace}{entry.name}" if entry.name else prefix + str(entry.pattern), entry


def _view_class(pattern: URLPattern):
    callback = pattern.callback
    return getattr(callback, "cls", None) or getattr(callback, "view_class", None)


def _url(name: str, pattern: URLPattern) -> str:
    kwargs = {
        key: 1 if isinstance(converter, IntConverter) else uuid.uuid4()
        for key, converter in pattern.pattern.converters.items()
    }
    return reverse(name, kwargs=kwargs)


ROUTES = dict(_routes())


def test_the_api_default_permission_requires_an_active_membership():
    assert [IsActiveMember] == api_settings.DEFAULT_PERMISSION_CLASSES


def test_the_public_and_account_lists_name_only_existing_routes():
    assert set(ROUTES) >= PUBLIC | ACCOUNT


@pytest.mark.parametrize("name", sorted(ROUTES))
def test_every_route_is_member_scoped_unless_listed_as_public_or_account(name):
    view = _view_class(ROUTES[name])
    if name in PUBLIC or name in ACCOUNT:
        if view is not None and issubclass(view, APIView):
            expected = IsPublic if name in PUBLIC else IsSignedIn
            assert view.permission_classes == [expected], f"{name} must declare {expected.__name__} by name"
        return
    assert view is not None, f"{name} is a function view that is neither member-scoped nor listed"
    if issubclass(view, APIView):
        assert issubclass(view, MemberAPIMixin), f"{name} does not resolve the membership"
        assert IsActiveMember in view.permission_classes, f"{name} is open beyond active members"
    else:
        assert issubclass(view, MemberView), f"{name} does not resolve the membership"


@pytest.mark.parametrize("name", sorted(set(ROUTES) - PUBLIC - ACCOUNT))
def test_signed_in_person_without_an_organisation_is_refused_on_every_member_route(client, outsider, name):
    client.login(username=outsider.username, password=PASSWORD)
    url = _url(name, ROUTES[name])
    for method in ("get", "post"):
        response = getattr(client, method)(url)
        assert response.status_code == 403, f"{method.upper()} {url}: {response.status_code}"


@pytest.mark.parametrize("name", sorted(set(ROUTES) - PUBLIC))
def test_anonymous_visitor_is_refused_on_every_route_that_is_not_public(db, name):
    url = _url(name, ROUTES[name])
    for method in ("get", "post"):
        response = getattr(Client(), method)(url)
        if url.startswith("/api/"):
            assert response.status_code in {401, 403}, f"{method.upper()} {url}: {response.status_code}"
        else:
            assert response.status_code == 302 and response["Location"].startswith("/login/"), url


def test_base_view_resolves_the_url_objects_before_the_handler_runs(alpha, beta):
    # Given a view whose handler only reads what the base resolved, and a token of alpha's investigator
    seen = []

    class Probe(MemberAPIMixin, APIView):
        def get(self, request, case_id):
            seen.append(self.case)
            return Response({})

    _, secret = api_token_create(user=alpha.investigator, name="probe")

    def ask(case):
        request = APIRequestFactory().get("/probe/", HTTP_AUTHORIZATION=f"Token {secret}")
        return Probe.as_view()(request, case_id=case.public_id)

    # When it is asked for alpha's case and for beta's
    own, foreign = ask(alpha.case), ask(beta.case)

    # Then the handler got alpha's case already scoped, and never ran for beta's
    assert own.status_code == 200 and seen == [alpha.case]
    assert foreign.status_code == 404


def test_organisation_create_writes_the_first_ledger_entry(db):
    organisation = services.organisation_create(name="North Legal Aid", slug="north", kind="legal_aid")
    [first] = CustodyEvent.objects.filter(organisation=organisation)
    assert (first.sequence, first.action, first.actor_label) == (1, "organisation.created", "system:administration")
    assert first.details == {
        "name": "North Legal Aid",
        "slug": "north",
        "kind": "legal_aid",
        "retention": {"policy": "privacy_first", "days": 90},
        "two_factor_required": False,
    }


def test_organisation_create_leaves_nothing_when_its_ledger_entry_cannot_be_written(db, settings, tmp_path):
    settings.KEYS_DIR = tmp_path / "no-keys"
    with pytest.raises(RuntimeError, match="No custody signing key"):
        services.organisation_create(name="North Legal Aid", slug="north")
    assert not Organisation.objects.filter(slug="north").exists()
