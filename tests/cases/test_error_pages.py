"""Error answers: pages in the site layout that say why in plain words and offer a way back; the API answers JSON
for every error, Django's DEBUG pages included; no "No EvidenceItem matches the given query"."""

import uuid

import pytest
from django.contrib.staticfiles import finders
from django.test import Client, RequestFactory

from cases.api.errors import server_failure
from tests.conftest import PASSWORD


@pytest.fixture
def auditor_client(client, alpha):
    client.login(username=alpha.auditor.username, password=PASSWORD)
    return client


def test_403_page_names_the_role_and_what_it_lacks_in_the_site_layout(auditor_client, alpha):
    response = auditor_client.post(f"/cases/{alpha.case.public_id}/evidence/")

    page = response.content.decode()
    assert response.status_code == 403
    assert "Your role (Auditor) cannot do this: upload evidence is not part of it." in page
    assert 'class="topbar"' in page and 'href="/"' in page  # the layout, and a way back


def test_404_for_a_foreign_case_is_a_sentence_in_the_layout(auditor_client, beta):
    response = auditor_client.get(f"/cases/{beta.case.public_id}/")

    page = response.content.decode()
    assert response.status_code == 404
    assert "There is no case at this address that you can see." in page
    assert "matches the given query" not in page and 'class="topbar"' in page


def test_404_for_an_unknown_page_offers_a_way_back(auditor_client):
    response = auditor_client.get("/no/such/page/")

    assert response.status_code == 404
    assert "Back to the dashboard" in response.content.decode()


def test_api_404_for_a_foreign_item_is_a_sentence(auditor_client, beta):
    response = auditor_client.get(f"/api/v1/cases/{beta.case.public_id}/")

    body = response.json()
    assert response.status_code == 404 and body["code"] == "not_found"
    assert body["detail"].startswith("There is no case at this address that you can see.")


@pytest.mark.parametrize("debug", [False, True])
@pytest.mark.parametrize("path", ["/api/v1/no-such-thing/", "/api/v1/cases/not-a-uuid/", "/api/v1/evidence/12/"])
def test_api_answers_json_for_unknown_paths_and_malformed_ids_even_under_debug(auditor_client, settings, debug, path):
    settings.DEBUG = debug

    response = auditor_client.get(path)

    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json()["code"] == "not_found"


def test_api_server_failure_is_json_and_the_page_is_in_the_layout(db):
    api = server_failure(RequestFactory().get("/api/v1/cases/"))
    page = server_failure(RequestFactory().get("/cases/"))

    assert api.status_code == page.status_code == 500
    assert api["Content-Type"] == "application/json"
    assert "Something went wrong on our side" in page.content.decode()
    assert 'class="topbar"' in page.content.decode()


def test_foreign_evidence_id_answers_alike_whether_it_exists_or_not(auditor_client, beta):
    from cases.models import EvidenceItem

    assert not EvidenceItem.objects.exists()
    missing = auditor_client.get(f"/api/v1/evidence/{uuid.uuid4()}/").json()
    assert missing["detail"].startswith("There is no evidence item at this address that you can see.")


def test_favicon_address_leads_to_the_icon(client):
    response = client.get("/favicon.ico")

    assert response.status_code == 302 and response["Location"] == "/static/favicon.ico"
    with open(finders.find("favicon.ico"), "rb") as icon:
        assert icon.read(4) == b"\x00\x00\x01\x00"  # an ICO file's header


def test_a_form_refused_by_the_csrf_check_gets_the_403_page_with_what_to_do(db, alpha):
    client = Client(enforce_csrf_checks=True)
    client.login(username=alpha.investigator.username, password=PASSWORD)

    page = client.post("/cases/new/", {"title": "no token"})
    api = client.post("/api/v1/cases/", {"title": "no token"}, content_type="application/json")

    assert page.status_code == 403 and "reload the page and send it again" in page.content.decode()
    assert 'class="topbar"' in page.content.decode()
    assert api.status_code == 403 and api["Content-Type"] == "application/json"


