"""Membership needs consent: an administrator invites, the person accepts or declines. Until then nothing of the
inviting organisation is visible to them, and no membership ever moves the organisation a session or token acts in.
"""

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from cases import services
from cases.models import ApiToken, Case, Invitation, InvitationStatus, Membership
from cases.services import api_token_create
from custody.models import CustodyEvent
from tests.conftest import PASSWORD


def _token(secret: str) -> dict:
    return {"HTTP_AUTHORIZATION": f"Token {secret}"}


def _login(client, user):
    client.login(username=user.username, password=PASSWORD)
    return client


def _case_ids(response) -> set[str]:
    assert response.status_code == 200, response.content[:300]
    return {case["id"] for case in response.json()["results"]}


def _events(organisation, action: str) -> list[CustodyEvent]:
    return list(CustodyEvent.objects.filter(organisation=organisation, action=action).order_by("sequence"))


def _invite(client, username: str, role: str = "investigator"):
    return client.post("/api/v1/invitations/", {"username": username, "role": role}, content_type="application/json")


@pytest.fixture
def victim_client(beta):
    """beta's investigator with an open session, as a browser would hold it."""
    return _login(Client(), beta.investigator)


def test_adding_a_member_of_another_organisation_does_not_move_their_session_or_token(
    client, victim_client, alpha, beta
):
    # Given beta's investigator, with an open session and a token, both acting in beta
    _, secret = api_token_create(user=beta.investigator, name="laptop")
    assert _case_ids(victim_client.get("/api/v1/cases/")) == {str(beta.case.public_id)}

    # When alpha's administrator adds them by username, through the API and the members page
    _login(client, alpha.admin)
    client.post("/api/v1/members/", {"username": beta.investigator.username, "role": "investigator"})
    client.post("/organisation/members/", {"username": beta.investigator.username, "role": "investigator"})

    # Then they are not a member of alpha, and their session and token still act in beta
    assert not Membership.objects.filter(organisation=alpha.organisation, user=beta.investigator).exists()
    assert _case_ids(victim_client.get("/api/v1/cases/")) == {str(beta.case.public_id)}
    assert _case_ids(client.get("/api/v1/cases/", **_token(secret))) == {str(beta.case.public_id)}
    created = victim_client.post("/api/v1/cases/", {"title": "next case"}, content_type="application/json")
    assert Case.objects.get(public_id=created.json()["id"]).organisation == beta.organisation


def test_invited_person_sees_nothing_of_the_organisation_until_they_accept(client, victim_client, alpha, beta):
    # Given alpha's administrator inviting beta's investigator, who holds a token bound to beta
    _, secret = api_token_create(user=beta.investigator, name="laptop")
    _login(client, alpha.admin)
    invited = _invite(client, beta.investigator.username)
    assert invited.status_code == 201

    # Then, before accepting, nothing of alpha is visible and nothing acts in alpha
    assert [m["slug"] for m in victim_client.get("/api/v1/organisations/").json()] == ["beta"]
    assert _case_ids(victim_client.get("/api/v1/cases/")) == {str(beta.case.public_id)}
    assert victim_client.get(f"/api/v1/cases/{alpha.case.public_id}/").status_code == 404
    assert victim_client.post("/organisations/switch/", {"slug": "alpha"}).status_code == 404
    assert victim_client.post("/api/v1/organisations/switch/", {"slug": "alpha"}).status_code == 404
    assert alpha.case.title not in victim_client.get("/cases/").content.decode()
    assert beta.investigator not in alpha.organisation.memberships.values_list("user", flat=True)

    # When they accept the invitation listed for them
    [pending] = victim_client.get("/api/v1/account/invitations/").json()
    assert pending["organisation"] == alpha.organisation.name and pending["role"] == "investigator"
    accepted = victim_client.post(f"/api/v1/account/invitations/{pending['id']}/accept/")

    # Then they are a member of alpha, but the session and token still act in beta until they switch
    assert accepted.status_code == 200, accepted.content
    assert Membership.objects.get(organisation=alpha.organisation, user=beta.investigator).role == "investigator"
    assert _case_ids(victim_client.get("/api/v1/cases/")) == {str(beta.case.public_id)}
    assert _case_ids(client.get("/api/v1/cases/", **_token(secret))) == {str(beta.case.public_id)}
    assert "Unit Beta" in victim_client.get("/cases/").content.decode()
    assert victim_client.post("/organisations/switch/", {"slug": "alpha"}).status_code == 302
    assert _case_ids(victim_client.get("/api/v1/cases/")) == set()  # alpha: they are involved in no case yet


