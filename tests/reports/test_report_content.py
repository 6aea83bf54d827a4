"""Reports generated for real image and video evidence: what the PDF says, how it is stored, signed and anchored."""

import hashlib
import re
import shutil
import subprocess

import pytest
from django.core.files.storage import storages

from cases import services
from cases.models import EvidenceItem
from custody import merkle
from custody.models import CustodyEvent
from forensics.models import Analysis
from reports.models import Report, ReportStatus
from reports.tasks import report_generate
from tests.conftest import jpeg_bytes, received
from tests.reports.conftest import pdf_text

HEX64 = re.compile(r"\b[0-9a-f]{64}\b")


def _stored(report: Report) -> bytes:
    with storages["reports"].open(report.storage_key, "rb") as stored:
        return stored.read()


def test_image_report_states_hashes_verdict_findings_metadata_custody_and_checkpoint(
    alpha, analysed, edited_jpeg, generate
):
    # Given an edited JPEG received and analysed
    item = analysed(alpha.case, edited_jpeg, alpha.investigator)
    analysis = Analysis.objects.get(evidence=item)
    assert analysis.findings, "the edited JPEG must give findings for this test to mean anything"

    # When the investigator generates its report
    report = generate(alpha.investigator, alpha.case, item)

    # Then the signed PDF is stored under a keyed name (never its SHA-256, which the ledger records)
    assert report.status == ReportStatus.DONE, report.error
    pdf = _stored(report)
    assert report.storage_key.endswith(".pdf") and report.sha256 not in report.storage_key
    assert hashlib.sha256(pdf).hexdigest() == report.sha256
    generated = CustodyEvent.objects.get(action="report.generated", evidence=item)
    assert generated.details["sha256"] == report.sha256
    assert generated.details["evidence"] == [str(item.public_id)]
    assert generated.actor == alpha.investigator

    # And the text holds the identity, the verdict with every finding, metadata and tool versions
    text, pages = pdf_text(pdf)
    flat = " ".join(text.split())
    for value in (
        str(report.public_id),
        str(item.public_id),
        str(alpha.case.public_id),
        alpha.case.reference,
        alpha.organisation.name,
        item.sha256,
        item.digest("sha1"),
        item.digest("md5"),
        "IMG_0412-edited.jpg",
        analysis.verdict_sentence,
        analysis.ruleset_version,
        analysis.tool_versions["exiftool"],
        "Canon PowerShot G7 X Mark III",
        "Adobe Photoshop 25.0 (Windows)",
        "2024-03-14T21:07:33",
        "SOF0",
    ):
        assert value in flat, value
    for finding in analysis.findings:
        assert finding["rule_id"] in flat
    # The report id is on every page (the footer)
    assert text.count(f"Evidence Media report {report.public_id}") == pages > 1

    # And the custody log lists the item's events, anchored to a checkpoint made before rendering
    checkpoint = report.checkpoint
    events = CustodyEvent.objects.filter(evidence=item, sequence__lte=checkpoint.tree_size).order_by("sequence")
    assert [e.action for e in events] == [
        "evidence.received",
        "analysis.queued",
        "analysis.started",
        "analysis.completed",
    ]
    for label in ("Evidence received", "Analysis queued", "Analysis started", "Analysis completed"):
        assert label in flat
    assert checkpoint.root_hash in flat
    assert checkpoint.signature[:40] in flat.replace(" ", "")
    assert "entries, " in flat and "checkpoints verified" in flat  # the ledger verification at generation time

    # And each event's printed audit path proves it against the printed root, offline
    hashes_in_order = HEX64.findall(text)
    for event in events:
        start = hashes_in_order.index(event.entry_hash)
        depth = len(merkle.inclusion_proof([b"\0" * 32] * checkpoint.tree_size, event.sequence - 1))
        proof = [bytes.fromhex(h) for h in hashes_in_order[start + 1 : start + 1 + depth]]
        leaf = merkle.leaf_hash(bytes.fromhex(event.entry_hash))
        assert merkle.verify_inclusion(
            leaf, event.sequence - 1, checkpoint.tree_size, proof, bytes.fromhex(checkpoint.root_hash)
        )


def test_video_report_lists_mediainfo_tracks_and_mp4_boxes(alpha, analysed, mp4_video, generate):
    item = analysed(alpha.case, mp4_video, alpha.investigator)
    analysis = Analysis.objects.get(evidence=item)

    report = generate(alpha.investigator, alpha.case, item)

    assert report.status == ReportStatus.DONE, report.error
    text, _ = pdf_text(_stored(report))
    flat = " ".join(text.split())
    assert item.sha256 in flat
    assert analysis.verdict_sentence in flat
    for finding in analysis.findings:
        assert finding["rule_id"] in flat
    assert "MediaInfo: General (track 1)" in flat and "MediaInfo: Video (track 2)" in flat
    assert "AVC" in flat
    for box in ("/ftyp", "/moov", "/mdat", "/moov/mvhd"):
        assert box in flat
    assert "QuickTime" in flat  # an ExifTool group


