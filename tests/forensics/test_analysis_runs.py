"""Background analysis of received evidence: queued on commit, run once, recorded in custody, never losing the item."""

import io
import os
from pathlib import Path

import pytest
from django.core.files.storage import storages
from django.core.management import call_command
from PIL import Image

from cases import services
from cases.models import EvidenceItem
from custody.models import CustodyEvent
from encryption.models import DataKey
from forensics.models import Analysis
from forensics.tasks import analyse_evidence
from tests.conftest import PASSWORD, jpeg_bytes, received


def _receive(tenant, data: bytes, name="photo.jpg", run=None):
    if run is None:
        return services.evidence_receive(
            case=tenant.case, received=received(data, name), actor=tenant.investigator
        ).item
    with run(execute=True):
        item = services.evidence_receive(case=tenant.case, received=received(data, name), actor=tenant.investigator)
    return EvidenceItem.objects.get(pk=item.item.pk)


def _actions(item) -> list[str]:
    return list(CustodyEvent.objects.filter(evidence=item).order_by("sequence").values_list("action", flat=True))


def _edited_jpeg() -> bytes:
    buffer = io.BytesIO()
    image = Image.new("RGB", (64, 48), (20, 120, 40))
    exif = image.getexif()
    exif[0x0131] = "Adobe Photoshop 25.0 (Windows)"  # Software
    image.save(buffer, "JPEG", quality=85, exif=exif)
    return buffer.getvalue()


def test_upload_queues_an_analysis_that_runs_after_commit_and_records_each_step(
    alpha, django_capture_on_commit_callbacks
):
    item = _receive(alpha, _edited_jpeg(), run=django_capture_on_commit_callbacks)

    analysis = Analysis.objects.get(evidence=item)
    assert analysis.status == "done"
    assert item.analysis_status == "done"
    assert item.verdict == analysis.verdict == "attention"
    assert any(f["rule_id"] == "EM-META-001" and "Photoshop" in f["explanation"] for f in analysis.findings)
    assert analysis.ruleset_version and analysis.tool_versions["exiftool"]
    assert _actions(item) == ["evidence.received", "analysis.queued", "analysis.started", "analysis.completed"]
    completed = CustodyEvent.objects.get(evidence=item, action="analysis.completed")
    assert completed.details["result_sha256"] == analysis.result_sha256
    assert completed.details["verdict"] == "attention"


def test_running_the_task_twice_gives_one_result_and_one_completion(alpha, django_capture_on_commit_callbacks):
    item = _receive(alpha, jpeg_bytes(), run=django_capture_on_commit_callbacks)
    analysis = Analysis.objects.get(evidence=item)

    assert analyse_evidence(analysis.pk).startswith("skipped")

    assert Analysis.objects.filter(evidence=item).count() == 1
    assert _actions(item).count("analysis.completed") == 1


def test_analysis_of_a_missing_stored_file_fails_and_keeps_item_hashes_and_custody(alpha):
    item = _receive(alpha, jpeg_bytes())
    Path(storages["evidence"].path(item.storage_key)).unlink()  # lost behind the application's back

    outcome = analyse_evidence(Analysis.objects.get(evidence=item).pk)

    item.refresh_from_db()
    analysis = Analysis.objects.get(evidence=item)
    assert outcome == "failed"
    assert item.analysis_status == analysis.status == "failed"
    assert analysis.error.startswith("FileNotFoundError: ")
    # the page, the API and any report show where the installation keeps files by name, not by path
    assert "<evidence store>/" in analysis.error and str(storages["evidence"].location) not in analysis.error
    assert item.digest_list[0][1] == item.sha256
    assert _actions(item)[-1] == "analysis.failed"


def test_failed_analysis_is_shown_on_the_evidence_page(client, alpha):
    item = _receive(alpha, jpeg_bytes())
    Path(storages["evidence"].path(item.storage_key)).unlink()
    analyse_evidence(Analysis.objects.get(evidence=item).pk)
    client.login(username=alpha.investigator.username, password=PASSWORD)

    page = client.get(f"/evidence/{item.public_id}/").content.decode()

    assert "The analysis failed." in page
    assert "hashes and its custody record are intact" in page


def test_evidence_page_shows_the_verdict_and_every_finding_explained(client, alpha, django_capture_on_commit_callbacks):
    item = _receive(alpha, _edited_jpeg(), run=django_capture_on_commit_callbacks)
    client.login(username=alpha.investigator.username, password=PASSWORD)

    page = client.get(f"/evidence/{item.public_id}/").content.decode()

    assert "Potential integrity anomalies detected" in page
    for finding in Analysis.objects.get(evidence=item).findings:
        assert finding["rule_id"] in page
    assert "Photoshop" in page
    assert "IFD0" in page  # metadata grouped as ExifTool groups it