def test_invitations_page_lists_pending_invitations_and_accepts_or_declines(client, alpha, beta, outsider):
    # Given invitations from alpha and beta to someone who belongs to no organisation yet
    alpha_invitation = services.invitation_send(
        organisation=alpha.organisation, username=outsider.username, role="auditor", actor=alpha.admin
    )
    beta_invitation = services.invitation_send(
        organisation=beta.organisation, username=outsider.username, role="investigator", actor=beta.admin
    )
    _login(client, outsider)

    # When they open their invitations page, accept alpha's and decline beta's
    page = client.get("/invitations/").content.decode()
    assert "Unit Alpha" in page and "Unit Beta" in page
    assert client.post(f"/invitations/{alpha_invitation.public_id}/accept/").status_code == 302
    assert client.post(f"/invitations/{beta_invitation.public_id}/decline/").status_code == 302

    # Then they are an auditor of alpha only, acting there, and both invitations are closed and recorded
    assert list(Membership.objects.filter(user=outsider).values_list("organisation__slug", "role")) == [
        ("alpha", "auditor")
    ]
    assert _case_ids(client.get("/api/v1/cases/")) == {str(alpha.case.public_id)}
    assert Invitation.objects.get(pk=alpha_invitation.pk).status == InvitationStatus.ACCEPTED
    assert Invitation.objects.get(pk=beta_invitation.pk).status == InvitationStatus.DECLINED
    assert str(beta_invitation.public_id) not in client.get("/invitations/").content.decode()
    assert _events(alpha.organisation, "invitation.accepted")[-1].actor == outsider
    assert _events(beta.organisation, "invitation.declined")[-1].details["username"] == outsider.username


def test_invite_answers_the_same_for_an_existing_account_and_an_unknown_username(client, alpha, beta, outsider):
    # Given alpha's administrator
    _login(client, alpha.admin)

    # When they invite a member of another organisation, an account in no organisation and an unknown username
    answers = [_invite(client, name) for name in (beta.auditor.username, outsider.username, "no-such-person")]

    # Then each answer has the same status and the same body, apart from the name and the invitation's own id
    assert {answer.status_code for answer in answers} == {201}
    bodies = [answer.json() for answer in answers]
    assert len({tuple(sorted(body)) for body in bodies}) == 1
    comparable = [{k: v for k, v in body.items() if k not in {"id", "username", "created_at"}} for body in bodies]
    assert comparable[0] == comparable[1] == comparable[2]
    assert [body["username"] for body in bodies] == [beta.auditor.username, outsider.username, "no-such-person"]
    # And every one is listed and revocable alike
    listed = client.get("/api/v1/invitations/").json()["results"]
    assert {row["username"] for row in listed} == {beta.auditor.username, outsider.username, "no-such-person"}


def test_role_change_answers_the_same_for_an_account_elsewhere_and_an_unknown_username(client, alpha, beta):
    # Given alpha's administrator using the old "add a member" call
    _login(client, alpha.admin)

    # When they name a member of another organisation and a username that does not exist
    elsewhere = client.post("/api/v1/members/", {"username": beta.auditor.username, "role": "auditor"})
    unknown = client.post("/api/v1/members/", {"username": "no-such-person", "role": "auditor"})

    # Then both are refused alike, without saying whether the account exists
    assert elsewhere.status_code == unknown.status_code == 400
    assert elsewhere.json() == unknown.json()
    assert "does not exist" not in elsewhere.content.decode()


