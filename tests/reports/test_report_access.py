"""Who may generate, watch and download reports: anyone who sees the case downloads (auditors included), those
who may add evidence generate, and outsiders and other organisations cannot tell that a report exists."""

import pytest
from django.core.files.storage import storages

from cases import services
from custody.models import CustodyEvent
from forensics.models import Analysis
from forensics.tasks import analyse_evidence
from reports.models import Report
from tests.conftest import PASSWORD, jpeg_bytes, received


@pytest.fixture
def alpha_report(alpha, analysed, edited_jpeg, generate) -> Report:
    item = analysed(alpha.case, edited_jpeg, alpha.investigator)
    return generate(alpha.investigator, alpha.case, item)


def _downloads(report) -> list:
    return list(CustodyEvent.objects.filter(action="report.downloaded", details__report=str(report.public_id)))


def test_auditor_downloads_a_report_and_the_download_is_a_custody_event(client, alpha, alpha_report):
    client.login(username=alpha.auditor.username, password=PASSWORD)

    page = client.get(f"/reports/{alpha_report.public_id}/download/")
    api = client.get(f"/api/v1/reports/{alpha_report.public_id}/download/")

    with storages["reports"].open(alpha_report.storage_key, "rb") as stored:
        expected = stored.read()
    assert page.status_code == api.status_code == 200
    assert page["Content-Type"] == "application/pdf"
    assert b"".join(page.streaming_content) == expected == b"".join(api.streaming_content)
    downloads = _downloads(alpha_report)
    assert [d.actor for d in downloads] == [alpha.auditor, alpha.auditor]
    assert downloads[0].evidence == alpha_report.evidence
    assert downloads[0].details["sha256"] == alpha_report.sha256


def test_status_is_visible_to_the_case_and_links_the_download(client, alpha, alpha_report):
    client.login(username=alpha.auditor.username, password=PASSWORD)

    status = client.get(f"/api/v1/reports/{alpha_report.public_id}/").json()
    listed = client.get(f"/api/v1/evidence/{alpha_report.evidence.public_id}/reports/").json()["results"]
    evidence_page = client.get(f"/evidence/{alpha_report.evidence.public_id}/").content.decode()
    case_page = client.get(f"/cases/{alpha.case.public_id}/").content.decode()

    assert status["status"] == "done" and status["sha256"] == alpha_report.sha256
    assert status["download_url"] == f"/api/v1/reports/{alpha_report.public_id}/download/"
    assert [r["id"] for r in listed] == [str(alpha_report.public_id)]
    download = f"/reports/{alpha_report.public_id}/download/"
    assert download in evidence_page and download in case_page
    assert "Generate signed PDF report" not in evidence_page  # the auditor is read-only


def test_auditor_cannot_generate_a_report(client, alpha, alpha_report):
    client.login(username=alpha.auditor.username, password=PASSWORD)

    api = client.post(f"/api/v1/evidence/{alpha_report.evidence.public_id}/reports/")
    page = client.post(f"/evidence/{alpha_report.evidence.public_id}/reports/")
    case = client.post(f"/api/v1/cases/{alpha.case.public_id}/reports/")

    assert api.status_code == page.status_code == case.status_code == 403
    assert Report.objects.count() == 1


def test_investigator_generates_from_the_evidence_page(client, alpha, alpha_report, django_capture_on_commit_callbacks):
    client.login(username=alpha.investigator.username, password=PASSWORD)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/evidence/{alpha_report.evidence.public_id}/reports/", follow=True)

    assert response.status_code == 200
    assert Report.objects.filter(evidence=alpha_report.evidence, status="done").count() == 2
    assert "queued" in response.content.decode()


@pytest.mark.parametrize("who", ["outsider", "beta-admin", "beta-auditor"])
def test_outsiders_and_other_organisations_cannot_see_that_a_report_exists(
    client, alpha, beta, outsider, alpha_report, who
):
    user = {"outsider": outsider, "beta-admin": beta.admin, "beta-auditor": beta.auditor}[who]
    client.login(username=user.username, password=PASSWORD)
    before = CustodyEvent.objects.filter(organisation=alpha.organisation).count()
    report_id = alpha_report.public_id

    responses = [
        client.get(f"/reports/{report_id}/download/"),
        client.get(f"/api/v1/reports/{report_id}/"),
        client.get(f"/api/v1/reports/{report_id}/download/"),
        client.get(f"/api/v1/evidence/{alpha_report.evidence.public_id}/reports/"),
        client.get(f"/api/v1/cases/{alpha.case.public_id}/reports/"),
    ]

    # An outsider belongs to no organisation (403 for everything); a foreign member gets the 404 of a missing id
    expected = 403 if who == "outsider" else 404
    assert [r.status_code for r in responses] == [expected] * len(responses)
    for response in responses:
        body = response.content.decode()
        assert str(report_id) not in body and alpha_report.sha256 not in body
    assert CustodyEvent.objects.filter(organisation=alpha.organisation).count() == before


def test_openapi_schema_describes_the_report_endpoints(client, alpha):
    client.login(username=alpha.admin.username, password=PASSWORD)

    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()

    paths = schema["paths"]
    assert "post" in paths["/api/v1/evidence/{evidence_id}/reports/"]
    assert "post" in paths["/api/v1/cases/{case_id}/reports/"]
    assert "get" in paths["/api/v1/reports/{report_id}/"]
    assert "get" in paths["/api/v1/reports/{report_id}/download/"]
    verify = paths["/api/v1/reports/verify"]["post"]
    assert "multipart/form-data" in verify["requestBody"]["content"]


def test_the_case_page_offers_a_case_report_only_once_every_item_is_analysed(client, alpha):
    # Given a case whose one item is still waiting for its analysis
    client.login(username=alpha.investigator.username, password=PASSWORD)
    item = services.evidence_receive(case=alpha.case, received=received(jpeg_bytes()), actor=alpha.investigator).item
    case_page = f"/cases/{alpha.case.public_id}/"

    # Then the case page says when a case report can be made, instead of a button the request would refuse
    waiting = client.get(case_page).content.decode()
    assert "Generate signed PDF case report" not in waiting
    assert "A case report can be generated once the analysis of every item has finished." in waiting
    assert client.post(f"/cases/{alpha.case.public_id}/reports/").status_code == 302
    assert not Report.objects.exists()

    # When the analysis finishes, the button is offered
    analyse_evidence(Analysis.objects.get(evidence=item).pk)
    finished = client.get(case_page).content.decode()
    assert "Generate signed PDF case report" in finished
    assert "once the analysis of every item has finished" not in finished
