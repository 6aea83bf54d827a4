"""Reports embed the EXIF-thumbnail comparison picture where an EM-THUMB content finding fired."""

import io

from django.core.files.storage import storages
from pypdf import PdfReader

from tests.forensics.test_exif_thumbnail import camera_jpeg, exif_block, scene
from tests.reports.conftest import pdf_text


def _pdf(report) -> bytes:
    with storages["reports"].open(report.storage_key, "rb") as stored:
        return stored.read()


def _images(data: bytes) -> int:
    return sum(len(page.images) for page in PdfReader(io.BytesIO(data)).pages)


def test_report_shows_the_comparison_for_a_main_image_replaced_under_its_thumbnail(alpha, analysed, generate, tmp_path):
    original = tmp_path / "camera.jpg"
    camera_jpeg(original)
    replaced = tmp_path / "replaced.jpg"
    scene(640, 480, seed=2).save(replaced, "JPEG", quality=92, exif=exif_block(original))
    item = analysed(alpha.case, replaced, alpha.investigator)

    data = _pdf(generate(alpha.investigator, alpha.case, item))

    text, _ = pdf_text(data)
    assert "EM-THUMB-001" in text and "EXIF thumbnail comparison" in text
    assert _images(data) == 1


def test_report_has_no_comparison_when_the_thumbnail_matches(alpha, analysed, generate, tmp_path):
    path = tmp_path / "camera.jpg"
    camera_jpeg(path)
    item = analysed(alpha.case, path, alpha.investigator)

    data = _pdf(generate(alpha.investigator, alpha.case, item))

    assert "EXIF thumbnail comparison" not in pdf_text(data)[0]
    assert _images(data) == 0
