"""Stripped capture metadata (EM-STRIP), maker notes against Make/Model and capture time (EM-MAKER) and trailer
accounting (EM-INT-002 against maker-note preview declarations), on generated files and on real camera files
from ../shared/corpus."""

from __future__ import annotations

import csv
import io
import shutil
import struct
import subprocess
import zipfile
from pathlib import Path

import pytest
from PIL import Image

from forensics.analysers import analyse_file
from forensics.analysers.pipeline import analyse_files
from forensics.rules import Evaluation, evaluate

from .conftest import exiftool_write, picture

MINOLTA_WITH_PREVIEW = Path("images/camera-original/Minolta_DiMAGE_S404.jpg")
# The warnings these rules add or change: none may fire on a genuine camera file.
OWN_WARNINGS = {"EM-STRIP-001", "EM-MAKER-001", "EM-MAKER-002", "EM-MAKER-003", "EM-INT-002"}
# A quantisation table no libjpeg quality setting produces, as camera firmware uses its own.
CAMERA_TABLE = [2 + (index % 7) for index in range(64)]


def judged(path: Path) -> Evaluation:
    return evaluate(analyse_file(path))


def findings(evaluation: Evaluation, rule_id: str) -> list:
    return [item for item in evaluation.findings if item.rule_id == rule_id]


def exif_with_maker_note(maker_note: bytes) -> bytes:
    """A big-endian EXIF block whose ExifIFD holds `maker_note` (Pillow cannot write one, ExifTool will not)."""
    ifd0_at = 8
    exif_ifd_at = ifd0_at + 2 + 12 + 4
    maker_note_at = exif_ifd_at + 2 + 12 + 4
    tiff = b"MM\x00\x2a" + struct.pack(">I", ifd0_at)
    tiff += struct.pack(">H", 1) + struct.pack(">HHII", 0x8769, 4, 1, exif_ifd_at) + struct.pack(">I", 0)
    tiff += struct.pack(">H", 1) + struct.pack(">HHII", 0x927C, 7, len(maker_note), maker_note_at)
    tiff += struct.pack(">I", 0)
    return b"Exif\x00\x00" + tiff + maker_note


# Nikon type 3: the "Nikon\0\2\x10\0\0" header, its own TIFF header, one inline entry (MakerNoteVersion "0210").
NIKON_NOTE = (
    b"Nikon\x00\x02\x10\x00\x00MM\x00\x2a"
    + struct.pack(">I", 8)
    + struct.pack(">H", 1)
    + struct.pack(">HHI", 0x0001, 7, 4)
    + b"0210"
    + struct.pack(">I", 0)
)
# Olympus type-1 notes as Seiko Epson wrote them: the "EPSON\0\1\0" header, one inline entry (Quality = 2).
EPSON_NOTE = b"EPSON\x00\x01\x00" + struct.pack(">H", 1) + struct.pack(">HHIHH", 0x0201, 3, 1, 2, 0)
EPSON_NOTE += struct.pack(">I", 0)


def camera_with_note(path: Path, maker_note: bytes, make: str, model: str) -> Path:
    picture().save(path, quality=92, exif=exif_with_maker_note(maker_note))
    exiftool_write(path, f"-Make={make}", f"-Model={model}", "-DateTimeOriginal=2024:05:01 10:00:00")
    return path


@pytest.fixture
def nikon_jpeg(tmp_path: Path) -> Path:
    return camera_with_note(tmp_path / "DSC_0001.jpg", NIKON_NOTE, "NIKON CORPORATION", "NIKON D90")


@pytest.fixture
def minolta_original(corpus: Path, tmp_path: Path) -> Path:
    source = corpus / MINOLTA_WITH_PREVIEW
    if not source.is_file():
        pytest.skip(f"{MINOLTA_WITH_PREVIEW} is not in the shared corpus")
    return Path(shutil.copy(source, tmp_path / "minolta.jpg"))


