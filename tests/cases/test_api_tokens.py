"""Token authentication: secrets are never stored, and the membership (not the token) decides the organisation."""

import importlib
import io

from django.apps import apps as django_apps
from django.contrib.auth import get_user_model
from django.core.management import call_command

from cases import services
from cases.models import ApiToken
from cases.services import api_token_create
from custody.models import CustodyEvent
from tests.conftest import PASSWORD


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


def test_token_creation_and_activation_are_recorded_in_the_ledger(client, alpha, beta):
    # Given a caseworker in both organisations who gets a token for a password
    services.membership_set(organisation=beta.organisation, user=alpha.investigator, role="investigator")
    made = client.post(
        "/api/v1/auth/token/",
        {"username": alpha.investigator.username, "password": PASSWORD, "name": "laptop"},
        content_type="application/json",
    )
    secret = made.json()["token"]
    token = ApiToken.objects.get(prefix=made.json()["prefix"])

    # When they switch the token to beta
    client.post("/api/v1/organisations/switch/", {"slug": "beta"}, **_auth(secret))

    # Then alpha's ledger records the token made there and beta's the token now acting there, never the secret
    [created] = CustodyEvent.objects.filter(organisation=alpha.organisation, action="api_token.created")
    assert created.actor == alpha.investigator
    assert created.details == {"token": token.prefix, "name": "laptop"}
    [activated] = CustodyEvent.objects.filter(organisation=beta.organisation, action="api_token.activated")
    assert activated.actor == alpha.investigator
    assert activated.details == {"token": token.prefix, "name": "laptop", "from": "alpha"}
    assert secret not in str(created.details) + str(activated.details)


def test_token_made_on_the_server_is_bound_and_recorded(alpha):
    call_command("create_api_token", user=alpha.auditor.username, org="alpha", name="ingest", stdout=io.StringIO())
    token = ApiToken.objects.get(user=alpha.auditor)
    assert token.organisation == alpha.organisation
    assert CustodyEvent.objects.filter(organisation=alpha.organisation, action="api_token.created").count() == 1


def test_binding_migration_binds_tokens_where_they_acted_and_reverses_to_the_old_resolution(alpha, beta):
    # Given tokens as stored before binding: unbound, or naming an organisation their owner has left since
    migration = importlib.import_module("cases.migrations.0006_bind_api_tokens_to_their_organisation")
    services.membership_set(organisation=beta.organisation, user=alpha.auditor, role="auditor")
    unbound, _ = api_token_create(user=alpha.auditor, name="old")
    stale, _ = api_token_create(user=alpha.admin, name="stale")
    nowhere, _ = api_token_create(user=get_user_model().objects.create_user("nobody"), name="none")
    ApiToken.objects.filter(pk=unbound.pk).update(organisation=None)
    ApiToken.objects.filter(pk=stale.pk).update(organisation=beta.organisation)

    # When the data migration runs
    migration.api_tokens_bind(django_apps, None)

    # Then each token is bound to where the old resolution made it act: the first membership by name
    assert dict(ApiToken.objects.values_list("name", "organisation__slug")) == {
        "old": "alpha",
        "stale": "alpha",
        "none": None,
    }

    # And reversed, a token bound where the old resolution would act anyway is unbound again
    migration.api_tokens_unbind(django_apps, None)
    assert dict(ApiToken.objects.values_list("name", "organisation__slug")) == {
        "old": None,
        "stale": None,
        "none": None,
    }