def test_invitation_sent_and_revoked_are_recorded_and_a_revoked_invitation_cannot_be_accepted(client, alpha, beta):
    # Given an invitation from alpha to beta's auditor
    _login(client, alpha.admin)
    invitation_id = _invite(client, beta.auditor.username, role="supervisor").json()["id"]

    # When alpha's administrator revokes it
    revoked = client.post(f"/api/v1/invitations/{invitation_id}/revoke/")

    # Then it is closed, recorded twice in alpha's ledger, and beta's auditor can no longer accept it
    assert revoked.status_code == 200 and revoked.json()["status"] == "revoked"
    sent = _events(alpha.organisation, "invitation.sent")[-1]
    assert sent.actor == alpha.admin
    assert sent.details == {"invitation": invitation_id, "username": beta.auditor.username, "role": "supervisor"}
    assert _events(alpha.organisation, "invitation.revoked")[-1].details["invitation"] == invitation_id
    _login(client, beta.auditor)
    assert client.post(f"/api/v1/account/invitations/{invitation_id}/accept/").status_code == 404
    assert not Membership.objects.filter(organisation=alpha.organisation, user=beta.auditor).exists()


def test_invitation_of_an_unknown_username_is_never_offered_to_an_account_made_later(alpha):
    # Given an invitation for a username nobody holds
    services.invitation_send(organisation=alpha.organisation, username="later", role="admin", actor=alpha.admin)

    # When an account with that name is made afterwards
    later = get_user_model().objects.create_user("later", password=PASSWORD)

    # Then nothing is offered to it
    assert not Invitation.objects.for_invitee(later).exists()


def test_only_administrators_invite_and_revoke(client, alpha, beta):
    invitation = services.invitation_send(
        organisation=alpha.organisation, username=beta.admin.username, role="auditor", actor=alpha.admin
    )
    for role in ("supervisor", "investigator", "auditor"):
        _login(client, alpha.member(role))
        assert _invite(client, beta.auditor.username).status_code == 403
        assert client.post(f"/api/v1/invitations/{invitation.public_id}/revoke/").status_code == 403
    assert Invitation.objects.filter(organisation=alpha.organisation).count() == 1
    assert Invitation.objects.get(pk=invitation.pk).status == InvitationStatus.PENDING


def test_foreign_administrator_cannot_revoke_and_another_person_cannot_accept(client, alpha, beta):
    # Given alpha's invitation to beta's auditor
    invitation = services.invitation_send(
        organisation=alpha.organisation, username=beta.auditor.username, role="admin", actor=alpha.admin
    )
    ledger = CustodyEvent.objects.filter(organisation=alpha.organisation).count()

    # When beta's administrator tries to revoke it, and beta's investigator to accept or decline it
    _login(client, beta.admin)
    revoke_api = client.post(f"/api/v1/invitations/{invitation.public_id}/revoke/")
    revoke_page = client.post(f"/organisation/invitations/{invitation.public_id}/revoke/")
    _login(client, beta.investigator)
    accept_api = client.post(f"/api/v1/account/invitations/{invitation.public_id}/accept/")
    accept_page = client.post(f"/invitations/{invitation.public_id}/accept/")
    decline_api = client.post(f"/api/v1/account/invitations/{invitation.public_id}/decline/")

    # Then every attempt is a 404 and nothing changed
    assert {r.status_code for r in (revoke_api, revoke_page, accept_api, accept_page, decline_api)} == {404}
    assert Invitation.objects.get(pk=invitation.pk).status == InvitationStatus.PENDING
    assert not Membership.objects.filter(organisation=alpha.organisation, user=beta.investigator).exists()
    assert CustodyEvent.objects.filter(organisation=alpha.organisation).count() == ledger


