"""An evidence report opens with a page a judge can read (identity, verdict, assessment, key facts, custody), keeps
metadata in an appendix that wraps and describes binary values, puts the proofs last, compactly, and downloads
under a name that says what it is."""

import io

from django.core.files.storage import storages
from PIL import Image
from pypdf import PdfReader

from reports.models import Report, download_name_part
from tests.forensics.conftest import exiftool_write

# Measured with pdfinfo on this test's edited JPEG: 6 pages before the summary page (metadata tables and one
# audit-path node per line), 5 after, 6 with the table of what was examined.
EDITED_JPEG_MAX_PAGES = 6


def _pages(report: Report) -> list[str]:
    with storages["reports"].open(report.storage_key, "rb") as stored:
        reader = PdfReader(io.BytesIO(stored.read()))
    return [" ".join(page.extract_text().split()) for page in reader.pages]


def test_page_one_answers_what_a_judge_asks_and_the_proofs_come_last(alpha, analysed, edited_jpeg, generate):
    item = analysed(alpha.case, edited_jpeg, alpha.investigator)

    report = generate(alpha.investigator, alpha.case, item)

    pages = _pages(report)
    first = pages[0]
    for expected in (
        "IMG_0412-edited.jpg",
        str(item.public_id),
        item.sha256,
        alpha.case.reference,
        "Potential integrity anomalies detected",
        # The assessment, in words
        "Synthetic media none found",
        "Editing or re-encoding evidence of editing software (Adobe Photoshop); resizing or cropping;",
        "Provenance none",
        "Metadata present",
        # Key facts
        "Device Canon PowerShot G7 X Mark III",
        "Capture time 2024-03-14T21:07:33.42+01:00",
        "GPS position 51.507219, -0.127500",
        "Dimensions 512 × 384 pixels",
        # Custody status
        "intact",
        "4 custody events since",
        "Anchored to signed checkpoint",
    ):
        assert expected in first, expected
    assert "Appendix A" not in first and "Inclusion proofs" not in first
    assert len(pages) <= EDITED_JPEG_MAX_PAGES
    text = " ".join(pages)
    assert text.index("Appendix A: metadata") < text.index("Appendix B: custody") < text.index("Appendix C")
    assert "Inclusion proofs against checkpoint" in pages[-1]


def test_metadata_appendix_describes_binary_values_and_wraps_long_tag_names(
    alpha, analysed, generate, tmp_path, edited_jpeg
):
    thumbnail = tmp_path / "thumb.jpg"
    Image.new("RGB", (160, 120), (10, 20, 30)).save(thumbnail)
    exiftool_write(edited_jpeg, f"-ThumbnailImage<={thumbnail}", "-XMP-dc:Title=x")
    item = analysed(alpha.case, edited_jpeg, alpha.investigator)

    text = " ".join(_pages(generate(alpha.investigator, alpha.case, item)))

    assert f"ThumbnailImage {thumbnail.stat().st_size:,} bytes of binary data" in text
    assert "-b option" not in text
    # EXIF dates in the appendix read as ISO 8601 too
    assert "DateTimeOriginal 2024-03-14T21:07:33" in text


def test_download_is_named_after_the_case_and_the_file(alpha, analysed, edited_jpeg, generate, client):
    item = analysed(alpha.case, edited_jpeg, alpha.investigator)
    report = generate(alpha.investigator, alpha.case, item)
    client.force_login(alpha.investigator)

    response = client.get(f"/reports/{report.public_id}/download/")

    assert response.status_code == 200
    expected = f"{alpha.case.reference}-IMG_0412-edited.jpg-report.pdf"
    assert response["Content-Disposition"] == f'attachment; filename="{expected}"'


def test_download_name_keeps_only_safe_characters():
    assert download_name_part("<script>alert(1)</script>.jpg") == "script_alert_1_script_.jpg"
    assert download_name_part("../../etc/passwd") == "etc_passwd"
    assert download_name_part('a "quoted"\r\nname.mov') == "a_quoted_name.mov"
    assert download_name_part("Фото 1.jpg") == "Фото_1.jpg"
    assert download_name_part("...") == "file"
    assert len(download_name_part("x" * 500)) == 80


def test_the_report_says_what_was_examined_and_what_could_not_be(alpha, analysed, generate, tmp_path):
    small = tmp_path / "small.jpg"
    Image.new("RGB", (64, 48), (200, 30, 30)).save(small, quality=90)
    item = analysed(alpha.case, small, alpha.investigator)

    text = " ".join(_pages(generate(alpha.investigator, alpha.case, item)))

    assert "What was examined" in text
    assert "A check that could not be made, or stopped before the end of the file, found nothing in what it" in text
    assert "Double JPEG compression not made: image too small" in text
    assert "Audio and video tracks (MediaInfo) not applicable: not audio or video (image/jpeg)" in text


def test_the_report_says_a_walk_stopped_at_its_limit_was_partly_examined(
    alpha, analysed, generate, tmp_path, monkeypatch
):
    from forensics.analysers import jpeg_structure

    monkeypatch.setattr(jpeg_structure, "MAX_SEGMENTS", 3)
    photo = tmp_path / "photo.jpg"
    Image.new("RGB", (256, 192), (30, 90, 200)).save(photo, quality=90)
    item = analysed(alpha.case, photo, alpha.investigator)

    text = " ".join(" ".join(_pages(generate(alpha.investigator, alpha.case, item))).split())

    assert "JPEG segments and quantisation tables partly examined: stopped at its limit: Stopped after 3 segments" in (
        text
    )
    assert "the rest of the file was not examined" in text
    assert "A check that could not be made, or stopped before the end of the file, found nothing in what it" in text
    assert "EM-STRUCT-013" in text
