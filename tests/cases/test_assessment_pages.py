"""The assessment where people look: badges on the case page, counts in the case list (with a filter) and on the
dashboard, the four answers and the key facts at the top of the evidence page, and `assessment` in the API; a
member of another organisation sees none of it."""

import importlib

import pytest
from django.apps import apps as django_apps

from cases import services
from cases.demo_media import ai_declared_jpeg_create, camera_jpeg_create, edited_jpeg_create
from cases.models import EvidenceItem
from cases.upload import receive_path
from tests.conftest import PASSWORD


@pytest.fixture
def analysed_items(alpha, tmp_path, django_capture_on_commit_callbacks):
    """An AI-declared, an edited and a camera-like JPEG received into alpha's case and analysed for real; a second
    case holds only the camera-like copy."""
    camera = camera_jpeg_create(tmp_path)
    files = {
        "ai": ai_declared_jpeg_create(tmp_path),
        "edited": edited_jpeg_create(tmp_path, camera),
        "camera": camera,
    }
    items = {}
    with django_capture_on_commit_callbacks(execute=True):
        for key, path in files.items():
            receipt = services.evidence_receive(case=alpha.case, received=receive_path(path), actor=alpha.investigator)
            items[key] = receipt.item
    quiet = services.case_create(organisation=alpha.organisation, title="quiet case", actor=alpha.investigator)
    with django_capture_on_commit_callbacks(execute=True):
        services.evidence_receive(case=quiet, received=receive_path(camera), actor=alpha.investigator)
    return {key: EvidenceItem.objects.get(pk=item.pk) for key, item in items.items()}


def test_analysis_stores_each_items_assessment(analysed_items):
    assert analysed_items["ai"].assessment["synthetic_media"]["by"] == ["Adobe Firefly"]
    assert analysed_items["edited"].assessment["editing"]["state"] == "found"
    assert {answer["state"] for answer in analysed_items["camera"].assessment.values()} == {"none", "present"}


def test_case_page_badges_each_item_by_its_assessment(client, alpha, analysed_items):
    client.login(username=alpha.investigator.username, password=PASSWORD)

    page = client.get(f"/cases/{alpha.case.public_id}/").content.decode()

    assert page.count('<span class="badge badge-alert" data-aspect="synthetic_media">AI-declared</span>') == 1
    assert page.count('<span class="badge badge-caution" data-aspect="editing">Edited</span>') == 1


def test_case_list_counts_and_filters_by_assessment(client, alpha, analysed_items):
    client.login(username=alpha.investigator.username, password=PASSWORD)

    response = client.get("/cases/")
    rows = {case.title: case for case in response.context["rows"]}
    filtered = client.get("/cases/", {"assessment": "ai_declared"}).context["rows"]

    assert (rows[alpha.case.title].ai_declared, rows[alpha.case.title].edited) == (1, 1)
    assert (rows["quiet case"].ai_declared, rows["quiet case"].edited) == (0, 0)
    assert "1 AI-declared" in response.content.decode() and "1 edited" in response.content.decode()
    assert [case.title for case in filtered] == [alpha.case.title]


def test_dashboard_counts_ai_declared_and_edited_items(client, alpha, analysed_items):
    client.login(username=alpha.investigator.username, password=PASSWORD)

    counts = {key: n for _label, key, n in client.get("/dashboard/").context["by_assessment"]}

    assert counts == {"ai_declared": 1, "edited": 1, "signature_broken": 0, "metadata_removed": 0}


def test_evidence_page_opens_with_the_answers_and_the_key_facts(client, alpha, analysed_items):
    client.login(username=alpha.investigator.username, password=PASSWORD)

    ai_page = client.get(f"/evidence/{analysed_items['ai'].public_id}/").content.decode()
    camera_page = client.get(f"/evidence/{analysed_items['camera'].public_id}/").content.decode()

    assert ai_page.index('class="assessment"') < ai_page.index('id="analysis-heading"')
    assert "declared by Adobe Firefly" in ai_page
    assert "<dt>Software</dt><dd>Adobe Firefly</dd>" in ai_page
    assert "<dt>Capture time</dt><dd>2024-03-14T21:07:33.42+01:00</dd>" in camera_page
    assert "<dt>GPS position</dt><dd>51.507219, -0.127500</dd>" in camera_page
    assert '<h3 class="finding-title">Declared as AI-generated or AI-edited (digital source type)</h3>' in ai_page


def test_api_gives_the_assessment_with_its_words(client, alpha, analysed_items):
    client.login(username=alpha.investigator.username, password=PASSWORD)

    body = client.get(f"/api/v1/evidence/{analysed_items['edited'].public_id}/").json()

    assert body["assessment"]["editing"]["state"] == "found"
    assert body["assessment"]["editing"]["software"] == ["Adobe Photoshop"]
    assert body["assessment"]["editing"]["text"].startswith("evidence of editing software (Adobe Photoshop)")
    assert body["assessment"]["synthetic_media"] == {"state": "none", "by": [], "text": "none found"}


def test_api_schema_documents_the_assessment(client):
    schema = client.get("/api/schema/", {"format": "json"}).json()

    assessment = schema["components"]["schemas"]["Assessment"]
    assert set(assessment["properties"]) == {"synthetic_media", "editing", "provenance", "metadata"}
    provenance = schema["components"]["schemas"]["ProvenanceAnswer"]
    assert set(provenance["properties"]) == {"state", "signer", "trusted", "text"}
    assert "assessment" in schema["components"]["schemas"]["EvidenceItem"]["properties"]


def test_another_organisation_sees_no_assessment_and_changes_nothing(client, alpha, beta, analysed_items):
    item = analysed_items["ai"]
    before = dict(item.assessment)
    client.login(username=beta.investigator.username, password=PASSWORD)

    assert client.get(f"/evidence/{item.public_id}/").status_code == 404
    assert client.get(f"/api/v1/evidence/{item.public_id}/").status_code == 404
    listed = client.get("/cases/", {"assessment": "ai_declared"}).context["rows"]
    dashboard = {key: n for _label, key, n in client.get("/dashboard/").context["by_assessment"]}

    assert listed == []
    assert dashboard["ai_declared"] == 0
    assert EvidenceItem.objects.get(pk=item.pk).assessment == before


def test_live_status_gives_each_finished_items_badges(client, alpha, analysed_items):
    client.login(username=alpha.investigator.username, password=PASSWORD)
    ids = ",".join(str(item.public_id) for item in analysed_items.values())

    items = client.get("/live/status/", {"items": ids}).json()["items"]

    assert items[str(analysed_items["ai"].public_id)]["badges"] == [
        {"text": "AI-declared", "tone": "alert", "aspect": "synthetic_media"}
    ]
    assert items[str(analysed_items["edited"].public_id)]["badges"] == [
        {"text": "Edited", "tone": "caution", "aspect": "editing"}
    ]
    assert items[str(analysed_items["camera"].public_id)]["badges"] == []


def test_migration_fills_the_assessment_of_items_analysed_before_it(alpha, analysed_items):
    fill = importlib.import_module("cases.migrations.0009_evidence_assessment").assessments_fill
    EvidenceItem.objects.filter(pk=analysed_items["ai"].pk).update(assessment={})

    fill(django_apps, None)

    assert EvidenceItem.objects.get(pk=analysed_items["ai"].pk).assessment == analysed_items["ai"].assessment
