"""A committed organisation for browser tests (one member of each role and a case) and logging in through the real
log-in page. A legal-aid organisation: it does not start with the two-factor requirement, so the password is enough."""

import re
from dataclasses import dataclass

import pytest
from django.contrib.auth import get_user_model

from cases import services
from cases.models import Case, Organisation, OrganisationKind
from cases.roles import Role

PASSWORD = "correct horse battery staple"


@dataclass
class LiveUnit:
    organisation: Organisation
    case: Case
    users: dict

    def member(self, role: str):
        return self.users[role]


@pytest.fixture
def unit(transactional_db):
    organisation = services.organisation_create(name="Unit East", slug="east", kind=OrganisationKind.LEGAL_AID)
    users = {}
    for role in Role:
        users[role.value] = get_user_model().objects.create_user(f"east-{role.value}", password=PASSWORD)
        services.membership_set(organisation=organisation, user=users[role.value], role=role)
    case = services.case_create(
        organisation=organisation, title="Messages from a burner phone", actor=users["investigator"]
    )
    yield LiveUnit(organisation=organisation, case=case, users=users)


def log_in(browser, live_server, user, **context_options):
    """A new browser context logged in as `user` through the log-in page; returns (context, page)."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, **context_options)
    page = context.new_page()
    page.set_default_timeout(30_000)
    page.goto(f"{live_server.url}/login/")
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name=re.compile("log in", re.I)).click()
    page.wait_for_url(re.compile("/dashboard/"))
    return context, page
