"""The EXIF-thumbnail comparison picture: made on request from the media, served to members like a preview with
each view recorded in custody, 404 across organisations, gone with the media, and embedded in reports."""

import io
from pathlib import Path

from django.core.files.storage import storages
from PIL import Image

from cases import services
from cases.models import EvidenceItem
from cases.previews import thumbnail_comparison_key
from custody.models import CustodyEvent
from forensics.models import Analysis
from reports.content import thumbnail_comparison_embedded
from tests.conftest import PASSWORD, received
from tests.forensics.test_exif_thumbnail import camera_jpeg, exif_block, scene


def _replaced_under_thumbnail(tmp_path: Path) -> bytes:
    """A camera-like JPEG whose main image was replaced under its original EXIF thumbnail."""
    original = tmp_path / "camera.jpg"
    camera_jpeg(original)
    replaced = tmp_path / "replaced.jpg"
    scene(640, 480, seed=2).save(replaced, "JPEG", quality=92, exif=exif_block(original))
    return replaced.read_bytes()


def _receive(tenant, data: bytes) -> EvidenceItem:
    receipt = services.evidence_receive(
        case=tenant.case, received=received(data, "photo.jpg", "image/jpeg"), actor=tenant.investigator
    )
    return EvidenceItem.objects.get(pk=receipt.item.pk)


def _views(item) -> int:
    return CustodyEvent.objects.filter(evidence=item, action="media.viewed").count()


def _url(item) -> str:
    return f"/evidence/{item.public_id}/thumbnail-comparison/"


def test_comparison_is_a_png_of_three_panels_and_each_view_is_recorded(client, alpha, tmp_path):
    item = _receive(alpha, _replaced_under_thumbnail(tmp_path))
    client.login(username=alpha.auditor.username, password=PASSWORD)  # case:read only, no media:download

    response = client.get(_url(item))

    assert response.status_code == 200
    assert response["Content-Type"] == "image/png" and "no-store" in response["Cache-Control"]
    picture = Image.open(io.BytesIO(b"".join(response.streaming_content)))
    assert picture.size == (3 * 320 + 16, 240)  # thumbnail, scaled main image, difference, each shown at 2x
    assert storages["derived"].exists(thumbnail_comparison_key(item))
    event = CustodyEvent.objects.get(evidence=item, action="media.viewed")
    assert event.details["via"] == "thumbnail comparison" and event.actor == alpha.auditor


def test_foreign_organisation_gets_404_and_nothing_is_made_or_recorded(client, alpha, beta, tmp_path):
    item = _receive(beta, _replaced_under_thumbnail(tmp_path))
    events = CustodyEvent.objects.filter(organisation=beta.organisation).count()
    client.login(username=alpha.admin.username, password=PASSWORD)

    response = client.get(_url(item))

    assert response.status_code == 404
    assert not storages["derived"].exists(thumbnail_comparison_key(item))
    assert CustodyEvent.objects.filter(organisation=beta.organisation).count() == events


def test_jpeg_without_a_thumbnail_gets_a_reason_and_no_view_event(client, alpha, tmp_path):
    path = tmp_path / "plain.jpg"
    scene(320, 240, seed=1).save(path, "JPEG", quality=90)
    item = _receive(alpha, path.read_bytes())
    client.login(username=alpha.investigator.username, password=PASSWORD)

    response = client.get(_url(item))

    assert response.status_code == 422
    assert "no EXIF thumbnail" in response.content.decode()
    assert _views(item) == 0


def test_deleted_media_has_no_comparison_and_its_derived_file_is_gone(
    client, alpha, tmp_path, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):  # media is deleted only once analysed
        item = _receive(alpha, _replaced_under_thumbnail(tmp_path))
    client.login(username=alpha.investigator.username, password=PASSWORD)
    assert client.get(_url(item)).status_code == 200

    services.evidence_media_delete(item=EvidenceItem.objects.get(pk=item.pk), reason="test", actor=alpha.admin)

    assert client.get(_url(item)).status_code == 404
    assert not storages["derived"].exists(thumbnail_comparison_key(item))


def test_report_embeds_the_comparison_when_a_thumbnail_finding_fired(
    alpha, tmp_path, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):  # the upload's analysis runs
        item = _receive(alpha, _replaced_under_thumbnail(tmp_path))
    analysis = Analysis.objects.get(evidence=item)
    assert "EM-THUMB-001" in {finding["rule_id"] for finding in analysis.findings}

    embedded = thumbnail_comparison_embedded(item, analysis, actor=alpha.investigator)

    assert embedded.startswith("data:image/png;base64,")
    assert storages["derived"].exists(thumbnail_comparison_key(item))


def test_report_embeds_nothing_without_a_thumbnail_finding(alpha, tmp_path, django_capture_on_commit_callbacks):
    path = tmp_path / "camera.jpg"
    camera_jpeg(path)
    with django_capture_on_commit_callbacks(execute=True):
        item = _receive(alpha, path.read_bytes())
    analysis = Analysis.objects.get(evidence=item)

    assert thumbnail_comparison_embedded(item, analysis, actor=alpha.investigator) is None
    assert not storages["derived"].exists(thumbnail_comparison_key(item))


def test_evidence_page_offers_the_comparison_beside_a_thumbnail_finding_while_media_is_held(
    client, alpha, tmp_path, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        item = _receive(alpha, _replaced_under_thumbnail(tmp_path))
    client.login(username=alpha.investigator.username, password=PASSWORD)

    page = client.get(f"/evidence/{item.public_id}/").content.decode()
    services.evidence_media_delete(item=EvidenceItem.objects.get(pk=item.pk), reason="test", actor=alpha.admin)
    after_deletion = client.get(f"/evidence/{item.public_id}/").content.decode()

    assert "EM-THUMB-001" in page and _url(item) in page
    assert "EM-THUMB-001" in after_deletion and _url(item) not in after_deletion
