"""Renaming API tokens: each person renames their own, on their account page and with PATCH tokens/{id}/; the
rename is in the ledger with the old and new name; anyone else's token, in the same organisation or another, is a
404 that changes nothing; an empty or over-long name is refused with a message and changes nothing."""

import pytest

from cases import services
from cases.exceptions import Refused
from cases.models import ApiToken
from custody.models import CustodyEvent
from tests.conftest import PASSWORD


def _auth(secret):
    return {"HTTP_AUTHORIZATION": f"Token {secret}"}


def _ledger_sizes(*tenants):
    return {t.organisation.slug: CustodyEvent.objects.filter(organisation=t.organisation).count() for t in tenants}


def _renames(tenant):
    return list(
        CustodyEvent.objects.filter(organisation=tenant.organisation, action="api_token.renamed").values_list(
            "actor__username", "details"
        )
    )


def test_member_renames_their_own_token_through_the_api_and_it_is_recorded(client, alpha):
    # Given alpha's investigator with a token
    token, secret = services.api_token_create(user=alpha.investigator, name="laptop")

    # When they rename it
    response = client.patch(
        f"/api/v1/tokens/{token.pk}/", {"name": "  import script  "}, content_type="application/json", **_auth(secret)
    )

    # Then it has the new name (spaces dropped), still works, and the ledger has who renamed it from what to what
    assert response.status_code == 200
    assert (response.json()["id"], response.json()["name"]) == (token.pk, "import script")
    assert ApiToken.objects.get(pk=token.pk).name == "import script"
    assert _renames(alpha) == [("alpha-investigator", {"token": token.prefix, "from": "laptop", "to": "import script"})]
    assert client.get("/api/v1/cases/", **_auth(secret)).status_code == 200


def test_member_renames_their_own_token_on_the_account_page(client, alpha):
    token, _ = services.api_token_create(user=alpha.auditor, name="reading room")
    client.login(username=alpha.auditor.username, password=PASSWORD)
    page = client.get("/account/").content.decode()
    assert f'action="/account/tokens/{token.pk}/rename/"' in page

    response = client.post(f"/account/tokens/{token.pk}/rename/", {"name": "archive laptop"}, follow=True)

    assert response.redirect_chain == [("/account/", 302)]
    assert f"Token {token.prefix}… is now named archive laptop." in response.content.decode()
    assert ApiToken.objects.get(pk=token.pk).name == "archive laptop"
    assert _renames(alpha) == [
        ("alpha-auditor", {"token": token.prefix, "from": "reading room", "to": "archive laptop"})
    ]


def test_the_same_name_again_records_nothing(client, alpha):
    token, secret = services.api_token_create(user=alpha.investigator, name="laptop")
    before = _ledger_sizes(alpha)

    response = client.patch(
        f"/api/v1/tokens/{token.pk}/", {"name": "laptop"}, content_type="application/json", **_auth(secret)
    )

    assert response.status_code == 200 and _ledger_sizes(alpha) == before


def test_a_colleagues_token_is_404_to_rename_even_for_an_administrator_and_nothing_changes(client, alpha):
    # Given a token of alpha's investigator, which alpha's administrator may list and revoke
    token, secret = services.api_token_create(user=alpha.investigator, name="laptop")
    client.login(username=alpha.admin.username, password=PASSWORD)
    assert token.pk in {row["id"] for row in client.get("/api/v1/tokens/").json()["results"]}
    before = _ledger_sizes(alpha)

    # When the administrator tries to rename it through the API and through the account page
    api = client.patch(f"/api/v1/tokens/{token.pk}/", {"name": "mine now"}, content_type="application/json")
    page = client.post(f"/account/tokens/{token.pk}/rename/", {"name": "mine now"})

    # Then a name is only its holder's to give: 404 as for a missing token, and nothing changed
    assert (api.status_code, page.status_code) == (404, 404)
    assert api.json()["code"] == "not_found"
    assert ApiToken.objects.get(pk=token.pk).name == "laptop"
    assert _ledger_sizes(alpha) == before
    assert client.get("/api/v1/cases/", **_auth(secret)).status_code == 200


def test_a_foreign_organisations_token_is_404_to_rename_and_nothing_changes(client, alpha, beta):
    foreign, _ = services.api_token_create(user=beta.investigator, name="beta laptop")
    _, secret = services.api_token_create(user=alpha.admin, name="admin laptop")
    client.login(username=alpha.admin.username, password=PASSWORD)
    before = _ledger_sizes(alpha, beta)

    api = client.patch(
        f"/api/v1/tokens/{foreign.pk}/", {"name": "taken"}, content_type="application/json", **_auth(secret)
    )
    page = client.post(f"/account/tokens/{foreign.pk}/rename/", {"name": "taken"})

    assert (api.status_code, page.status_code) == (404, 404)
    assert api.json()["detail"].startswith("There is no API token at this address that you can see.")
    assert ApiToken.objects.get(pk=foreign.pk).name == "beta laptop"
    assert _ledger_sizes(alpha, beta) == before


@pytest.mark.parametrize("name", ["", "   ", "x" * 101])
def test_an_empty_or_over_long_name_is_refused_through_the_api_with_a_message(client, alpha, name):
    token, secret = services.api_token_create(user=alpha.investigator, name="laptop")
    before = _ledger_sizes(alpha)

    response = client.patch(
        f"/api/v1/tokens/{token.pk}/", {"name": name}, content_type="application/json", **_auth(secret)
    )

    body = response.json()
    assert response.status_code == 400 and body["code"] == "invalid"
    assert body["errors"]["name"] and body["errors"]["name"][0]  # what is wrong with it, in words
    assert ApiToken.objects.get(pk=token.pk).name == "laptop"
    assert _ledger_sizes(alpha) == before


@pytest.mark.parametrize(
    "name,message", [("", "This field is required."), ("x" * 101, "at most 100 characters (it has 101)")]
)
def test_an_empty_or_over_long_name_is_refused_on_the_account_page_with_a_message(client, alpha, name, message):
    token, _ = services.api_token_create(user=alpha.investigator, name="laptop")
    client.login(username=alpha.investigator.username, password=PASSWORD)
    before = _ledger_sizes(alpha)

    response = client.post(f"/account/tokens/{token.pk}/rename/", {"name": name})

    page = response.content.decode()
    assert response.status_code == 400
    assert f"Token laptop ({token.prefix}…) was not renamed:" in page and message in page
    assert ApiToken.objects.get(pk=token.pk).name == "laptop"
    assert _ledger_sizes(alpha) == before


@pytest.mark.parametrize(
    "name,message",
    [("  ", "A token needs a name"), ("x" * 101, "The name is 101 characters long; the limit is 100.")],
)
def test_the_service_itself_refuses_an_empty_or_over_long_name(alpha, name, message):
    token, _ = services.api_token_create(user=alpha.investigator, name="laptop")

    with pytest.raises(Refused, match=message):
        services.api_token_rename(token=token, name=name, actor=alpha.investigator)

    assert ApiToken.objects.get(pk=token.pk).name == "laptop" and not _renames(alpha)


def test_the_service_renames_only_for_the_tokens_holder(alpha):
    token, _ = services.api_token_create(user=alpha.investigator, name="laptop")

    with pytest.raises(ValueError):
        services.api_token_rename(token=token, name="mine", actor=alpha.admin)

    assert ApiToken.objects.get(pk=token.pk).name == "laptop"