def test_browser_asking_the_api_for_html_still_gets_the_json_error_with_its_sentence(auditor_client, beta):
    response = auditor_client.get(f"/api/v1/cases/{beta.case.public_id}/", HTTP_ACCEPT="text/html")

    assert response.status_code == 404 and response["Content-Type"] == "application/json"
    assert response.json()["detail"].startswith("There is no case at this address that you can see.")


@pytest.mark.parametrize("debug", [False, True])
def test_page_404s_are_the_sites_page_also_under_debug(auditor_client, beta, settings, debug):
    settings.DEBUG = debug

    unknown = auditor_client.get("/no/such/page/")
    foreign = auditor_client.get(f"/cases/{beta.case.public_id}/")
    malformed = auditor_client.get("/cases/not-a-uuid/")

    for response in (unknown, foreign, malformed):
        page = response.content.decode()
        assert response.status_code == 404
        assert 'class="topbar"' in page and "Back to the dashboard" in page
        assert "DEBUG = True" not in page  # Django's technical page says why it is shown
    assert "There is no case at this address that you can see." in foreign.content.decode()


@pytest.mark.parametrize("debug", [False, True])
def test_page_403_is_the_sites_page_with_the_reason_also_under_debug(auditor_client, alpha, settings, debug):
    settings.DEBUG = debug

    response = auditor_client.post(f"/cases/{alpha.case.public_id}/evidence/")

    page = response.content.decode()
    assert response.status_code == 403
    assert "Your role (Auditor) cannot do this: upload evidence is not part of it." in page
    assert 'class="topbar"' in page and "Back to the dashboard" in page


def test_a_page_crash_under_debug_keeps_djangos_debug_page_for_developers(auditor_client, settings, monkeypatch):
    from cases import views

    def crash(*args, **kwargs):
        raise RuntimeError("a developer's bug")

    settings.DEBUG = True
    monkeypatch.setattr(views.CaseListView, "get", crash)
    auditor_client.raise_request_exception = False

    response = auditor_client.get("/cases/")

    assert response.status_code == 500
    assert "a developer&#x27;s bug" in response.content.decode() and "Traceback" in response.content.decode()


def _files(count: int) -> list:
    from django.core.files.uploadedfile import SimpleUploadedFile

    from tests.conftest import jpeg_bytes

    photo = jpeg_bytes()
    return [SimpleUploadedFile(f"{n}.jpg", photo) for n in range(count)]


def test_too_many_files_in_one_request_are_refused_saying_the_limit(client, alpha, settings):
    settings.DATA_UPLOAD_MAX_NUMBER_FILES = 3
    client.login(username=alpha.investigator.username, password=PASSWORD)

    page = client.post(f"/cases/{alpha.case.public_id}/evidence/", {"files": _files(4)})
    api = client.post(f"/api/v1/cases/{alpha.case.public_id}/evidence/", {"files": _files(4)})

    sentence = "This request sent more than 3 files. Send at most 3 files at a time."
    assert page.status_code == 400
    assert sentence in page.content.decode() and 'class="topbar"' in page.content.decode()
    assert api.status_code == 400 and api.json() == {"detail": sentence, "code": "too_many_files"}
    assert not alpha.case.evidence.exists()


def test_other_malformed_requests_keep_the_general_sentence(client, alpha, settings):
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 2
    client.login(username=alpha.investigator.username, password=PASSWORD)

    api = client.post("/api/v1/cases/", "a=1&b=2&c=3", content_type="application/x-www-form-urlencoded")
    page = client.post("/cases/new/", "a=1&b=2&c=3", content_type="application/x-www-form-urlencoded")

    assert api.status_code == 400 and api.json() == {
        "detail": "The request is malformed or too large.",
        "code": "malformed",
    }
    assert page.status_code == 400 and "The request is malformed or too large." in page.content.decode()


def test_a_host_not_served_gets_the_page_before_any_session_or_user_is_read(client, settings):
    settings.ALLOWED_HOSTS = ["evidence.example"]

    page = client.get("/cases/", HTTP_HOST="attacker.example")

    assert page.status_code == 400
    assert "The request is malformed or too large." in page.content.decode()
    assert "attacker.example" not in page.content.decode()
