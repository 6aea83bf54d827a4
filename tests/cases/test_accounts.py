"""Accounts: administrators deactivate members and send password resets, people change their own password, reset
it by e-mail and manage their own API tokens; each write recorded, and another organisation's administrator
reaches none of it."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.test import Client

from cases import services
from cases.models import ApiToken, Case, Membership
from custody.models import CustodyEvent
from tests.conftest import PASSWORD

NEW_PASSWORD = "a much longer passphrase 2026"


def _events(organisation, action: str) -> list[CustodyEvent]:
    return list(CustodyEvent.objects.filter(organisation=organisation, action=action))


def _signed_in(user) -> Client:
    client = Client()
    client.login(username=user.username, password=PASSWORD)
    return client


def _member_id(tenant, user):
    return Membership.objects.get(organisation=tenant.organisation, user=user).public_id


def test_deactivated_member_cannot_sign_in_and_their_token_stops_working(alpha):
    _token, secret = services.api_token_create(user=alpha.auditor, name="script")
    admin = _signed_in(alpha.admin)

    response = admin.post(f"/organisation/members/{_member_id(alpha, alpha.auditor)}/deactivate/")

    assert response.status_code == 302
    assert not get_user_model().objects.get(pk=alpha.auditor.pk).is_active
    assert not Client().login(username=alpha.auditor.username, password=PASSWORD)
    refused = Client().post("/login/", {"username": alpha.auditor.username, "password": PASSWORD})
    assert refused.status_code == 200 and "_auth_user_id" not in refused.wsgi_request.session
    assert Client().get("/api/v1/cases/", HTTP_AUTHORIZATION=f"Token {secret}").status_code == 401
    [deactivated] = _events(alpha.organisation, "account.deactivated")
    assert (deactivated.actor_label, deactivated.details) == ("alpha-admin", {"account": "alpha-auditor"})

    # And reactivating lets them in again
    admin.post(f"/organisation/members/{_member_id(alpha, alpha.auditor)}/reactivate/")
    assert Client().login(username=alpha.auditor.username, password=PASSWORD)
    assert len(_events(alpha.organisation, "account.reactivated")) == 1


def test_existing_session_of_a_deactivated_member_ends(alpha):
    session = _signed_in(alpha.investigator)
    assert session.get("/dashboard/").status_code == 200

    _signed_in(alpha.admin).post(f"/organisation/members/{_member_id(alpha, alpha.investigator)}/deactivate/")

    response = session.get("/dashboard/")
    assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_account_in_another_organisation_too_is_not_deactivated(alpha, beta):
    # Given beta's auditor who also joined alpha
    invitation = services.invitation_send(
        organisation=alpha.organisation, username=beta.auditor.username, role="auditor", actor=alpha.admin
    )
    services.invitation_accept(invitation=invitation, actor=beta.auditor)

    response = _signed_in(alpha.admin).post(
        f"/organisation/members/{_member_id(alpha, beta.auditor)}/deactivate/", follow=True
    )

    assert "also belongs to other organisations" in response.content.decode()
    assert get_user_model().objects.get(pk=beta.auditor.pk).is_active
    assert not CustodyEvent.objects.filter(action="account.deactivated").exists()


def test_administrators_and_oneself_are_not_deactivated(alpha):
    admin = _signed_in(alpha.admin)
    second_admin = get_user_model().objects.create_user("alpha-admin-2", password=PASSWORD)
    services.membership_set(organisation=alpha.organisation, user=second_admin, role="admin")

    admin.post(f"/organisation/members/{_member_id(alpha, alpha.admin)}/deactivate/")
    admin.post(f"/organisation/members/{_member_id(alpha, second_admin)}/deactivate/")

    assert get_user_model().objects.filter(pk__in=[alpha.admin.pk, second_admin.pk], is_active=True).count() == 2


def test_foreign_administrator_reaches_no_member_of_another_organisation(alpha, beta):
    beta_admin = _signed_in(beta.admin)
    member = _member_id(alpha, alpha.auditor)
    alpha.auditor.email = "auditor@alpha.example"
    alpha.auditor.save()
    ledger = CustodyEvent.objects.count()

    for action in ("deactivate", "reactivate", "password-reset"):
        assert beta_admin.post(f"/organisation/members/{member}/{action}/").status_code == 404
        assert beta_admin.post(f"/api/v1/members/{member}/{action}/").status_code == 404

    assert get_user_model().objects.get(pk=alpha.auditor.pk).is_active
    assert mail.outbox == [] and CustodyEvent.objects.count() == ledger


@pytest.mark.parametrize("role", ["supervisor", "investigator", "auditor"])
def test_only_administrators_deactivate_or_reset(alpha, role):
    client = _signed_in(alpha.member(role))
    member = _member_id(alpha, alpha.auditor if role != "auditor" else alpha.investigator)

    assert client.post(f"/organisation/members/{member}/deactivate/").status_code == 403
    assert client.post(f"/organisation/members/{member}/password-reset/").status_code == 403
    assert get_user_model().objects.filter(is_active=False).count() == 0


def test_api_deactivates_and_reports_the_member_inactive(alpha):
    client = _signed_in(alpha.admin)

    response = client.post(f"/api/v1/members/{_member_id(alpha, alpha.auditor)}/deactivate/")

    assert response.status_code == 200 and response.json()["active"] is False
    conflict = client.post(f"/api/v1/members/{_member_id(alpha, alpha.admin)}/deactivate/")
    assert conflict.status_code == 409


def test_administrator_sends_a_reset_link_that_sets_a_new_password(alpha):
    alpha.investigator.email = "investigator@alpha.example"
    alpha.investigator.save()
    admin = _signed_in(alpha.admin)

    admin.post(f"/organisation/members/{_member_id(alpha, alpha.investigator)}/password-reset/")

    [message] = mail.outbox
    assert message.to == ["investigator@alpha.example"]
    link = re.search(r"https?://[^/\s]+(/password-reset/\S+/)", message.body).group(1)
    [sent] = _events(alpha.organisation, "account.password_reset_sent")
    assert sent.actor_label == "alpha-admin"

    # The holder follows the link and chooses a new password; the old one stops working
    holder = Client()
    form_page = holder.get(link, follow=True)
    assert form_page.status_code == 200 and b"new_password1" in form_page.content
    done = holder.post(form_page.redirect_chain[-1][0], {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert done.status_code == 302
    assert Client().login(username=alpha.investigator.username, password=NEW_PASSWORD)
    assert not Client().login(username=alpha.investigator.username, password=PASSWORD)
    [changed] = _events(alpha.organisation, "account.password_changed")
    assert changed.details == {"account": "alpha-investigator", "how": "reset by e-mail link"}
    # and the link works only once
    assert b"no longer works" in Client().get(link, follow=True).content


def test_reset_for_a_member_without_an_address_says_so_and_sends_nothing(alpha):
    response = _signed_in(alpha.admin).post(
        f"/organisation/members/{_member_id(alpha, alpha.auditor)}/password-reset/", follow=True
    )

    assert "has no e-mail address on record" in response.content.decode()
    assert mail.outbox == [] and not _events(alpha.organisation, "account.password_reset_sent")


def test_forgotten_password_page_answers_alike_and_mails_only_a_real_address(db, alpha):
    alpha.auditor.email = "auditor@alpha.example"
    alpha.auditor.save()

    known = Client().post("/password-reset/", {"email": "auditor@alpha.example"})
    unknown = Client().post("/password-reset/", {"email": "nobody@example.org"})

    assert known.status_code == unknown.status_code == 302
    assert known["Location"] == unknown["Location"] == "/password-reset/sent/"
    assert [m.to for m in mail.outbox] == [["auditor@alpha.example"]]


def test_person_changes_their_own_password_with_the_old_one(alpha):
    client = _signed_in(alpha.supervisor)

    wrong = client.post(
        "/account/password/",
        {"old_password": "wrong", "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    right = client.post(
        "/account/password/",
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )

    assert wrong.status_code == 200 and right.status_code == 302
    assert client.get("/dashboard/").status_code == 200  # this session goes on
    assert Client().login(username=alpha.supervisor.username, password=NEW_PASSWORD)
    [changed] = _events(alpha.organisation, "account.password_changed")
    assert (changed.actor_label, changed.details["how"]) == ("alpha-supervisor", "changed by its holder")


def test_account_creation_keeps_the_address_for_resets(alpha):
    _signed_in(alpha.admin).post(
        "/organisation/accounts/",
        {"username": "newcomer", "email": "new@alpha.example", "password": NEW_PASSWORD, "role": "investigator"},
    )

    assert get_user_model().objects.get(username="newcomer").email == "new@alpha.example"


def test_person_makes_lists_and_revokes_their_own_tokens_on_the_account_page(alpha):
    client = _signed_in(alpha.investigator)

    made = client.post("/account/tokens/", {"name": "import script on the unit laptop"})

    assert made.status_code == 200
    secret = re.search(r'id="new-token">(em_[^<]+)<', made.content.decode()).group(1)
    token = ApiToken.objects.get(user=alpha.investigator)
    assert (token.name, token.organisation) == ("import script on the unit laptop", alpha.organisation)
    assert Client().get("/api/v1/cases/", HTTP_AUTHORIZATION=f"Token {secret}").status_code == 200
    page = client.get("/account/").content.decode()
    assert "import script on the unit laptop" in page and secret not in page  # shown once only

    client.post(f"/account/tokens/{token.pk}/revoke/")

    assert not ApiToken.objects.filter(pk=token.pk).exists()
    assert Client().get("/api/v1/cases/", HTTP_AUTHORIZATION=f"Token {secret}").status_code == 401


def test_nobody_revokes_another_persons_token_from_their_account_page(alpha, beta):
    own, _secret = services.api_token_create(user=alpha.investigator, name="mine")
    foreign, _secret = services.api_token_create(user=beta.investigator, name="theirs")
    client = _signed_in(alpha.admin)  # even an administrator: their own page lists only their own

    assert client.post(f"/account/tokens/{own.pk}/revoke/").status_code == 404
    assert client.post(f"/account/tokens/{foreign.pk}/revoke/").status_code == 404
    assert ApiToken.objects.filter(pk__in=[own.pk, foreign.pk]).count() == 2
    page = client.get("/account/").content.decode()
    assert "mine" not in page and "theirs" not in page


def test_api_makes_a_named_token_of_ones_own_acting_in_the_active_organisation(alpha, beta):
    client = _signed_in(alpha.auditor)

    response = client.post("/api/v1/tokens/", {"name": "nightly export"}, content_type="application/json")

    assert response.status_code == 201
    secret = response.json()["token"]
    token = ApiToken.objects.get(user=alpha.auditor)
    assert (token.name, token.organisation) == ("nightly export", alpha.organisation)
    listed = Client().get("/api/v1/tokens/", HTTP_AUTHORIZATION=f"Token {secret}").json()["results"]
    assert [(t["name"], t["organisation"]) for t in listed] == [("nightly export", "alpha")]
    assert len(_events(alpha.organisation, "api_token.created")) == 1
    assert not _events(beta.organisation, "api_token.created")


def test_over_long_title_is_refused_with_a_message_not_cut(alpha):
    client = _signed_in(alpha.investigator)
    form = client.get("/cases/new/").content.decode()
    assert 'maxlength="200"' not in form  # the browser would cut a pasted title without a word

    response = client.post("/cases/new/", {"title": "x" * 250})

    assert response.status_code in {200, 400}
    assert "The title is 250 characters long; the limit is 200" in response.content.decode()
    assert Case.objects.filter(organisation=alpha.organisation).count() == 1  # only the fixture's
