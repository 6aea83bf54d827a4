"""The role table of the foundation issue, cell by cell, for pages and API.

| scope | admin | supervisor | investigator | auditor |
| manage members and organisation settings | yes | | | |
| see every case of the organisation | yes | yes | | yes (read-only) |
| see the cases they created or are assigned to | yes | yes | yes | yes |
| create cases, upload evidence, add notes | yes | yes | yes | |
| assign investigators, change case status, close cases | yes | yes | | |
| download original media | yes | yes | assigned cases | |
| read custody logs | yes | yes | assigned/involved cases | yes |
"""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from cases import services
from cases.models import Case, CaseNote, EvidenceItem
from tests.conftest import PASSWORD, jpeg_bytes, received

ROLES = ["admin", "supervisor", "investigator", "auditor"]


@pytest.fixture
def world(alpha):
    """alpha.case was created by the investigator; `others` by the supervisor; `assigned` assigns the investigator."""
    others = services.case_create(organisation=alpha.organisation, title="not theirs", actor=alpha.supervisor)
    assigned = services.case_create(organisation=alpha.organisation, title="assigned", actor=alpha.supervisor)
    services.case_assign(case=assigned, investigators=[alpha.investigator], actor=alpha.supervisor)
    items = {
        case.title: services.evidence_receive(
            case=case, received=received(jpeg_bytes(colour=(i, 9, 9))), actor=alpha.supervisor
        ).item
        for i, case in enumerate([alpha.case, others, assigned])
    }
    return {"own": alpha.case, "others": others, "assigned": assigned, "items": items, "tenant": alpha}


def _login(client, world, role):
    client.login(username=world["tenant"].member(role).username, password=PASSWORD)


def _jpeg_upload(name="new.jpg"):
    return SimpleUploadedFile(name, jpeg_bytes(colour=(7, 7, 7)), content_type="image/jpeg")


@pytest.mark.parametrize(
    "role,allowed", [("admin", True), ("supervisor", False), ("investigator", False), ("auditor", False)]
)
def test_only_admin_manages_members(client, world, role, allowed):
    _login(client, world, role)
    assert client.get("/organisation/members/").status_code == (200 if allowed else 403)
    assert client.get("/api/v1/members/").status_code == (200 if allowed else 403)
    response = client.post("/api/v1/members/", {"username": world["tenant"].auditor.username, "role": "supervisor"})
    assert response.status_code == (201 if allowed else 403)
    expected = "supervisor" if allowed else "auditor"
    assert world["tenant"].organisation.memberships.get(user=world["tenant"].auditor).role == expected


@pytest.mark.parametrize(
    "role,sees", [("admin", True), ("supervisor", True), ("investigator", False), ("auditor", True)]
)
def test_who_sees_every_case_of_the_organisation(client, world, role, sees):
    _login(client, world, role)
    others = world["others"]
    assert client.get(f"/cases/{others.public_id}/").status_code == (200 if sees else 404)
    assert client.get(f"/api/v1/cases/{others.public_id}/").status_code == (200 if sees else 404)
    listed = {c["id"] for c in client.get("/api/v1/cases/").json()["results"]}
    assert (str(others.public_id) in listed) is sees
    assert (others.reference in client.get("/cases/").content.decode()) is sees


@pytest.mark.parametrize("role", ROLES)
def test_everyone_sees_the_cases_they_created_or_are_assigned_to(client, world, role):
    _login(client, world, role)
    for case in (world["own"], world["assigned"]):
        assert client.get(f"/cases/{case.public_id}/").status_code == 200
        assert client.get(f"/api/v1/cases/{case.public_id}/").status_code == 200