def test_page_one_renders_to_a_png(alpha, analysed, edited_jpeg, generate, tmp_path):
    if shutil.which("pdftoppm") is None:
        pytest.skip("pdftoppm (poppler-utils) is not installed; scripts/setup.sh installs it")
    item = analysed(alpha.case, edited_jpeg, alpha.investigator)
    report = generate(alpha.investigator, alpha.case, item)
    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(_stored(report))

    subprocess.run(["pdftoppm", "-r", "72", "-png", "-f", "1", "-l", "1", str(pdf), str(tmp_path / "page")], check=True)

    png = next(tmp_path.glob("page*.png"))
    header = png.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = int.from_bytes(header[16:20], "big"), int.from_bytes(header[20:24], "big")
    assert abs(width - 595) <= 1 and abs(height - 842) <= 1  # A4 at 72 dpi, rounded either way
    assert png.stat().st_size > 20_000  # a page with text and tables, not a blank one


def test_case_report_has_the_items_table_and_a_section_per_item(alpha, analysed, edited_jpeg, mp4_video, generate):
    photo = analysed(alpha.case, edited_jpeg, alpha.investigator)
    video = analysed(alpha.case, mp4_video, alpha.investigator)

    report = generate(alpha.supervisor, alpha.case)

    assert report.status == ReportStatus.DONE, report.error
    assert report.evidence is None
    text, _ = pdf_text(_stored(report))
    flat = " ".join(text.split())
    assert "Evidence items of case " + alpha.case.reference in flat
    assert "Case created" in flat  # the case's own custody log
    for item in (photo, video):
        item = EvidenceItem.objects.get(pk=item.pk)
        assert f"Identity of evidence item {item.public_id}" in flat
        assert item.sha256 in flat.replace(" ", "")
        assert item.get_verdict_display() in flat
    generated = CustodyEvent.objects.get(action="report.generated", case=alpha.case, evidence=None)
    assert generated.details["evidence"] == [str(photo.public_id), str(video.public_id)]


def test_running_the_task_twice_generates_once(alpha, analysed, edited_jpeg, generate):
    item = analysed(alpha.case, edited_jpeg, alpha.investigator)
    report = generate(alpha.investigator, alpha.case, item)

    assert report_generate(report.pk).startswith("skipped")

    assert CustodyEvent.objects.filter(action="report.generated", evidence=item).count() == 1
    assert Report.objects.get(pk=report.pk).sha256 == report.sha256


def test_a_failed_generation_is_recorded_and_shown(
    alpha, analysed, edited_jpeg, generate, client, settings, tmp_path, keys_dir
):
    # Given a custody key that has gone missing while the report was generated (the checkpoint cannot be signed)
    item = analysed(alpha.case, edited_jpeg, alpha.investigator)
    settings.KEYS_DIR = tmp_path / "no-keys"

    report = generate(alpha.investigator, alpha.case, item)
    settings.KEYS_DIR = keys_dir

    assert report.status == ReportStatus.FAILED
    assert "custody_keygen" in report.error
    assert not CustodyEvent.objects.filter(action="report.generated").exists()
    client.force_login(alpha.investigator)
    page = client.get(f"/evidence/{item.public_id}/").content.decode()
    assert "failed" in page and "custody_keygen" in page


def test_a_report_waits_for_the_analysis(alpha, client):
    # Given an item whose analysis is still queued (the task has not run)
    item = services.evidence_receive(case=alpha.case, received=received(jpeg_bytes()), actor=alpha.investigator).item
    client.force_login(alpha.investigator)

    response = client.post(f"/api/v1/evidence/{item.public_id}/reports/")

    assert response.status_code == 409
    assert "analysis" in response.json()["detail"]
    assert not Report.objects.exists()


def test_names_in_other_scripts_are_printed_not_boxed(alpha, analysed, edited_jpeg, generate, tmp_path):
    # Given evidence whose file name is Cyrillic and Greek (a victim's own naming, kept as data)
    renamed = tmp_path / "фото жертвы αβγ.jpg"
    shutil.copy(edited_jpeg, renamed)
    item = analysed(alpha.case, renamed, alpha.investigator)

    # When its report is generated
    report = generate(alpha.investigator, alpha.case, item)

    # Then the PDF embeds a Unicode font and the name reads back as written
    text, _ = pdf_text(_stored(report))
    assert "фото жертвы αβγ.jpg" in " ".join(text.split())