# --- EM-STRIP-001: capture metadata removed -----------------------------------------------------------------


def test_exiftool_strip_of_a_camera_photo_is_a_warning_naming_a_lossless_strip(camera_jpeg: Path) -> None:
    exiftool_write(camera_jpeg, "-all=")

    evaluation = judged(camera_jpeg)

    (item,) = findings(evaluation, "EM-STRIP-001")
    assert item.severity == "warning" and evaluation.verdict_code == "attention"
    assert item.evidence["format"] == "JPEG"
    assert any("no APPn segment" in seen for seen in item.evidence["platform_fingerprints"])
    assert "the metadata was removed" in item.explanation


def test_pillow_resave_without_exif_is_quoted_as_a_libjpeg_reencode(camera_jpeg: Path, tmp_path: Path) -> None:
    copy = tmp_path / "forwarded.jpg"
    with Image.open(camera_jpeg) as image:
        image.save(copy, "JPEG", quality=75)

    (item,) = findings(judged(copy), "EM-STRIP-001")

    seen = " | ".join(item.evidence["platform_fingerprints"])
    assert "APPn segments JFIF only" in seen
    assert "IJG standard quantisation tables at quality 75" in seen


@pytest.mark.skipif(shutil.which("jpegtran") is None, reason="jpegtran (libjpeg-turbo-progs) is not installed")
def test_jpegtran_copy_none_keeps_the_device_tables_and_says_so(tmp_path: Path) -> None:
    original = tmp_path / "camera.jpg"
    picture().save(original, quality=90, qtables=[CAMERA_TABLE, CAMERA_TABLE])
    exiftool_write(original, "-Make=Canon", "-Model=Canon PowerShot G11", "-DateTimeOriginal=2024:05:01 10:00:00")
    stripped = tmp_path / "stripped.jpg"
    stripped.write_bytes(subprocess.run(["jpegtran", "-copy", "none", str(original)], capture_output=True).stdout)

    (item,) = findings(judged(stripped), "EM-STRIP-001")

    seen = " | ".join(item.evidence["platform_fingerprints"])
    assert "quantisation tables that are not libjpeg's" in seen
    assert "JFIF only" in seen


def test_facebook_upload_identifier_is_named_as_a_platform_fingerprint(camera_jpeg: Path, tmp_path: Path) -> None:
    copy = tmp_path / "facebook.jpg"
    with Image.open(camera_jpeg) as image:
        image.save(copy, "JPEG", quality=85, progressive=True)
    exiftool_write(copy, "-IPTC:SpecialInstructions=FBMD01000a8a0300001e0b0000")

    (item,) = findings(judged(copy), "EM-STRIP-001")

    seen = " | ".join(item.evidence["platform_fingerprints"])
    assert "FBMD01000a8a" in seen and "Facebook" in seen
    assert "progressive coding" in seen


def test_png_without_metadata_is_not_a_stripped_capture(tmp_path: Path) -> None:
    path = tmp_path / "screenshot.png"
    picture().save(path)

    assert not findings(judged(path), "EM-STRIP-001")


def test_partial_strip_keeping_capture_settings_is_not_called_a_full_strip(camera_jpeg: Path) -> None:
    exiftool_write(camera_jpeg, "-Make=", "-Model=")

    assert not findings(judged(camera_jpeg), "EM-STRIP-001")


@pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="ffmpeg is not installed")
def test_video_without_any_metadata_is_a_stripped_capture(tmp_path: Path) -> None:
    path = tmp_path / "clip.mp4"
    subprocess.run(
        ["ffmpeg", "-loglevel", "error", "-f", "lavfi", "-i", "testsrc=size=160x120:rate=10", "-t", "1",
         "-c:v", "mpeg4", "-fflags", "+bitexact", "-flags:v", "+bitexact", "-map_metadata", "-1", str(path)],
        check=True,
    )  # fmt: skip

    (item,) = findings(judged(path), "EM-STRIP-001")

    assert item.evidence["format"] == "video"


