"""Who sets the retention policy, places legal holds and deletes media by hand, on the pages and in the API."""

import pytest
from django.core.files.storage import storages

from cases import services
from cases.models import Case, EvidenceItem, Organisation
from custody.models import CustodyEvent
from tests.conftest import PASSWORD, jpeg_bytes, received

ROLES = [("admin", True), ("supervisor", False), ("investigator", False), ("auditor", False)]
MANAGERS = [("admin", True), ("supervisor", True), ("investigator", False), ("auditor", False)]


def _login(client, user):
    client.login(username=user.username, password=PASSWORD)


@pytest.mark.parametrize("role,allowed", ROLES)
def test_only_the_administrator_sets_the_retention_policy(client, alpha, role, allowed):
    _login(client, alpha.member(role))

    page = client.get("/organisation/settings/")
    posted = client.post("/organisation/settings/", {"policy": "after_days", "days": "45"})
    api = client.put("/api/v1/organisation/retention/", {"policy": "privacy_first"}, content_type="application/json")

    organisation = Organisation.objects.get(pk=alpha.organisation.pk)
    assert page.status_code == (200 if allowed else 403)
    assert posted.status_code == (302 if allowed else 403)
    assert api.status_code == (200 if allowed else 403)
    assert (organisation.retention_policy, organisation.retention_days) == (
        ("privacy_first", 45) if allowed else ("keep", 90)
    )
    changes = CustodyEvent.objects.filter(organisation=alpha.organisation, action="retention.changed")
    assert changes.count() == (2 if allowed else 0)


def test_settings_page_shows_the_policy_and_refuses_after_days_without_days(client, alpha):
    _login(client, alpha.admin)

    refused = client.post("/organisation/settings/", {"policy": "after_days", "days": ""})
    client.post("/organisation/settings/", {"policy": "after_days", "days": "14"})
    page = client.get("/organisation/settings/").content.decode()

    assert refused.status_code == 400
    assert "Delete media 14 days after analysis" in page
    assert client.get("/api/v1/organisation/retention/").json() == {
        "kind": "law_enforcement",
        "policy": "after_days",
        "days": 14,
        "summary": "Delete media 14 days after analysis",
    }


@pytest.mark.parametrize("role,allowed", MANAGERS)
def test_legal_hold_is_placed_by_those_who_manage_the_case(client, alpha, role, allowed):
    _login(client, alpha.member(role))

    page = client.post(f"/cases/{alpha.case.public_id}/legal-hold/", {"hold": "on", "reason": "court order"})
    api = client.post(
        f"/api/v1/cases/{alpha.case.public_id}/legal-hold/",
        {"hold": False, "reason": "released"},
        content_type="application/json",
    )

    assert page.status_code == (302 if allowed else 403)
    assert api.status_code == (200 if allowed else 403)
    actions = list(
        CustodyEvent.objects.filter(case=alpha.case, action__startswith="legal_hold").values_list("action", flat=True)
    )
    assert actions == (["legal_hold.set", "legal_hold.released"] if allowed else [])
    assert Case.objects.get(pk=alpha.case.pk).legal_hold is False


@pytest.mark.parametrize("role,allowed", MANAGERS)
def test_media_is_deleted_by_hand_only_by_administrators_and_supervisors(client, alpha, analysed, role, allowed):
    # Given two analysed items of the investigator's own case
    page_item = analysed(alpha.case, alpha.investigator, colour=(10, 20, 30))
    api_item = analysed(alpha.case, alpha.investigator, colour=(40, 50, 60))
    _login(client, alpha.member(role))

    # When they delete the media, on the page and in the API
    page = client.post(f"/evidence/{page_item.public_id}/delete-media/", {"reason": "victim asked"})
    api = client.post(f"/api/v1/evidence/{api_item.public_id}/delete-media/", {"reason": "victim asked"})

    # Then only administrators and supervisors may, and only then are the bytes gone
    assert page.status_code == (302 if allowed else 403)
    assert api.status_code == (200 if allowed else 403)
    for item in (page_item, api_item):
        item = EvidenceItem.objects.get(pk=item.pk)
        assert item.media_held is not allowed
        assert storages["evidence"].exists(item.storage_key) is not allowed
    if allowed:
        assert api.json()["media_held"] is False
        assert (
            CustodyEvent.objects.get(evidence=api_item, action="media.deleted").actor_label
            == alpha.member(role).username
        )


def test_api_refuses_deleting_media_under_legal_hold_and_says_why(client, alpha, analysed):
    item = analysed(alpha.case, alpha.investigator)
    services.case_legal_hold_set(case=alpha.case, hold=True, reason="court order", actor=alpha.supervisor)
    _login(client, alpha.supervisor)

    response = client.post(f"/api/v1/evidence/{item.public_id}/delete-media/", {"reason": "tidy"})

    assert response.status_code == 409
    assert "legal hold" in response.json()["detail"]
    assert storages["evidence"].exists(item.storage_key)


def test_evidence_page_offers_deletion_to_supervisors_and_not_to_investigators(client, alpha, analysed):
    item = analysed(alpha.case, alpha.investigator)

    _login(client, alpha.supervisor)
    assert "Delete media now" in client.get(f"/evidence/{item.public_id}/").content.decode()
    _login(client, alpha.investigator)
    assert "Delete media now" not in client.get(f"/evidence/{item.public_id}/").content.decode()


def test_evidence_page_says_why_media_cannot_be_deleted_instead_of_offering_a_refused_form(client, alpha, analysed):
    # Given an analysed item of a case under legal hold, and an item whose analysis has not run
    held = analysed(alpha.case, alpha.investigator)
    services.case_legal_hold_set(case=alpha.case, hold=True, reason="court order", actor=alpha.supervisor)
    other_case = services.case_create(organisation=alpha.organisation, title="Second", actor=alpha.supervisor)
    waiting = services.evidence_receive(
        case=other_case, received=received(jpeg_bytes(colour=(1, 2, 3))), actor=alpha.supervisor
    ).item
    _login(client, alpha.supervisor)

    # Then the supervisor, who may delete media, is told why not now rather than offered the form
    for item, why in (
        (held, f"Case {alpha.case.reference} is under legal hold; lift the hold before deleting its media."),
        (waiting, "The analysis of this item is not done; media is only deleted once its findings are recorded."),
    ):
        page = client.get(f"/evidence/{item.public_id}/").content.decode()
        assert "Delete media now" not in page
        assert f'<p class="muted" id="media-delete-refusal">{why}</p>' in page

    # And once the hold is lifted, the form is offered
    services.case_legal_hold_set(case=alpha.case, hold=False, reason="order lifted", actor=alpha.supervisor)
    page = client.get(f"/evidence/{held.public_id}/").content.decode()
    assert "Delete media now" in page and "media-delete-refusal" not in page