def test_reanalysis_keeps_earlier_results(client, alpha, django_capture_on_commit_callbacks):
    item = _receive(alpha, jpeg_bytes(), run=django_capture_on_commit_callbacks)
    client.login(username=alpha.investigator.username, password=PASSWORD)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/api/v1/evidence/{item.public_id}/analyses/")

    assert response.status_code == 202
    history = client.get(f"/api/v1/evidence/{item.public_id}/analyses/").json()["results"]
    assert [a["reason"] for a in history] == ["reanalysis", "upload"]
    assert all(a["status"] == "done" and a["verdict_text"] for a in history)
    detail = client.get(f"/api/v1/analyses/{history[0]['id']}/").json()
    assert detail["result"]["jpeg"]["segments"]


def test_the_evidence_page_counts_the_earlier_analyses_kept(client, alpha, django_capture_on_commit_callbacks):
    item = _receive(alpha, jpeg_bytes(), run=django_capture_on_commit_callbacks)
    client.login(username=alpha.investigator.username, password=PASSWORD)
    shown = []
    for _ in range(2):
        shown.append(client.get(f"/evidence/{item.public_id}/").content.decode())
        with django_capture_on_commit_callbacks(execute=True):
            client.post(f"/api/v1/evidence/{item.public_id}/analyses/")
    shown.append(client.get(f"/evidence/{item.public_id}/").content.decode())

    assert "earlier analys" not in shown[0]
    assert "· 1 earlier analysis kept" in shown[1]
    assert "· 2 earlier analyses kept" in shown[2]


@pytest.mark.parametrize("role,allowed", [("investigator", True), ("auditor", False)])
def test_reanalysis_needs_the_upload_scope(client, alpha, role, allowed):
    item = _receive(alpha, jpeg_bytes())
    client.login(username=alpha.member(role).username, password=PASSWORD)
    response = client.post(f"/api/v1/evidence/{item.public_id}/analyses/")
    assert response.status_code == (202 if allowed else 403)
    assert Analysis.objects.filter(evidence=item).count() == (2 if allowed else 1)


def test_reanalyse_command_reruns_every_item_of_a_case(alpha, capsys):
    first = _receive(alpha, jpeg_bytes())
    second = _receive(alpha, _edited_jpeg(), name="edited.jpg")

    call_command("reanalyse", "--org", "alpha", "--case", alpha.case.reference, "--now")

    assert Analysis.objects.filter(evidence=first, reason="reanalysis", status="done").count() == 1
    assert Analysis.objects.get(evidence=second, reason="reanalysis").verdict == "attention"
    assert "2 item(s)" in capsys.readouterr().out


def test_altered_ciphertext_fails_the_analysis_as_damage_before_any_tool_sees_it(alpha):
    # Given an item whose stored (encrypted) bytes were altered after ingest (one byte flipped)
    item = _receive(alpha, jpeg_bytes())
    path = storages["evidence"].path(item.storage_key)
    data = bytearray(Path(path).read_bytes())
    data[-3] ^= 0xFF
    os.chmod(path, 0o640)
    Path(path).write_bytes(bytes(data))

    # When it is analysed, then decryption refuses the altered file: the analysis fails naming the damage
    assert analyse_evidence(Analysis.objects.get(evidence=item).pk) == "failed"
    assert "CiphertextDamaged" in Analysis.objects.get(evidence=item).error


def test_stored_bytes_changed_after_ingest_make_the_verdict_compromised(alpha, django_capture_on_commit_callbacks):
    # Given an item stored before encryption (plaintext, no data key) whose bytes were altered after ingest
    item = _receive(alpha, jpeg_bytes())
    path = storages["evidence"].path(item.storage_key)
    with storages["evidence"].open(item.storage_key, "rb") as readable:
        data = bytearray(readable.read())
    DataKey.objects.filter(store="evidence", name=item.storage_key).delete()
    data[-3] ^= 0xFF
    os.chmod(path, 0o640)
    with open(path, "wb") as stored:
        stored.write(data)

    # When it is analysed
    analyse_evidence(Analysis.objects.get(evidence=item).pk)

    # Then the re-check of the ingest SHA-256 makes it compromised, quoting both digests
    analysis = Analysis.objects.get(evidence=item)
    assert analysis.verdict == "compromised"
    finding = next(f for f in analysis.findings if f["rule_id"] == "EM-INT-004")
    assert item.sha256 in finding["explanation"] or item.sha256 in str(finding["evidence"])