# --- EM-MAKER-001..003: maker notes against Make, Model and capture time --------------------------------------


def test_make_edited_to_canon_over_nikon_maker_notes_is_caught(nikon_jpeg: Path) -> None:
    assert not findings(judged(nikon_jpeg), "EM-MAKER-001")

    exiftool_write(nikon_jpeg, "-Make=Canon", "-Model=Canon EOS 5D")
    evaluation = judged(nikon_jpeg)

    (item,) = findings(evaluation, "EM-MAKER-001")
    assert item.evidence["IFD0:Make"] == "Canon"
    assert item.evidence["maker_note_groups"] == {"Nikon": "Nikon"}
    assert "the maker notes are Nikon's" in item.explanation
    assert evaluation.verdict_code == "attention"


def test_oem_body_keeping_its_builders_maker_notes_is_not_flagged(tmp_path: Path) -> None:
    # Seiko Epson PhotoPC cameras write Olympus-format notes: a documented pair, while Sony over them is not.
    path = camera_with_note(tmp_path / "PIC00001.jpg", EPSON_NOTE, "SEIKO EPSON CORP.", "PhotoPC 3000Z")
    assert not findings(judged(path), "EM-MAKER-001")

    exiftool_write(path, "-Make=SONY")
    (item,) = findings(judged(path), "EM-MAKER-001")
    assert item.evidence["maker_note_groups"] == {"Olympus": "Olympus"}


def test_model_edit_contradicts_the_canon_model_id(camera_jpeg: Path) -> None:
    exiftool_write(camera_jpeg, "-Model=Canon PowerShot G12")

    (item,) = findings(judged(camera_jpeg), "EM-MAKER-002")

    assert item.evidence == {"IFD0:Model": "Canon PowerShot G12", "Canon:CanonModelID": "PowerShot G11"}


def test_regional_model_names_match_the_canon_model_id(camera_jpeg: Path) -> None:
    exiftool_write(camera_jpeg, "-Model=Canon PowerShot G11")

    assert not findings(judged(camera_jpeg), "EM-MAKER-002")


def test_capture_date_shift_is_caught_by_the_maker_note_clock(minolta_original: Path) -> None:
    assert not findings(judged(minolta_original), "EM-MAKER-003")

    exiftool_write(minolta_original, "-AllDates+=0:0:0 2:0:0")
    (item,) = findings(judged(minolta_original), "EM-MAKER-003")

    assert item.evidence["ExifIFD:DateTimeOriginal"] == "2002:05:16 17:43:26"
    assert item.evidence["Minolta:MinoltaDate+MinoltaTime"] == "2002:05:16 15:43:26"
    assert "7,200 seconds" in item.explanation


# --- trailer accounting: EM-MAKER-004 and EM-INT-002 ---------------------------------------------------------


def test_minolta_preview_after_the_image_is_accounted_for_by_its_maker_notes(minolta_original: Path) -> None:
    evaluation = judged(minolta_original)

    assert not findings(evaluation, "EM-INT-002")
    (item,) = findings(evaluation, "EM-MAKER-004")
    assert item.severity == "info"
    assert item.evidence["accounted_regions"][0]["declared_by"] == {"Minolta:PreviewImage (bytes)": 51137}
    assert "second JPEG image, 640x480" in item.explanation


def test_zip_appended_after_a_declared_preview_is_still_undeclared(minolta_original: Path) -> None:
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as bundle:
        bundle.writestr("secret.txt", "hidden after the preview")
    end = minolta_original.stat().st_size
    with minolta_original.open("ab") as handle:
        handle.write(archive.getvalue())

    evaluation = judged(minolta_original)

    (item,) = findings(evaluation, "EM-INT-002")
    regions = item.evidence["jpeg:undeclared_regions"]
    assert [(region["offset"], region["looks_like"]) for region in regions] == [(end, "ZIP archive")]
    assert evaluation.verdict_code == "attention"


