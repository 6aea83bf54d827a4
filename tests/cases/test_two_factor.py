"""Two-factor sign-in: the organisation's requirement, enrolment, the code step, recovery codes, the token endpoint
and the admin, every sign-in, refusal and change recorded in the ledger of the account's organisations."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.test import Client, RequestFactory
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from cases import services
from cases.admin_site import TwoFactorAdminSite
from cases.models import ApiToken, Organisation
from cases.tenancy import memberships_of
from cases.two_factor import two_factor_state
from custody.models import CustodyEvent
from tests.conftest import PASSWORD
from tests.second_factor import enrol, sign_in_with_code, totp_code

PROXY = "10.0.0.9"


def _events(organisation, action: str) -> list[CustodyEvent]:
    return list(CustodyEvent.objects.filter(organisation=organisation, action=action).order_by("sequence"))


def _password_step(client, user, **extra):
    return client.post("/login/", {"username": user.get_username(), "password": PASSWORD}, REMOTE_ADDR=PROXY, **extra)


@pytest.fixture
def required(alpha):
    """alpha requires a second factor of its members (as a law-enforcement organisation does by default)."""
    services.organisation_two_factor_set(organisation=alpha.organisation, required=True, actor=alpha.admin)
    return alpha


def test_law_enforcement_requires_two_factor_by_default_and_legal_aid_does_not(db):
    police = services.organisation_create(name="County Police", slug="county")
    legal_aid = services.organisation_create(name="North Legal Aid", slug="north", kind="legal_aid")

    assert (police.two_factor_required, legal_aid.two_factor_required) == (True, False)
    [created] = _events(police, "organisation.created")
    assert created.details["two_factor_required"] is True


def test_member_of_a_requiring_organisation_must_enrol_before_anything_else(client, required):
    # When an investigator without an authenticator signs in
    response = _password_step(client, required.investigator)

    # Then every page sends them to set one up, and the API refuses the session
    assert response.status_code == 302
    dashboard = client.get("/dashboard/")
    assert dashboard.status_code == 302 and dashboard["Location"].startswith("/account/two-factor/?next=/dashboard/")
    api = client.get("/api/v1/cases/")
    assert api.status_code == 403 and api.json()["code"] == "two_factor_required"
    assert client.get(f"/cases/{required.case.public_id}/").status_code == 302
    # and the sign-in itself is recorded, with its address and method
    [signed_in] = _events(required.organisation, "account.signed_in")
    assert signed_in.details == {"account": "alpha-investigator", "address": PROXY, "method": "password"}


def test_enrolment_confirms_the_app_by_a_code_then_shows_recovery_codes_once(client, required):
    _password_step(client, required.investigator)
    page = client.get("/account/two-factor/")
    assert page.status_code == 200 and b"<svg" in page.content
    key = client.session["two_factor_candidate_key"]

    # A wrong code stores nothing
    wrong = client.post("/account/two-factor/", {"code": "000000" if totp_code(key) != "000000" else "111111"})
    assert wrong.status_code == 400
    assert not TOTPDevice.objects.filter(user=required.investigator).exists()

    # The app's code confirms it: recovery codes are shown, and the session may go on
    done = client.post("/account/two-factor/", {"code": totp_code(key)})
    assert done.status_code == 200
    shown = re.findall(r"<li>([a-z2-7]{8})</li>", done.content.decode())
    stored = StaticToken.objects.filter(device__user=required.investigator).values_list("token", flat=True)
    assert len(shown) == 10 and sorted(shown) == sorted(stored)
    assert TOTPDevice.objects.get(user=required.investigator).confirmed
    assert client.get("/dashboard/").status_code == 200
    [enabled] = _events(required.organisation, "two_factor.enabled")
    assert (enabled.actor_label, enabled.details) == (
        "alpha-investigator",
        {"account": "alpha-investigator", "recovery_codes": 10},
    )


def test_enrolled_person_gives_the_code_after_the_password(client, alpha):
    # Given an investigator with an authenticator (their organisation does not even require one)
    key, _codes = enrol(alpha.investigator)

    # When they give only their password, they are held at the code page
    _password_step(client, alpha.investigator)
    held = client.get("/dashboard/")
    assert held.status_code == 302 and held["Location"].startswith("/login/code/")
    assert client.get("/api/v1/cases/").status_code == 403

    # A wrong code is refused and recorded; the right one lets them in, and that sign-in is recorded
    wrong = client.post("/login/code/", {"code": "12345"}, REMOTE_ADDR=PROXY)
    assert wrong.status_code == 400 and b"not right" in wrong.content
    right = client.post("/login/code/", {"code": totp_code(key, 1), "next": "/cases/"}, REMOTE_ADDR=PROXY)
    assert right.status_code == 302 and right["Location"] == "/cases/"
    assert client.get("/dashboard/").status_code == 200
    [failed] = _events(alpha.organisation, "two_factor.failed")
    assert (failed.actor_label, failed.details["address"]) == ("system:sign-in", PROXY)
    [signed_in] = _events(alpha.organisation, "account.signed_in")
    assert signed_in.details["method"] == "password and authenticator app"


def test_a_code_already_used_is_refused_the_second_time(alpha):
    key, _codes = enrol(alpha.investigator)
    first, second = Client(), Client()
    _password_step(first, alpha.investigator)
    _password_step(second, alpha.investigator)

    code = totp_code(key, 1)
    assert first.post("/login/code/", {"code": code}).status_code == 302
    assert second.post("/login/code/", {"code": code}).status_code == 400


def test_wrong_codes_make_the_next_try_wait_and_tries_during_the_wait_are_not_checked(client, alpha, settings):
    settings.OTP_TOTP_THROTTLE_FACTOR = 60  # the first wait lasts a minute: the test cannot outrun it
    key, _codes = enrol(alpha.investigator)
    _password_step(client, alpha.investigator)
    client.post("/login/code/", {"code": "999999" if totp_code(key) != "999999" else "888888"})

    # Straight after a wrong code even the right one waits (django-otp's throttle), and is not recorded
    waiting = client.post("/login/code/", {"code": totp_code(key, 1)})
    assert waiting.status_code == 400 and b"wait" in waiting.content
    assert len(_events(alpha.organisation, "two_factor.failed")) == 1


def test_a_recovery_code_signs_in_once(alpha):
    _key, codes = enrol(alpha.investigator)
    client = Client()
    _password_step(client, alpha.investigator)
    assert client.post("/login/code/", {"code": codes[0].upper()}).status_code == 302
    assert client.get("/dashboard/").status_code == 200
    [used] = _events(alpha.organisation, "two_factor.recovery_used")
    assert used.details["recovery_codes_left"] == 9

    again = Client()
    _password_step(again, alpha.investigator)
    assert again.post("/login/code/", {"code": codes[0]}).status_code == 400


def test_a_password_alone_cannot_replace_the_authenticator(client, alpha):
    # Given someone who knows only the password of an enrolled account
    enrol(alpha.investigator)
    _password_step(client, alpha.investigator)
    before = TOTPDevice.objects.get(user=alpha.investigator).key

    # When they try the set-up page to add their own phone
    response = client.get("/account/two-factor/")

    # Then they are sent to give the current code first, and the authenticator is unchanged
    assert response.status_code == 302 and response["Location"].startswith("/login/code/")
    assert TOTPDevice.objects.get(user=alpha.investigator).key == before


def test_turning_off_is_refused_while_required_and_allowed_otherwise(client, alpha):
    key, _codes = enrol(alpha.investigator)
    sign_in_with_code(client, alpha.investigator, key)

    # Not required: with the password, it goes, and that is recorded
    assert client.post("/account/two-factor/off/", {"password": "wrong"}).status_code == 400
    assert client.post("/account/two-factor/off/", {"password": PASSWORD}).status_code == 302
    assert not TOTPDevice.objects.filter(user=alpha.investigator).exists()
    assert not StaticDevice.objects.filter(user=alpha.investigator).exists()
    assert len(_events(alpha.organisation, "two_factor.disabled")) == 1

    # Required: refused, nothing removed
    key, _codes = enrol(alpha.investigator)
    services.organisation_two_factor_set(organisation=alpha.organisation, required=True, actor=alpha.admin)
    verified = Client()
    sign_in_with_code(verified, alpha.investigator, key)
    verified.post("/account/two-factor/off/", {"password": PASSWORD})
    assert TOTPDevice.objects.filter(user=alpha.investigator).exists()


def test_new_recovery_codes_replace_the_old_ones(client, alpha):
    key, old = enrol(alpha.investigator)
    sign_in_with_code(client, alpha.investigator, key)

    response = client.post("/account/two-factor/recovery-codes/")

    new = re.findall(r"<li>([a-z2-7]{8})</li>", response.content.decode())
    stored = set(StaticToken.objects.filter(device__user=alpha.investigator).values_list("token", flat=True))
    assert stored == set(new) and not stored & set(old)
    assert len(_events(alpha.organisation, "two_factor.codes_renewed")) == 1


def test_administrator_sets_the_requirement_for_their_organisation_only(client, alpha, beta):
    client.login(username=alpha.admin.username, password=PASSWORD)

    assert client.post("/organisation/two-factor/", {"required": "on"}).status_code == 302

    alpha.organisation.refresh_from_db()
    beta.organisation.refresh_from_db()
    assert alpha.organisation.two_factor_required and not beta.organisation.two_factor_required
    [changed] = _events(alpha.organisation, "two_factor.policy_changed")
    assert (changed.actor_label, changed.details) == ("alpha-admin", {"required": True})
    assert not _events(beta.organisation, "two_factor.policy_changed")


@pytest.mark.parametrize("role", ["supervisor", "investigator", "auditor"])
def test_only_administrators_set_the_requirement(client, alpha, role):
    client.login(username=alpha.member(role).username, password=PASSWORD)

    assert client.post("/organisation/two-factor/", {"required": "on"}).status_code == 403
    assert not Organisation.objects.get(pk=alpha.organisation.pk).two_factor_required


def test_token_endpoint_asks_an_enrolled_account_for_its_code(client, alpha):
    key, _codes = enrol(alpha.investigator)
    body = {"username": alpha.investigator.username, "password": PASSWORD, "name": "script"}

    without = client.post("/api/v1/auth/token/", body, content_type="application/json")
    wrong = client.post("/api/v1/auth/token/", {**body, "code": "1"}, content_type="application/json")
    right = client.post("/api/v1/auth/token/", {**body, "code": totp_code(key, 1)}, content_type="application/json")

    assert (without.status_code, without.json()["code"]) == (400, "two_factor_code_required")
    assert (wrong.status_code, wrong.json()["code"]) == (400, "two_factor_code_invalid")
    assert right.status_code == 201
    assert ApiToken.objects.filter(user=alpha.investigator).count() == 1


def test_token_endpoint_and_tokens_wait_for_enrolment_where_it_is_required(client, alpha):
    # Given a token made before the organisation required a second factor
    _token, secret = services.api_token_create(user=alpha.investigator, name="old script")
    services.organisation_two_factor_set(organisation=alpha.organisation, required=True, actor=alpha.admin)
    body = {"username": alpha.investigator.username, "password": PASSWORD}

    refused = client.post("/api/v1/auth/token/", body, content_type="application/json")
    old_token = client.get("/api/v1/cases/", HTTP_AUTHORIZATION=f"Token {secret}")

    assert (refused.status_code, refused.json()["code"]) == (403, "two_factor_required")
    assert old_token.status_code == 401
    # Once enrolled, the old token works again
    enrol(alpha.investigator)
    assert client.get("/api/v1/cases/", HTTP_AUTHORIZATION=f"Token {secret}").status_code == 200


def test_staff_reach_the_admin_only_with_a_second_factor(client, db):
    root = get_user_model().objects.create_superuser("root", password=PASSWORD)
    client.post("/admin/login/?next=/admin/", {"username": "root", "password": PASSWORD})

    # Staff are required to enrol even in no organisation
    held = client.get("/admin/")
    assert held.status_code == 302 and held["Location"].startswith("/account/two-factor/")
    # and the admin site itself refuses an unverified session, whatever sent it there
    request = RequestFactory().get("/admin/")
    request.user = root
    root.is_verified = lambda: False
    assert not TwoFactorAdminSite().has_permission(request)

    key, _codes = enrol(root)
    client.logout()
    sign_in_with_code(client, root, key)
    assert client.get("/admin/").status_code == 200


def test_wrong_password_of_an_account_is_recorded_where_it_belongs_and_an_unknown_name_nowhere(client, alpha, beta):
    client.post("/login/", {"username": alpha.auditor.username, "password": "wrong"}, REMOTE_ADDR=PROXY)
    client.post("/login/", {"username": "nobody-here", "password": "wrong"}, REMOTE_ADDR=PROXY)

    [failed] = _events(alpha.organisation, "account.sign_in_failed")
    assert (failed.actor_label, failed.details) == ("system:sign-in", {"account": "alpha-auditor", "address": PROXY})
    assert CustodyEvent.objects.filter(action="account.sign_in_failed").count() == 1
    assert not _events(beta.organisation, "account.sign_in_failed")


def test_tries_while_locked_out_are_not_recorded_as_password_guesses(client, alpha, settings):
    settings.AXES_FAILURE_LIMIT = 2
    for _ in range(5):
        client.post("/login/", {"username": alpha.auditor.username, "password": "wrong"}, REMOTE_ADDR=PROXY)

    assert len(_events(alpha.organisation, "account.sign_in_failed")) == 2


def test_locked_out_account_cannot_reach_the_code_step(client, alpha, settings):
    # The lock-out comes before the second factor: an enrolled account locked out never gets a session
    settings.AXES_FAILURE_LIMIT = 2
    enrol(alpha.investigator)
    for _ in range(2):
        client.post("/login/", {"username": alpha.investigator.username, "password": "wrong"}, REMOTE_ADDR=PROXY)

    response = _password_step(client, alpha.investigator)

    assert response.status_code == 429
    assert "_auth_user_id" not in client.session


def test_a_password_alone_neither_renews_recovery_codes_nor_turns_two_factor_off(client, alpha):
    # Given someone who knows only the password of an enrolled account
    _key, codes = enrol(alpha.investigator)
    _password_step(client, alpha.investigator)

    renew = client.post("/account/two-factor/recovery-codes/")
    off = client.post("/account/two-factor/off/", {"password": PASSWORD})

    # Then both wait for the code, and nothing changed
    assert renew.status_code == off.status_code == 302
    assert renew["Location"].startswith("/login/code/") and off["Location"].startswith("/login/code/")
    stored = set(StaticToken.objects.filter(device__user=alpha.investigator).values_list("token", flat=True))
    assert stored == set(codes)
    assert TOTPDevice.objects.filter(user=alpha.investigator, confirmed=True).exists()
    assert not _events(alpha.organisation, "two_factor.disabled")


@pytest.mark.parametrize("case", ["neither", "enrolled", "required", "staff"])
def test_the_gate_reads_the_requirement_from_the_memberships_as_the_one_query_does(alpha, case):
    user = alpha.investigator
    if case == "enrolled":
        enrol(user)
    elif case == "required":
        services.organisation_two_factor_set(organisation=alpha.organisation, required=True, actor=alpha.admin)
    elif case == "staff":
        user.is_staff = True
        user.save()

    expected = {"neither": (False, False), "enrolled": (True, False), "required": (False, True), "staff": (False, True)}
    assert two_factor_state(user, memberships_of(user)) == two_factor_state(user) == expected[case]


def test_an_enrolled_person_of_no_organisation_is_still_held_for_the_code(client, db):
    # Given someone who enrolled an authenticator and belongs to no organisation (the memberships, which otherwise
    # say whether there is an authenticator, are none)
    user = get_user_model().objects.create_user("unattached", password=PASSWORD)
    enrol(user)

    # When they sign in with the password alone and ask for a page
    client.login(username="unattached", password=PASSWORD)
    response = client.get("/account/")

    # Then the gate still finds the authenticator and asks for its code
    assert two_factor_state(user, memberships_of(user)) == (True, False)
    assert response.status_code == 302 and response["Location"].startswith("/login/code/")
