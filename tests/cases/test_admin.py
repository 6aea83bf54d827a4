"""The Django admin shows staff only their own organisations' records, and writes nothing: every domain write
goes through a service and into the custody ledger, and the admin is no side door around them."""

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.test import RequestFactory

from cases.models import ApiToken, Case, EvidenceItem, Membership, Organisation
from cases.services import api_token_create
from custody.models import Checkpoint, CustodyEvent, ReviewSignOff
from tests.conftest import PASSWORD
from tests.second_factor import enrol, sign_in_with_code

DOMAIN_APPS = {"cases", "custody", "forensics", "reports"}


@pytest.fixture
def superuser(db):
    return get_user_model().objects.create_superuser("root", password=PASSWORD)


@pytest.fixture
def root_client(client, superuser):
    key, _codes = enrol(superuser)
    sign_in_with_code(client, superuser, key)
    return client


def _staff_client(client, staff):
    """Staff sign in to the admin with their second factor, as they must."""
    key, _codes = enrol(staff)
    sign_in_with_code(client, staff, key)
    return client


def _ledger_size() -> int:
    return CustodyEvent.objects.count()


def test_every_domain_admin_is_read_only_even_for_a_superuser(superuser):
    # Given every admin registered for a model of the four domain apps, and a superuser's request
    request = RequestFactory().get("/admin/")
    request.user = superuser
    registered = {
        model: model_admin
        for model, model_admin in admin.site._registry.items()
        if model._meta.app_label in DOMAIN_APPS
    }
    assert {Organisation, Membership, ApiToken, Case, EvidenceItem, CustodyEvent, Checkpoint, ReviewSignOff} <= set(
        registered
    )

    # Then none of them may add, change or delete, nor offers the bulk delete action: no admin of these apps
    # routes its writes through a service, so each must be read-only
    writable = [
        f"{model._meta.label} ({type(model_admin).__name__})"
        for model, model_admin in registered.items()
        if model_admin.has_add_permission(request)
        or model_admin.has_change_permission(request)
        or model_admin.has_delete_permission(request)
        or "delete_selected" in model_admin.get_actions(request)
    ]
    assert not writable, f"writable admins that bypass the services: {writable}"


def test_superuser_cannot_change_an_organisations_retention_policy(root_client, alpha):
    before = _ledger_size()
    url = f"/admin/cases/organisation/{alpha.organisation.pk}/change/"
    assert root_client.get(url).status_code == 200  # viewing is allowed

    response = root_client.post(
        url,
        {"name": "Renamed", "slug": alpha.organisation.slug, "kind": "legal_aid", "retention_policy": "privacy_first"},
    )

    assert response.status_code == 403
    alpha.organisation.refresh_from_db()
    assert (alpha.organisation.name, alpha.organisation.retention_policy) == ("Unit Alpha", "keep")
    assert _ledger_size() == before


def test_superuser_cannot_add_or_delete_organisations(root_client, alpha):
    before = (Organisation.objects.count(), _ledger_size())

    added = root_client.post("/admin/cases/organisation/add/", {"name": "Shadow", "slug": "shadow"})
    deleted = root_client.post(f"/admin/cases/organisation/{alpha.organisation.pk}/delete/", {"post": "yes"})

    assert (added.status_code, deleted.status_code) == (403, 403)
    assert (Organisation.objects.count(), _ledger_size()) == before


def test_superuser_cannot_demote_or_remove_the_last_administrator(root_client, alpha):
    membership = alpha.organisation.memberships.get(user=alpha.admin)
    before = _ledger_size()

    demoted = root_client.post(
        f"/admin/cases/membership/{membership.pk}/change/",
        {"user": alpha.admin.pk, "organisation": alpha.organisation.pk, "role": "auditor"},
    )
    removed = root_client.post(f"/admin/cases/membership/{membership.pk}/delete/", {"post": "yes"})
    added = root_client.post(
        "/admin/cases/membership/add/",
        {"user": alpha.auditor.pk, "organisation": alpha.organisation.pk, "role": "admin"},
    )

    assert (demoted.status_code, removed.status_code, added.status_code) == (403, 403, 403)
    membership.refresh_from_db()
    assert membership.role == "admin"
    assert alpha.organisation.memberships.get(user=alpha.auditor).role == "auditor"
    assert _ledger_size() == before


def test_superuser_cannot_edit_or_delete_api_tokens(root_client, alpha, beta):
    token, _ = api_token_create(user=alpha.investigator, name="laptop", organisation=alpha.organisation)
    before = _ledger_size()

    moved = root_client.post(
        f"/admin/cases/apitoken/{token.pk}/change/",
        {"name": "moved", "user": alpha.investigator.pk, "organisation": beta.organisation.pk},
    )
    deleted = root_client.post(f"/admin/cases/apitoken/{token.pk}/delete/", {"post": "yes"})

    assert (moved.status_code, deleted.status_code) == (403, 403)
    token.refresh_from_db()
    assert (token.name, token.organisation) == ("laptop", alpha.organisation)
    assert _ledger_size() == before


def test_superuser_bulk_delete_action_deletes_nothing(root_client, alpha):
    before = (Case.objects.count(), Membership.objects.count(), _ledger_size())

    for changelist, pk in (("case", alpha.case.pk), ("membership", alpha.organisation.memberships.first().pk)):
        root_client.post(
            f"/admin/cases/{changelist}/", {"action": "delete_selected", "_selected_action": [pk], "post": "yes"}
        )

    assert (Case.objects.count(), Membership.objects.count(), _ledger_size()) == before


def test_staff_sees_only_their_organisations_cases_and_cannot_edit_them(client, alpha, beta):
    staff = alpha.admin
    staff.is_staff = True
    staff.save()
    staff.user_permissions.set(Permission.objects.filter(content_type__app_label="cases"))
    _staff_client(client, staff)

    changelist = client.get("/admin/cases/case/").content.decode()
    assert alpha.case.reference in changelist
    assert beta.case.title not in changelist
    assert client.get(f"/admin/cases/case/{beta.case.pk}/change/").status_code == 302  # "doesn't exist"
    assert client.post(f"/admin/cases/case/{alpha.case.pk}/change/", {"title": "x"}).status_code == 403
    assert client.get("/admin/cases/case/add/").status_code == 403


def test_staff_sees_only_their_own_api_tokens(client, alpha):
    staff = alpha.admin
    staff.is_staff = True
    staff.save()
    staff.user_permissions.set(Permission.objects.filter(codename="view_apitoken"))
    api_token_create(user=alpha.admin, name="admin laptop", organisation=alpha.organisation)
    api_token_create(user=alpha.investigator, name="investigator phone", organisation=alpha.organisation)
    _staff_client(client, staff)

    changelist = client.get("/admin/cases/apitoken/").content.decode()

    assert "admin laptop" in changelist
    assert "investigator phone" not in changelist


def test_last_administrator_cannot_be_removed_or_demoted(client, alpha):
    client.login(username=alpha.admin.username, password=PASSWORD)
    membership = alpha.organisation.memberships.get(user=alpha.admin)
    response = client.post("/api/v1/members/", {"username": alpha.admin.username, "role": "auditor"})
    assert response.status_code == 409
    assert "at least one administrator" in response.json()["detail"]
    assert client.delete(f"/api/v1/members/{membership.public_id}/").status_code == 409
    membership.refresh_from_db()
    assert membership.role == "admin"
