"""Accounts in a real browser: an administrator creates an account and invites an existing one, the invitee
accepts, a member of a police unit sets up two-factor authentication on first sign-in and then signs in with a
code; 403 and 404 pages in the site layout; long titles wrap; the favicon is served."""

import re

import pytest
from django.contrib.auth import get_user_model
from django_otp.plugins.otp_totp.models import TOTPDevice

from cases import services
from cases.models import Membership
from cases.roles import Role
from custody.models import CustodyEvent
from tests.second_factor import totp_code

pytestmark = pytest.mark.e2e

PASSWORD = "correct horse battery staple"
NEW_PASSWORD = "first password of the newcomer 2026"


@pytest.fixture
def units(transactional_db):
    """A legal-aid organisation (two-factor optional) with an administrator and an auditor, a police unit (two-factor
    required by its kind) with its administrator, and a person with an account but no organisation."""
    legal_aid = services.organisation_create(name="Harbour Legal Aid", slug="harbour", kind="legal_aid")
    police = services.organisation_create(name="County Police", slug="county")
    people = {}
    for username, organisation, role in (
        ("harbour-admin", legal_aid, Role.ADMIN),
        ("harbour-auditor", legal_aid, Role.AUDITOR),
        ("county-admin", police, Role.ADMIN),
    ):
        people[username] = get_user_model().objects.create_user(username, password=PASSWORD)
        services.membership_set(organisation=organisation, user=people[username], role=role)
    people["walk-in"] = get_user_model().objects.create_user("walk-in", password=PASSWORD)
    case = services.case_create(organisation=legal_aid, title="x" * 200, actor=people["harbour-admin"])
    yield {"legal_aid": legal_aid, "police": police, "case": case, **people}


def _page(browser, live_server):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(30_000)
    return context, page