def test_administrator_creates_an_account_whose_only_membership_is_their_organisation(client, alpha):
    # Given alpha's administrator
    _login(client, alpha.admin)

    # When they create an account through the API and another through the members page
    made = client.post(
        "/api/v1/accounts/",
        {"username": "new-caseworker", "password": "a long fresh passphrase 42", "role": "investigator"},
        content_type="application/json",
    )
    page = client.post(
        "/organisation/accounts/",
        {"username": "new-auditor", "password": "another long passphrase 43", "role": "auditor"},
    )

    # Then each account exists with exactly one membership, in alpha, can sign in, and is recorded
    assert made.status_code == 201, made.content
    assert made.json()["username"] == "new-caseworker" and made.json()["role"] == "investigator"
    assert page.status_code == 302
    for username, role in (("new-caseworker", "investigator"), ("new-auditor", "auditor")):
        user = get_user_model().objects.get(username=username)
        assert list(user.memberships.values_list("organisation__slug", "role")) == [("alpha", role)]
        created = [e for e in _events(alpha.organisation, "account.created") if e.details["username"] == username]
        assert created and created[0].actor == alpha.admin and created[0].details["role"] == role
    assert client.login(username="new-caseworker", password="a long fresh passphrase 42")


def test_account_creation_refuses_a_taken_username_and_a_weak_password(client, alpha, beta):
    _login(client, alpha.admin)
    taken = client.post(
        "/api/v1/accounts/",
        {"username": beta.admin.username, "password": "a long fresh passphrase 42", "role": "auditor"},
        content_type="application/json",
    )
    weak = client.post(
        "/api/v1/accounts/", {"username": "weak", "password": "123", "role": "auditor"}, content_type="application/json"
    )
    assert taken.status_code == weak.status_code == 400
    assert not Membership.objects.filter(organisation=alpha.organisation, user=beta.admin).exists()
    assert not get_user_model().objects.filter(username="weak").exists()


def test_session_without_a_choice_acts_in_the_earliest_joined_organisation_not_the_first_by_name(client, alpha):
    # Given a person who joined "Zulu" first and alpha ("Unit Alpha", first by name) later
    zulu = services.organisation_create(name="Zulu Legal Aid", slug="zulu", kind="legal_aid")
    person = get_user_model().objects.create_user("volunteer", password=PASSWORD)
    services.membership_set(organisation=zulu, user=person, role="admin")
    services.membership_set(organisation=alpha.organisation, user=person, role="auditor")

    # When they sign in and never choose
    _login(client, person)

    # Then they act in Zulu, where they joined first
    assert client.get("/api/v1/members/").status_code == 200  # admin in Zulu; an auditor in alpha would get 403
    mine = {m["slug"]: m["active"] for m in client.get("/api/v1/organisations/").json()}
    assert mine == {"zulu": True, "alpha": False}


def test_token_is_bound_to_the_organisation_it_was_created_for(client, alpha, beta):
    # Given a token made for beta's auditor, who then accepts an invitation from alpha
    token, secret = api_token_create(user=beta.auditor, name="cli")
    assert token.organisation == beta.organisation
    invitation = services.invitation_send(
        organisation=alpha.organisation, username=beta.auditor.username, role="admin", actor=alpha.admin
    )
    services.invitation_accept(invitation=invitation, actor=beta.auditor)

    # Then the token still acts in beta, whatever the organisations' names
    assert ApiToken.objects.get(pk=token.pk).organisation == beta.organisation
    assert _case_ids(client.get("/api/v1/cases/", **_token(secret))) == {str(beta.case.public_id)}


def test_token_of_a_person_in_no_organisation_acts_nowhere_even_after_they_join(client, alpha, outsider):
    # Given a token made while its owner belonged to no organisation
    _, secret = api_token_create(user=outsider, name="cli")
    invitation = services.invitation_send(
        organisation=alpha.organisation, username=outsider.username, role="auditor", actor=alpha.admin
    )

    # When they accept an invitation with that very token
    assert (
        client.post(f"/api/v1/account/invitations/{invitation.public_id}/accept/", **_token(secret)).status_code == 200
    )

    # Then the token still acts nowhere until it is switched
    assert client.get("/api/v1/cases/", **_token(secret)).status_code == 403
    assert client.post("/api/v1/organisations/switch/", {"slug": "alpha"}, **_token(secret)).status_code == 200
    assert _case_ids(client.get("/api/v1/cases/", **_token(secret))) == {str(alpha.case.public_id)}
