"""The API beyond upload: case filtering, editing, assignees and notes, tokens for a password, findings and
metadata, media download, paginated lists, one error body for every failure, and a schema without warnings."""

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.utils import timezone
from rest_framework.pagination import PageNumberPagination

from cases import services
from cases.models import ApiToken, Case, CaseNote, EvidenceItem
from custody.models import Action, CustodyEvent
from tests.conftest import PASSWORD, jpeg_bytes, received


@pytest.fixture
def analysed_item(alpha, django_capture_on_commit_callbacks) -> EvidenceItem:
    """An item of alpha's case, received and analysed (the test settings run tasks in-process)."""
    with django_capture_on_commit_callbacks(execute=True):
        receipt = services.evidence_receive(
            case=alpha.case, received=received(jpeg_bytes(), "harbour.jpg"), actor=alpha.investigator
        )
    return EvidenceItem.objects.get(pk=receipt.item.pk)


def _login(client, user):
    client.login(username=user.username, password=PASSWORD)
    return client


def _ids(response) -> list[str]:
    assert response.status_code == 200, response.content[:300]
    return [case["id"] for case in response.json()["results"]]


def _ledger(case: Case, action: Action) -> int:
    return CustodyEvent.objects.filter(case=case, action=action).count()


def test_case_list_filters_combine_within_what_the_member_sees(client, alpha, beta, analysed_item):
    # Given a second case, closed and assigned, and the first case holding an analysed item
    other = services.case_create(organisation=alpha.organisation, title="Forum threats", actor=alpha.supervisor)
    services.case_status_change(case=other, status="closed", actor=alpha.supervisor)
    services.case_assign(case=other, investigators=[alpha.investigator], actor=alpha.supervisor)
    first, second = str(alpha.case.public_id), str(other.public_id)
    _login(client, alpha.supervisor)
    prefix = analysed_item.sha256[:12]

    # Then each filter narrows the list, and none reaches beta's case
    assert set(_ids(client.get("/api/v1/cases/"))) == {first, second}
    assert _ids(client.get("/api/v1/cases/?status=closed")) == [second]
    assert _ids(client.get(f"/api/v1/cases/?verdict={analysed_item.verdict}")) == [first]
    assert _ids(client.get(f"/api/v1/cases/?assignee={alpha.investigator.username}")) == [second]
    assert _ids(client.get("/api/v1/cases/?q=harbour")) == [first]
    assert _ids(client.get(f"/api/v1/cases/?q={prefix.upper()}")) == [first]
    assert _ids(client.get("/api/v1/cases/?q=forum")) == [second]
    assert _ids(client.get("/api/v1/cases/?q=beta")) == []  # beta's case title
    tomorrow = (timezone.now() + timedelta(days=1)).isoformat()
    assert set(_ids(client.get("/api/v1/cases/", {"created_before": tomorrow}))) == {first, second}
    assert _ids(client.get("/api/v1/cases/", {"created_after": tomorrow})) == []
    assert client.get("/api/v1/cases/?status=lost").json()["code"] == "invalid"


def test_investigator_edits_a_case_they_work_on_and_the_ledger_records_it(client, alpha):
    _login(client, alpha.investigator)
    url = f"/api/v1/cases/{alpha.case.public_id}/"

    response = client.patch(url, {"title": "Threats on platform Y"}, content_type="application/json")
    unchanged = client.patch(url, {"title": "Threats on platform Y"}, content_type="application/json")

    assert response.status_code == 200 and unchanged.status_code == 200
    case = Case.objects.get(pk=alpha.case.pk)
    assert (case.title, case.description) == ("Threats on platform Y", "")
    assert _ledger(case, Action.CASE_UPDATED) == 1  # the repeat changed nothing and recorded nothing


def test_auditor_cannot_edit_a_case(client, alpha):
    _login(client, alpha.auditor)
    response = client.patch(f"/api/v1/cases/{alpha.case.public_id}/", {"title": "x"}, content_type="application/json")
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
    assert Case.objects.get(pk=alpha.case.pk).title == alpha.case.title


def test_foreign_case_cannot_be_edited(client, alpha, beta):
    _login(client, alpha.admin)
    response = client.patch(f"/api/v1/cases/{beta.case.public_id}/", {"title": "x"}, content_type="application/json")
    assert response.status_code == 404
    assert Case.objects.get(pk=beta.case.pk).title == beta.case.title
    assert _ledger(beta.case, Action.CASE_UPDATED) == 0


def test_assignees_are_replaced_by_usernames_of_members_who_work_on_cases(client, alpha, beta):
    _login(client, alpha.supervisor)
    url = f"/api/v1/cases/{alpha.case.public_id}/assignees/"

    assigned = client.post(url, {"usernames": [alpha.investigator.username]}, content_type="application/json")
    refused = client.post(
        url, {"usernames": [alpha.auditor.username, beta.investigator.username]}, content_type="application/json"
    )

    assert assigned.status_code == 200
    assert assigned.json()["assignees"] == [alpha.investigator.username]
    assert refused.status_code == 400
    assert beta.investigator.username in refused.json()["errors"]["usernames"][0]
    assert list(alpha.case.assignees.values_list("username", flat=True)) == [alpha.investigator.username]


