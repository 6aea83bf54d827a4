"""Token authentication: secrets are never stored, and the membership (not the token) decides the organisation."""

from cases import services
from cases.api.authentication import api_token_create
from cases.models import ApiToken


def _auth(secret):
    return {"HTTP_AUTHORIZATION": f"Token {secret}"}


def test_token_authenticates_and_only_its_hash_is_stored(client, alpha):
    token, secret = api_token_create(user=alpha.investigator, name="laptop")
    response = client.get("/api/v1/cases/", **_auth(secret))
    assert response.status_code == 200
    assert response.json()["results"][0]["id"] == str(alpha.case.public_id)
    stored = ApiToken.objects.filter(pk=token.pk).values().get()
    assert secret not in str(stored)
    assert stored["last_used_at"] is not None


def test_wrong_token_is_refused(client, alpha):
    api_token_create(user=alpha.investigator, name="laptop")
    assert client.get("/api/v1/cases/", **_auth("em_not-a-real-token")).status_code == 401


def test_token_switches_organisation_only_where_its_user_is_a_member(client, alpha, beta):
    # Given a caseworker in both organisations with a token
    services.membership_set(organisation=beta.organisation, user=alpha.investigator, role="investigator")
    _, secret = api_token_create(user=alpha.investigator, name="cli", organisation=alpha.organisation)
    mine = client.get("/api/v1/organisations/", **_auth(secret)).json()
    assert {m["slug"]: m["active"] for m in mine} == {"alpha": True, "beta": False}

    # When the token is switched to beta
    switched = client.post("/api/v1/organisations/switch/", {"slug": "beta"}, **_auth(secret))

    # Then requests act in beta, where this investigator created nothing and is assigned nothing
    assert switched.status_code == 200
    assert client.get("/api/v1/cases/", **_auth(secret)).json()["results"] == []
    assert client.get(f"/api/v1/cases/{alpha.case.public_id}/", **_auth(secret)).status_code == 404


def test_token_cannot_switch_to_a_foreign_organisation(client, alpha, beta):
    _, secret = api_token_create(user=alpha.investigator, name="cli")
    assert client.post("/api/v1/organisations/switch/", {"slug": "beta"}, **_auth(secret)).status_code == 404
    assert client.get("/api/v1/cases/", **_auth(secret)).json()["results"][0]["id"] == str(alpha.case.public_id)


def test_token_of_a_removed_member_reaches_nothing(client, alpha):
    _, secret = api_token_create(user=alpha.auditor, name="cli", organisation=alpha.organisation)
    services.membership_remove(membership=alpha.organisation.memberships.get(user=alpha.auditor))
    assert client.get("/api/v1/cases/", **_auth(secret)).status_code == 403
