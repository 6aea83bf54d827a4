"""Revoking API tokens: a member lists and revokes their own, an administrator the organisation's; a revoked token
authenticates nowhere, the revocation is in the ledger, and a foreign organisation's token is a 404 that changes
nothing."""

from cases import services
from cases.models import ApiToken
from custody.models import CustodyEvent
from tests.conftest import PASSWORD


def _auth(secret):
    return {"HTTP_AUTHORIZATION": f"Token {secret}"}


def _ledger_sizes(*tenants):
    return {t.organisation.slug: CustodyEvent.objects.filter(organisation=t.organisation).count() for t in tenants}


def test_member_lists_only_their_own_tokens_and_never_a_secret(client, alpha):
    # Given tokens of alpha's investigator and of alpha's auditor
    mine, secret = services.api_token_create(user=alpha.investigator, name="laptop")
    services.api_token_create(user=alpha.auditor, name="auditor's phone")

    # When the investigator lists tokens
    listed = client.get("/api/v1/tokens/", **_auth(secret))

    # Then only their own is listed, named, and neither its secret nor its hash appears
    assert listed.status_code == 200
    [row] = listed.json()["results"]
    assert (row["id"], row["name"], row["prefix"], row["user"]) == (
        mine.pk,
        "laptop",
        mine.prefix,
        "alpha-investigator",
    )
    assert secret not in listed.content.decode() and mine.key_hash not in listed.content.decode()


def test_administrator_lists_every_token_of_their_organisation_and_none_of_another(client, alpha, beta):
    _, secret = services.api_token_create(user=alpha.admin, name="admin laptop")
    services.api_token_create(user=alpha.investigator, name="investigator phone")
    services.api_token_create(user=beta.investigator, name="beta phone")

    names = {row["name"] for row in client.get("/api/v1/tokens/", **_auth(secret)).json()["results"]}

    assert names == {"admin laptop", "investigator phone"}


def test_member_revokes_their_own_token_which_is_recorded_and_refused_afterwards(client, alpha):
    # Given alpha's investigator with two tokens, one of them lost
    token, lost = services.api_token_create(user=alpha.investigator, name="lost phone")
    _, kept = services.api_token_create(user=alpha.investigator, name="laptop")

    # When they revoke the lost one with the other
    response = client.delete(f"/api/v1/tokens/{token.pk}/", **_auth(kept))

    # Then it is gone, the ledger records who revoked whose token (never a secret), and it authenticates nowhere
    assert response.status_code == 204
    assert not ApiToken.objects.filter(pk=token.pk).exists()
    [revoked] = CustodyEvent.objects.filter(organisation=alpha.organisation, action="api_token.revoked")
    assert revoked.actor == alpha.investigator
    assert revoked.details == {"token": token.prefix, "name": "lost phone", "holder": "alpha-investigator"}
    assert lost not in str(revoked.details)
    assert client.get("/api/v1/cases/", **_auth(lost)).status_code == 401
    assert client.get("/api/v1/tokens/", **_auth(lost)).status_code == 401
    assert client.get("/api/v1/cases/", **_auth(kept)).status_code == 200


def test_a_token_can_revoke_itself(client, alpha):
    token, secret = services.api_token_create(user=alpha.auditor, name="cli")
    assert client.delete(f"/api/v1/tokens/{token.pk}/", **_auth(secret)).status_code == 204
    assert client.get("/api/v1/cases/", **_auth(secret)).status_code == 401


def test_member_cannot_revoke_a_colleagues_token(client, alpha):
    # Given a token of alpha's supervisor, and alpha's investigator signed in
    colleagues, colleagues_secret = services.api_token_create(user=alpha.supervisor, name="desk")
    client.login(username=alpha.investigator.username, password=PASSWORD)
    before = _ledger_sizes(alpha)

    # When the investigator tries to revoke it
    response = client.delete(f"/api/v1/tokens/{colleagues.pk}/")

    # Then it is not theirs to see: 404, and nothing changed
    assert response.status_code == 404
    assert ApiToken.objects.filter(pk=colleagues.pk).exists()
    assert _ledger_sizes(alpha) == before
    assert client.get("/api/v1/cases/", **_auth(colleagues_secret)).status_code == 200