def test_investigator_cannot_assign(client, alpha):
    _login(client, alpha.investigator)
    url = f"/api/v1/cases/{alpha.case.public_id}/assignees/"
    assert client.post(url, {"usernames": []}, content_type="application/json").status_code == 403


def test_notes_are_added_and_listed_and_refused_on_a_closed_case(client, alpha):
    _login(client, alpha.investigator)
    url = f"/api/v1/cases/{alpha.case.public_id}/notes/"

    added = client.post(url, {"text": "Victim confirmed the account."}, content_type="application/json")
    services.case_status_change(case=alpha.case, status="closed", actor=alpha.supervisor)
    refused = client.post(url, {"text": "Too late."}, content_type="application/json")

    assert added.status_code == 201
    assert refused.status_code == 409 and refused.json()["code"] == "CaseClosed"
    listed = client.get(url).json()
    assert listed["count"] == 1
    assert listed["results"][0] == {**added.json(), "author": alpha.investigator.username}
    assert CaseNote.objects.filter(case=alpha.case).count() == 1


def test_auditor_reads_notes_but_cannot_add_them(client, alpha):
    _login(client, alpha.auditor)
    url = f"/api/v1/cases/{alpha.case.public_id}/notes/"
    assert client.get(url).status_code == 200
    assert client.post(url, {"text": "no"}, content_type="application/json").status_code == 403


def test_token_obtained_with_a_password_authenticates(client, alpha):
    response = client.post(
        "/api/v1/auth/token/",
        {"username": alpha.investigator.username, "password": PASSWORD, "name": "laptop"},
        content_type="application/json",
    )

    assert response.status_code == 201
    secret = response.json()["token"]
    assert ApiToken.objects.get(user=alpha.investigator, name="laptop").prefix == secret[:10]
    listed = client.get("/api/v1/cases/", HTTP_AUTHORIZATION=f"Token {secret}")
    assert _ids(listed) == [str(alpha.case.public_id)]