@pytest.mark.parametrize(
    ("payload", "looks_like"),
    [
        (b"PK\x03\x04" + bytes(range(256)) * 4, "ZIP archive"),
        (None, "second JPEG image, 64x64 (baseline)"),
        (bytes((index * 73 + 11) % 256 for index in range(3000)), None),
    ],
    ids=["zip", "jpeg", "random"],
)
def test_data_appended_to_a_camera_like_jpeg_stays_a_warning(
    camera_jpeg: Path, payload: bytes | None, looks_like: str | None
) -> None:
    if payload is None:
        second = io.BytesIO()
        picture(64, 64).save(second, "JPEG")
        payload = second.getvalue()
    end = camera_jpeg.stat().st_size
    with camera_jpeg.open("ab") as handle:
        handle.write(payload)

    (item,) = findings(judged(camera_jpeg), "EM-INT-002")

    assert item.evidence["jpeg:undeclared_regions"][0]["offset"] == end
    assert item.evidence["jpeg:undeclared_regions"][0]["looks_like"] == looks_like
    assert item.severity == "warning"


def test_canon_maker_notes_under_another_make_are_caught(camera_jpeg: Path) -> None:
    # Canon notes have no header: ExifTool decodes them by the Make, so under "Apple" they read as nothing.
    exiftool_write(camera_jpeg, "-Make=Apple", "-Model=iPhone 12")

    (item,) = findings(judged(camera_jpeg), "EM-MAKER-001")

    assert item.evidence["jpeg:exif_maker_note_length"] > 0
    assert "cannot read it in Apple's format" in item.explanation


def test_suffix_added_to_the_model_is_caught(camera_jpeg: Path) -> None:
    exiftool_write(camera_jpeg, "-Model=Canon PowerShot G11 Pro")

    assert findings(judged(camera_jpeg), "EM-MAKER-002")


def test_no_corpus_camera_original_fires_the_stripping_maker_note_or_trailer_rules(corpus: Path) -> None:
    with (corpus / "manifest.csv").open() as handle:
        originals = [corpus / row["path"] for row in csv.DictReader(handle) if row["label"] == "camera-original"]
    fired = {
        path.name: [item.rule_id for item in evaluate(result).findings if item.rule_id in OWN_WARNINGS]
        for path, result in zip(originals, analyse_files(originals), strict=True)
    }

    assert len(originals) >= 40
    assert {name: ids for name, ids in fired.items() if ids} == {}


def test_canon_make_over_headed_notes_is_caught_by_the_signature_though_exiftool_reads_them_as_canon(
    tmp_path: Path,
) -> None:
    # ExifTool picks its Canon decoder by the Make before it looks for Olympus's header, so only the signature tells.
    path = camera_with_note(tmp_path / "PIC00002.jpg", EPSON_NOTE, "Canon", "Canon EOS 5D")

    (item,) = findings(judged(path), "EM-MAKER-001")

    assert item.evidence["maker_note_signature"] == "header 'EPSON\\0'"
    assert "the maker notes are Olympus's (header 'EPSON\\0')" in item.explanation


def test_apple_model_edit_contradicts_the_lens_the_phone_named(tmp_path: Path) -> None:
    path = tmp_path / "IMG_0001.jpg"
    picture().save(path, quality=92)
    exiftool_write(
        path, "-Make=Apple", "-Model=iPhone 11 Pro", "-LensModel=iPhone 11 Pro back triple camera 4.25mm f/1.8"
    )
    assert not findings(judged(path), "EM-MAKER-002")

    exiftool_write(path, "-Model=iPhone 11 Pro Max")
    (item,) = findings(judged(path), "EM-MAKER-002")

    assert item.evidence["ExifIFD:LensModel"] == "iPhone 11 Pro back triple camera 4.25mm f/1.8"
    assert "named after 'iPhone 11 Pro'" in item.explanation