def _sign_in(page, live_server, username: str, password: str = PASSWORD) -> None:
    page.goto(f"{live_server.url}/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name=re.compile("log in", re.I)).click()
    page.wait_for_load_state()


def test_account_creation_and_invitation_acceptance(browser, live_server, units, screenshot):
    # The legal-aid administrator creates an account for a newcomer and invites the person who has one
    context, admin = _page(browser, live_server)
    _sign_in(admin, live_server, "harbour-admin")
    admin.get_by_role("link", name="Members").click()
    form = admin.locator("form[action='/organisation/accounts/']")
    form.get_by_label("Username").fill("newcomer")
    form.get_by_label("E-mail address (optional)").fill("newcomer@harbour.example")
    form.get_by_label("First password").fill(NEW_PASSWORD)
    form.get_by_label("Role").select_option("investigator")
    form.get_by_role("button", name="Create account").click()
    admin.wait_for_selector("text=Account newcomer created")
    invite = admin.locator("form[action='/organisation/invitations/']")
    invite.get_by_label("Username").fill("walk-in")
    invite.get_by_label("Role").select_option("auditor")
    invite.get_by_role("button", name="Invite").click()
    admin.wait_for_selector("text=Invitation to walk-in recorded")
    screenshot(admin, "members")
    context.close()

    # The newcomer signs in with the first password and lands on the dashboard of the organisation
    context, newcomer = _page(browser, live_server)
    _sign_in(newcomer, live_server, "newcomer", NEW_PASSWORD)
    assert newcomer.url.endswith("/dashboard/")
    context.close()

    # The invitee sees nothing of the organisation until they accept on their invitations page
    context, walk_in = _page(browser, live_server)
    _sign_in(walk_in, live_server, "walk-in")
    assert "not a member of any organisation" in walk_in.content()
    walk_in.get_by_role("link", name="Invitations", exact=True).click()
    walk_in.get_by_role("button", name=re.compile("accept", re.I)).click()
    walk_in.wait_for_selector("text=You are now a member of Harbour Legal Aid")
    walk_in.goto(f"{live_server.url}/dashboard/")
    assert walk_in.locator(".role").inner_text().endswith("Auditor")
    context.close()
    assert Membership.objects.get(user__username="walk-in").role == Role.AUDITOR


def test_two_factor_enrolment_on_first_sign_in_then_sign_in_with_a_code(browser, live_server, units, screenshot):
    # A member of the police unit signs in for the first time: they must set up an authenticator first
    context, page = _page(browser, live_server)
    _sign_in(page, live_server, "county-admin")
    assert "/account/two-factor/" in page.url
    assert "Your organisation requires two-factor authentication" in page.content()
    page.goto(f"{live_server.url}/cases/")
    assert "/account/two-factor/" in page.url  # nothing else until then
    screenshot(page, "two-factor-setup")

    # They read the key the page shows (as an app scanning the QR code would) and confirm with the app's code
    assert page.locator("figure.qr svg").count() == 1
    key = page.locator("#totp-secret").inner_text().replace(" ", "")
    key_hex = _base32_to_hex(key)
    page.get_by_label("The 6-digit code your app shows now").fill(totp_code(key_hex))
    page.get_by_role("button", name="Confirm").click()
    page.wait_for_selector("#recovery-codes")
    assert page.locator("#recovery-codes li").count() == 10
    page.get_by_role("link", name=re.compile("continue", re.I)).click()
    page.wait_for_load_state()
    assert page.url.endswith("/cases/")
    page.get_by_role("button", name="Log out").click()
    page.wait_for_load_state()

    # Next time: password, then the code page; a wrong code is refused, the right one lets them in
    _sign_in(page, live_server, "county-admin")
    assert "/login/code/" in page.url
    page.get_by_label(re.compile("Code from your authenticator app")).fill("000000")
    page.get_by_role("button", name="Continue").click()
    page.wait_for_selector("[role=alert]")
    page.get_by_label(re.compile("Code from your authenticator app")).fill(totp_code(key_hex, 1))
    page.get_by_role("button", name="Continue").click()
    page.wait_for_load_state()
    assert page.url.endswith("/dashboard/")
    context.close()

    assert TOTPDevice.objects.get(user__username="county-admin").confirmed
    actions = set(CustodyEvent.objects.filter(organisation=units["police"]).values_list("action", flat=True))
    assert {"two_factor.enabled", "two_factor.failed", "account.signed_in"} <= actions


def test_styled_403_and_404_pages_and_wrapping_titles(browser, live_server, units, screenshot):
    context, page = _page(browser, live_server)
    _sign_in(page, live_server, "harbour-auditor")

    # An auditor tries the members page: the reason in plain words, in the site layout, with a way back
    response = page.goto(f"{live_server.url}/organisation/members/")
    assert response.status == 403
    assert page.locator("h1").inner_text() == "You cannot do this here"
    assert "Your role (Auditor) cannot do this" in page.locator(".lead").inner_text()
    assert page.locator("header.topbar").count() == 1
    screenshot(page, "error-403")
    page.get_by_role("link", name="Back to the dashboard").click()
    page.wait_for_load_state()
    assert page.url.endswith("/dashboard/")

    # A case id of another organisation (or none at all): a sentence, not "No Case matches the given query"
    response = page.goto(f"{live_server.url}/cases/00000000-0000-4000-8000-000000000000/")
    assert response.status == 404
    assert "There is no case at this address that you can see." in page.locator(".lead").inner_text()
    screenshot(page, "error-404")

    # A 200-character title without a space wraps on the case list and the case page, at laptop and phone width
    for width in (1280, 390):
        page.set_viewport_size({"width": width, "height": 900})
        for url in ("/cases/", f"/cases/{units['case'].public_id}/"):
            page.goto(f"{live_server.url}{url}")
            overflow = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
            assert overflow <= 0, f"{url} at {width}px is {overflow}px too wide"

    # The favicon every browser asks for is there
    icon = page.goto(f"{live_server.url}/favicon.ico")
    assert icon.status == 200 and icon.headers["content-type"] in {"image/x-icon", "image/vnd.microsoft.icon"}
    context.close()


def _base32_to_hex(text: str) -> str:
    from base64 import b32decode

    return b32decode(text + "=" * (-len(text) % 8)).hex()