def test_wrong_password_gets_no_token(client, alpha):
    response = client.post(
        "/api/v1/auth/token/", {"username": alpha.admin.username, "password": "wrong"}, content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json() == {"detail": "The username or password is wrong.", "code": "invalid_credentials"}
    assert not ApiToken.objects.exists()


def test_failed_logins_on_the_page_and_the_token_endpoint_count_together(client, alpha, settings):
    # Given failures on the log-in page and on the token endpoint, reaching the limit together
    settings.AXES_FAILURE_LIMIT = 3
    for _ in range(2):
        client.post("/login/", {"username": alpha.admin.username, "password": "wrong"})
    token_url = "/api/v1/auth/token/"
    client.post(token_url, {"username": alpha.admin.username, "password": "wrong"}, content_type="application/json")

    # When the right password is then given to either
    api = client.post(
        token_url, {"username": alpha.admin.username, "password": PASSWORD}, content_type="application/json"
    )
    page = client.post("/login/", {"username": alpha.admin.username, "password": PASSWORD})

    # Then both refuse for now, the API with its error body and a Retry-After
    assert api.status_code == 429 and page.status_code == 429
    assert api.json()["code"] == "throttled"
    assert int(api["Retry-After"]) == settings.AXES_COOLOFF_TIME.total_seconds()
    assert not ApiToken.objects.exists()


def test_findings_and_metadata_come_from_the_latest_analysis(client, alpha, analysed_item):
    _login(client, alpha.auditor)

    findings = client.get(f"/api/v1/evidence/{analysed_item.public_id}/findings/").json()
    metadata = client.get(f"/api/v1/evidence/{analysed_item.public_id}/metadata/").json()

    assert findings["status"] == "done" and findings["verdict"] == analysed_item.verdict
    assert all({"rule_id", "explanation", "innocent_explanation"} <= set(f) for f in findings["findings"])
    assert metadata["analysis"] == findings["id"]
    tags = {(g["source"], t["name"]): t["value"] for g in metadata["groups"] for t in g["tags"]}
    assert tags[("exiftool", "ImageWidth")] == "64"
    assert tags[("exiftool", "ImageHeight")] == "48"


def test_download_gives_the_original_bytes_and_records_it(client, alpha, analysed_item):
    _login(client, alpha.supervisor)

    response = client.get(f"/api/v1/evidence/{analysed_item.public_id}/download/")

    assert response.status_code == 200
    assert b"".join(response.streaming_content) == jpeg_bytes()
    assert CustodyEvent.objects.filter(evidence=analysed_item, action=Action.MEDIA_DOWNLOADED).count() == 1


def test_download_of_deleted_media_is_410_and_auditors_may_not_download(client, alpha, analysed_item):
    services.evidence_media_delete(item=analysed_item, reason="tidy up", actor=alpha.admin)
    _login(client, alpha.supervisor)
    gone = client.get(f"/api/v1/evidence/{analysed_item.public_id}/download/")
    _login(client, alpha.auditor)
    refused = client.get(f"/api/v1/evidence/{analysed_item.public_id}/download/")

    assert gone.status_code == 410 and gone.json()["code"] == "MediaDeleted"
    assert refused.status_code == 403
    assert not CustodyEvent.objects.filter(evidence=analysed_item, action=Action.MEDIA_DOWNLOADED).exists()


def test_growing_lists_are_paginated(client, alpha, monkeypatch):
    monkeypatch.setattr(PageNumberPagination, "page_size", 2)  # DRF reads PAGE_SIZE once, at import
    for number in range(3):
        services.evidence_receive(
            case=alpha.case, received=received(jpeg_bytes(colour=(number, 9, 9))), actor=alpha.investigator
        )
    _login(client, alpha.investigator)

    first = client.get(f"/api/v1/cases/{alpha.case.public_id}/evidence/").json()
    second = client.get(first["next"]).json()

    assert first["count"] == 3 and len(first["results"]) == 2 and len(second["results"]) == 1
    assert second["next"] is None


def test_every_failure_answers_with_the_one_error_body(client, alpha):
    _login(client, alpha.investigator)
    upload = f"/api/v1/cases/{alpha.case.public_id}/evidence/"

    answers = {
        "unknown path": client.get("/api/v1/no-such-thing/"),
        "malformed id": client.get("/api/v1/cases/not-a-uuid/"),
        "missing id": client.get("/api/v1/cases/00000000-0000-4000-8000-000000000000/"),
        "wrong method": client.delete("/api/v1/cases/"),
        "wrong content type": client.post(upload, {"files": []}, content_type="application/json"),
        "invalid field": client.post("/api/v1/cases/", {"title": ""}, content_type="application/json"),
    }

    statuses = {name: response.status_code for name, response in answers.items()}
    assert statuses == {
        "unknown path": 404,
        "malformed id": 404,
        "missing id": 404,
        "wrong method": 405,
        "wrong content type": 415,
        "invalid field": 400,
    }
    for name, response in answers.items():
        body = response.json()
        assert isinstance(body["detail"], str) and isinstance(body["code"], str), name
    assert answers["invalid field"].json()["errors"]["title"]


def test_files_sent_under_another_field_name_are_refused_naming_the_field_expected(client, alpha):
    _login(client, alpha.investigator)
    upload = f"/api/v1/cases/{alpha.case.public_id}/evidence/"
    photo = jpeg_bytes()

    misnamed = client.post(
        upload, {"file": SimpleUploadedFile("a.jpg", photo), "x" * 100: SimpleUploadedFile("b.jpg", photo)}
    )
    nothing = client.post(upload, {"note": "no file at all"})

    assert misnamed.status_code == 400 and misnamed.json()["code"] == "NoFileGiven"
    assert misnamed.json()["detail"] == (
        f"No file was received in the form field “files”: this request sent files in “file”, “{'x' * 64}”. "
        "Send each image or video file as a “files” part."
    )
    assert nothing.json()["detail"] == "No file was received. Choose one or more image or video files to upload."
    assert not alpha.case.evidence.exists()


def test_several_refused_files_answer_with_the_error_body_naming_each(client, alpha):
    _login(client, alpha.investigator)
    services.case_status_change(case=alpha.case, status="closed", actor=alpha.supervisor)

    response = client.post(
        f"/api/v1/cases/{alpha.case.public_id}/evidence/",
        {"files": [SimpleUploadedFile(f"{n}.jpg", jpeg_bytes(colour=(n, 1, 1))) for n in range(2)]},
    )

    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "CaseClosed"
    assert [refusal["file"] for refusal in body["errors"]] == ["0.jpg", "1.jpg"]


def test_openapi_schema_has_no_warnings(tmp_path):
    # The same check as `manage.py spectacular --validate --fail-on-warn`, which raises on any warning or error.
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yaml"))
    assert "/api/v1/cases/{case_id}/notes/" in (tmp_path / "schema.yaml").read_text()


def test_swagger_ui_and_redoc_load_their_scripts_from_this_server(client):
    for url in ("/api/docs/", "/api/redoc/"):
        page = client.get(url).content.decode()
        assert "/static/drf_spectacular_sidecar/" in page, url
        assert "cdn." not in page and "unpkg" not in page, url


def test_created_range_takes_any_iso_offset_and_refuses_dates_off_the_calendar(client, alpha):
    # Offsets past ±15:59 are valid ISO 8601 but out of PostgreSQL's range (found by Schemathesis).
    _login(client, alpha.admin)
    far_offset = client.get("/api/v1/cases/", {"created_before": "2999-01-01T00:00:00+17:58"})
    off_calendar = client.get("/api/v1/cases/", {"created_after": "0001-01-01T00:00:00+01:00"})

    assert _ids(far_offset) == [str(alpha.case.public_id)]
    assert off_calendar.status_code == 400
    assert off_calendar.json()["errors"]["created_after"]