@pytest.mark.parametrize(
    "role,allowed", [("admin", True), ("supervisor", True), ("investigator", True), ("auditor", False)]
)
def test_who_creates_cases_uploads_evidence_and_adds_notes(client, world, role, allowed):
    _login(client, world, role)
    case = world["own"]
    cases_before, items_before = Case.objects.count(), EvidenceItem.objects.count()

    page_create = client.post("/cases/new/", {"title": "page case"})
    api_create = client.post("/api/v1/cases/", {"title": "api case"}, content_type="application/json")
    page_upload = client.post(f"/cases/{case.public_id}/evidence/", {"files": [_jpeg_upload("a.jpg")]})
    api_upload = client.post(f"/api/v1/cases/{case.public_id}/evidence/", {"files": [_jpeg_upload("b.jpg")]})
    page_note = client.post(f"/cases/{case.public_id}/notes/", {"text": "seen on platform X"})

    assert page_create.status_code == (302 if allowed else 403)
    assert api_create.status_code == (201 if allowed else 403)
    assert page_upload.status_code == (302 if allowed else 403)
    assert api_upload.status_code == (201 if allowed else 403)
    assert page_note.status_code == (302 if allowed else 403)
    assert Case.objects.count() == cases_before + (2 if allowed else 0)
    assert EvidenceItem.objects.count() == items_before + (2 if allowed else 0)
    assert CaseNote.objects.filter(case=case).count() == (1 if allowed else 0)


@pytest.mark.parametrize(
    "role,allowed", [("admin", True), ("supervisor", True), ("investigator", False), ("auditor", False)]
)
def test_who_assigns_changes_status_and_closes_cases(client, world, role, allowed):
    _login(client, world, role)
    case, tenant = world["own"], world["tenant"]

    page_status = client.post(f"/cases/{case.public_id}/status/", {"status": "under_review"})
    page_assign = client.post(f"/cases/{case.public_id}/assignees/", {"investigators": [tenant.investigator.pk]})
    api_close = client.post(f"/api/v1/cases/{case.public_id}/status/", {"status": "closed"})

    assert page_status.status_code == (302 if allowed else 403)
    assert page_assign.status_code == (302 if allowed else 403)
    assert api_close.status_code == (200 if allowed else 403)
    case.refresh_from_db()
    assert case.status == ("closed" if allowed else "open")
    assert list(case.assignees.all()) == ([tenant.investigator] if allowed else [])


@pytest.mark.parametrize(
    "role,own,others,assigned",
    [
        ("admin", 200, 200, 200),
        ("supervisor", 200, 200, 200),
        ("investigator", 200, 404, 200),
        ("auditor", 403, 403, 403),
    ],
)
def test_who_downloads_original_media(client, world, role, own, others, assigned):
    _login(client, world, role)
    for title, expected in ((world["own"].title, own), ("not theirs", others), ("assigned", assigned)):
        item = world["items"][title]
        response = client.get(f"/evidence/{item.public_id}/download/")
        assert response.status_code == expected, title
        if expected == 200:
            assert b"".join(response.streaming_content) == jpeg_bytes(colour=(list(world["items"]).index(title), 9, 9))


@pytest.mark.parametrize(
    "role,own,others,assigned",
    [
        ("admin", 200, 200, 200),
        ("supervisor", 200, 200, 200),
        ("investigator", 200, 404, 200),
        ("auditor", 200, 200, 200),
    ],
)
def test_who_reads_custody_logs(client, world, role, own, others, assigned):
    _login(client, world, role)
    for case, expected in ((world["own"], own), (world["others"], others), (world["assigned"], assigned)):
        item = world["items"][case.title]
        assert client.get(f"/custody/cases/{case.public_id}/").status_code == expected, case.title
        assert client.get(f"/api/v1/custody/cases/{case.public_id}/events/").status_code == expected, case.title
        assert client.get(f"/api/v1/custody/evidence/{item.public_id}/events/").status_code == expected, case.title
        assert client.get(f"/api/v1/custody/evidence/{item.public_id}/bundle/").status_code == expected, case.title


def test_closed_case_refuses_new_evidence_with_a_message(client, world):
    case = world["own"]
    services.case_status_change(case=case, status="closed", actor=world["tenant"].supervisor)
    _login(client, world, "supervisor")
    response = client.post(f"/api/v1/cases/{case.public_id}/evidence/", {"files": [_jpeg_upload()]})
    assert response.status_code == 409
    assert "closed" in response.json()["detail"]