def test_administrator_revokes_a_members_token(client, alpha):
    token, secret = services.api_token_create(user=alpha.investigator, name="laptop")
    client.login(username=alpha.admin.username, password=PASSWORD)

    assert client.delete(f"/api/v1/tokens/{token.pk}/").status_code == 204

    [revoked] = CustodyEvent.objects.filter(organisation=alpha.organisation, action="api_token.revoked")
    assert revoked.actor == alpha.admin and revoked.details["holder"] == "alpha-investigator"
    assert client.get("/api/v1/cases/", **_auth(secret)).status_code == 401


def test_foreign_organisation_token_is_404_and_nothing_changes(client, alpha, beta):
    # Given a token of beta's investigator, and alpha's administrator signed in
    foreign, foreign_secret = services.api_token_create(user=beta.investigator, name="beta laptop")
    client.login(username=alpha.admin.username, password=PASSWORD)
    before = _ledger_sizes(alpha, beta)

    # When alpha's administrator tries to revoke it through the API and through the members page
    api = client.delete(f"/api/v1/tokens/{foreign.pk}/")
    page = client.post(f"/organisation/tokens/{foreign.pk}/revoke/")

    # Then both answer 404 as for a missing token, and the token, both ledgers and its use are unchanged
    assert (api.status_code, page.status_code) == (404, 404)
    assert ApiToken.objects.filter(pk=foreign.pk, organisation=beta.organisation).exists()
    assert _ledger_sizes(alpha, beta) == before
    assert client.get("/api/v1/cases/", **_auth(foreign_secret)).status_code == 200


def test_administrator_revokes_a_token_on_the_members_page(client, alpha):
    # Given a token of alpha's auditor, and alpha's administrator on the members page
    token, secret = services.api_token_create(user=alpha.auditor, name="reading room")
    client.login(username=alpha.admin.username, password=PASSWORD)
    page = client.get("/organisation/members/").content.decode()
    assert "reading room" in page and token.prefix in page
    assert f'action="/organisation/tokens/{token.pk}/revoke/"' in page

    # When they revoke it there
    response = client.post(f"/organisation/tokens/{token.pk}/revoke/", follow=True)

    # Then it is gone, recorded, refused, and the page says so
    assert response.redirect_chain == [("/organisation/members/", 302)]
    assert "reading room" in response.content.decode()  # the confirmation names it
    assert not ApiToken.objects.filter(pk=token.pk).exists()
    assert CustodyEvent.objects.filter(organisation=alpha.organisation, action="api_token.revoked").count() == 1
    assert client.get("/api/v1/cases/", **_auth(secret)).status_code == 401


def test_only_administrators_revoke_on_the_members_page(client, alpha):
    token, _ = services.api_token_create(user=alpha.supervisor, name="desk")
    client.login(username=alpha.supervisor.username, password=PASSWORD)
    assert client.post(f"/organisation/tokens/{token.pk}/revoke/").status_code == 403
    assert ApiToken.objects.filter(pk=token.pk).exists()


def test_revoking_a_token_already_revoked_records_nothing_more(alpha):
    token, _ = services.api_token_create(user=alpha.investigator, name="laptop")
    services.api_token_revoke(token=token, actor=alpha.investigator)
    services.api_token_revoke(token=token, actor=alpha.admin)
    assert CustodyEvent.objects.filter(organisation=alpha.organisation, action="api_token.revoked").count() == 1


def test_members_page_shows_each_form_once(client, alpha):
    client.login(username=alpha.admin.username, password=PASSWORD)
    page = client.get("/organisation/members/").content.decode()
    assert page.count('action="/organisation/invitations/"') == 1
    assert page.count('action="/organisation/accounts/"') == 1
    assert page.count('id="tokens-heading"') == 1
    title = page[page.index("<title>") + len("<title>") : page.index("</title>")]
    assert title.startswith("Members") and "<" not in title
