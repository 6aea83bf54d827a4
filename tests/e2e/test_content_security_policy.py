"""In a real browser the Content-Security-Policy blocks nothing the site itself serves: the pages of a member, the
public pages and the API documentation load and run without a single violation."""

import re

import pytest
from django.contrib.auth import get_user_model

from cases import services
from cases.roles import Role

pytestmark = pytest.mark.e2e

PASSWORD = "correct horse battery staple"


@pytest.fixture
def member(transactional_db):
    organisation = services.organisation_create(name="Unit South", slug="south", two_factor_required=False)
    user = get_user_model().objects.create_user("south-admin", password=PASSWORD)
    services.membership_set(organisation=organisation, user=user, role=Role.ADMIN)
    case = services.case_create(organisation=organisation, title="Policy check", actor=user)
    yield user, case


def test_pages_and_api_docs_run_without_a_policy_violation(browser, live_server, member):
    user, case = member
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(30_000)
    violations: list[str] = []
    page.on(
        "console",
        lambda message: violations.append(message.text) if "Content Security Policy" in message.text else None,
    )

    page.goto(f"{live_server.url}/login/")
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name=re.compile("log in", re.I)).click()
    page.wait_for_url(re.compile("/dashboard/"))
    for path in (
        "/dashboard/",
        "/cases/",
        f"/cases/{case.public_id}/",
        "/organisation/settings/",
        "/custody/",
        "/reports/verify/",
    ):
        page.goto(f"{live_server.url}{path}", wait_until="networkidle")

    page.goto(f"{live_server.url}/api/docs/", wait_until="networkidle")
    page.locator(".swagger-ui .info .title").wait_for()
    page.goto(f"{live_server.url}/api/redoc/", wait_until="networkidle")
    page.get_by_text("Evidence Media API").first.wait_for()

    context.close()
    # Redoc's "powered by" logo from its vendor's server is blocked on purpose: nothing loads from elsewhere.
    assert [text for text in violations if "https://cdn.redoc.ly/" not in text] == []
