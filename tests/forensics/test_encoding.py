"""Encoder fingerprint versus device profiles (EM-ENC-001..004), double JPEG compression (EM-ENC-005/006), the
`device_profiles build` command and the profile digest in the ruleset version, on files generated here."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import shutil
import struct
from pathlib import Path

import jpeglib
import numpy as np
import pytest
from django.core.management import CommandError, call_command
from PIL import Image, ImageFilter

from forensics.analysers import analyse_file
from forensics.analysers.double_jpeg import MAX_PIXELS, double_jpeg_estimate
from forensics.analysers.exif_layout import exif_layout
from forensics.analysers.jpeg_fingerprint import encoder_fingerprint
from forensics.analysers.jpeg_structure import jpeg_structure_read
from forensics.device_profiles import PROFILE_ENV, PROFILE_FILE, content_digest
from forensics.rules import RULESET_VERSION, Evaluation, evaluate
from forensics.rules.encoding import NEVER_MIN_MAKE_FILES, RARE_MIN_MAKE_FILES

from .conftest import exif_with_canon_maker_note, exiftool_write, with_reserved_exif_space

ENCODING_WARNINGS = {f"EM-ENC-00{number}" for number in (1, 2, 3, 4, 5, 7, 8, 9)}
# Tables no library writes: the "camera" of these tests, like most camera firmware, has its own.
CAMERA_TABLES = [[2 + (index * 5) % 9 for index in range(64)], [3 + (index * 3) % 7 for index in range(64)]]
OTHER_TABLES = [[4 + (index * 7) % 11 for index in range(64)], [5 + (index * 2) % 5 for index in range(64)]]
ORIGINALS = 8


def scene(width: int = 1024, height: int = 768, seed: int = 1) -> Image.Image:
    """A photo-like image: smooth gradients with fine texture, so every low-frequency coefficient varies."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width]
    base = 110 + 60 * np.sin(x / 97.0) * np.cos(y / 61.0)
    texture = rng.normal(0, 18, (height, width))
    channels = [np.clip(base + texture + shift, 0, 255) for shift in (0, 25, -25)]
    image = Image.fromarray(np.stack(channels, axis=2).astype("uint8"), "RGB")
    return image.filter(ImageFilter.GaussianBlur(0.8))


def camera_original(path: Path, *, make: str = "Testcam", model: str = "TC-1", seed: int = 1) -> Path:
    """What the test camera writes: its own tables, EXIF with a maker note and reserved space, no JFIF header."""
    scene(seed=seed).save(path, "JPEG", qtables=CAMERA_TABLES, exif=exif_with_canon_maker_note())
    exiftool_write(path, "-JFIF:all=", f"-Make={make}", f"-Model={model}", "-DateTimeOriginal=2024:05:01 10:00:00")
    return with_reserved_exif_space(path)


def exif_of(path: Path) -> bytes:
    with Image.open(path) as image:
        return image.info["exif"]


def resaved(source: Path, target: Path, **options: object) -> Path:
    with Image.open(source) as image:
        image.save(target, "JPEG", exif=image.info["exif"], **options)
    return target


def judged(path: Path) -> Evaluation:
    return evaluate(analyse_file(path))


def fired(evaluation: Evaluation) -> dict[str, dict]:
    return {item.rule_id: {"evidence": item.evidence, "explanation": item.explanation} for item in evaluation.findings}


@pytest.fixture(scope="module")
def originals_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("originals")
    for number in range(ORIGINALS):
        camera_original(folder / f"IMG_{number:04d}.jpg", seed=number)
    shutil.copy(folder / "IMG_0000.jpg", folder / "copy of IMG_0000.jpg")
    edited = camera_original(folder / "edited.jpg", seed=10)
    exiftool_write(edited, "-Software=Adobe Photoshop 25.0")
    resized = camera_original(folder / "resized.jpg", seed=12)
    exiftool_write(resized, "-ExifImageWidth=2048", "-ExifImageHeight=1536")
    scene(seed=11).save(folder / "no_maker_note.jpg", "JPEG", qtables=CAMERA_TABLES)
    exiftool_write(folder / "no_maker_note.jpg", "-Make=Testcam", "-Model=TC-1")
    return folder


@pytest.fixture(scope="module")
def built_profiles(originals_folder: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    output = tmp_path_factory.mktemp("profiles") / "profiles.json"
    call_command("device_profiles", "build", str(originals_folder), "--output", str(output))
    return output


@pytest.fixture
def profiles(built_profiles: Path, monkeypatch: pytest.MonkeyPatch) -> dict:
    monkeypatch.setenv(PROFILE_ENV, str(built_profiles))
    return json.loads(built_profiles.read_text())


@pytest.fixture
def original(tmp_path: Path, profiles: dict) -> Path:
    return camera_original(tmp_path / "IMG_0100.jpg", seed=100)


# --- the build command ---------------------------------------------------------------------------------------


def test_build_keeps_only_camera_originals_and_records_what_it_skipped(built_profiles: Path) -> None:
    data = json.loads(built_profiles.read_text())

    testcam = data["makes"]["testcam"]
    assert list(data["makes"]) == ["testcam"]
    assert testcam["files"] == ORIGINALS
    assert testcam["jfif"] == {"false": ORIGINALS}
    assert testcam["huffman"] == {"standard": ORIGINALS}
    assert testcam["exif_byte_order"] == {"II": ORIGINALS}
    assert data["built_from"]["skipped"]["duplicate"] == 1
    assert data["built_from"]["skipped"]["not_camera_original"] == 2
    assert data["built_from"]["skipped"]["resized_or_rotated"] == 1
    assert data["digest"] == content_digest(data)


def test_build_marks_a_model_with_one_repeated_table_set_as_closed(built_profiles: Path) -> None:
    model = json.loads(built_profiles.read_text())["makes"]["testcam"]["models"]["tc-1"]

    assert model["closed_tables"] is True
    assert list(model["quant_digests"].values()) == [ORIGINALS]


def test_build_is_deterministic(originals_folder: Path, built_profiles: Path, tmp_path: Path) -> None:
    again = tmp_path / "again.json"

    call_command("device_profiles", "build", str(originals_folder), "--output", str(again))

    assert again.read_bytes() == built_profiles.read_bytes()


def test_build_generates_software_tables_it_recognises_later(built_profiles: Path, tmp_path: Path) -> None:
    software = json.loads(built_profiles.read_text())["software_encoders"]
    pillow = tmp_path / "pillow.jpg"
    scene(64, 64).save(pillow, quality=75)

    digest = encoder_fingerprint(jpeg_structure_read(pillow), None).quant_digest

    assert "Pillow, quality 75" in software["quant_digests"][digest]
    assert any("mozjpeg, quality 75" in labels for labels in software["quant_digests"].values())
    assert any("Adobe Photoshop, Quality 10" in labels for labels in software["jpeg_digests"].values())


def test_build_calibration_half_skips_files_whose_digest_starts_8_to_f(originals_folder: Path, tmp_path: Path) -> None:
    held_out = sum(
        hashlib.sha256(path.read_bytes()).hexdigest()[0] in "89abcdef" for path in originals_folder.glob("IMG_*.jpg")
    )
    output = tmp_path / "half.json"

    call_command("device_profiles", "build", str(originals_folder), "--output", str(output), "--calibration-half")

    data = json.loads(output.read_text())
    assert data["built_from"]["skipped"]["held_out_half"] >= held_out
    assert data["built_from"]["selection"].startswith("calibration half")


def test_build_refuses_a_folder_without_camera_originals(tmp_path: Path) -> None:
    scene(64, 64).save(tmp_path / "web.jpg", quality=80)

    with pytest.raises(CommandError, match="no camera originals found"):
        call_command("device_profiles", "build", str(tmp_path), "--output", str(tmp_path / "out.json"))

    assert not (tmp_path / "out.json").exists()


def test_show_names_the_profile_file_in_force_and_its_version(built_profiles: Path, profiles: dict) -> None:
    stdout = io.StringIO()

    call_command("device_profiles", "show", stdout=stdout)

    assert stdout.getvalue().strip() == f"{built_profiles}: dp.{profiles['digest'][:8]}, 1 makes"


# --- the version ---------------------------------------------------------------------------------------------


def test_evaluation_records_the_profile_digest_in_force(original: Path, profiles: dict) -> None:
    evaluation = judged(original)

    assert evaluation.ruleset_version == f"{RULESET_VERSION}+dp.{profiles['digest'][:8]}"
    shipped = json.loads(PROFILE_FILE.read_text())["digest"][:8]
    assert shipped != profiles["digest"][:8]


# --- EM-ENC-001..004 ------------------------------------------------------------------------------------------


def test_camera_original_matching_its_profile_gets_no_encoding_warning(original: Path) -> None:
    assert not ENCODING_WARNINGS & set(fired(judged(original)))


def test_mozjpeg_tables_under_camera_exif_are_a_warning(original: Path, tmp_path: Path) -> None:
    mozjpeg = tmp_path / "mozjpeg.jpg"
    with jpeglib.version("mozjpeg403"):
        jpeglib.from_spatial(np.asarray(scene(256, 256))).write_spatial(str(mozjpeg), qt=75)
    tables = [list(table.ravel()) for table in jpeglib.read_dct(str(mozjpeg)).qt]
    copy = tmp_path / "copy.jpg"
    scene().save(copy, "JPEG", qtables=tables, exif=exif_of(original))

    finding = fired(judged(copy))["EM-ENC-001"]

    assert "mozjpeg, quality 75" in finding["evidence"]["software_encoders"]
    assert finding["evidence"]["IFD0:Make/Model"] == "Testcam TC-1"
    assert finding["evidence"]["profile:make_tables"]["files"] == ORIGINALS


def test_libjpeg_resave_keeping_camera_exif_is_a_warning(original: Path, tmp_path: Path) -> None:
    copy = resaved(original, tmp_path / "copy.jpg", quality=85)

    finding = fired(judged(copy))["EM-ENC-002"]

    assert finding["evidence"]["jpeg:ijg_quality"] == 85
    assert finding["evidence"]["jpeg:app_segments"][0] == "APP0 JFIF"
    assert finding["evidence"]["profile:make_layout"]["libjpeg_layout"] == {"false": ORIGINALS}
    assert f"none of the {ORIGINALS} originals" in finding["explanation"]


def test_libjpeg_layout_with_maker_notes_of_an_unprofiled_make_is_a_warning(original: Path, tmp_path: Path) -> None:
    copy = resaved(original, tmp_path / "copy.jpg", quality=90)
    exiftool_write(copy, "-Make=Othercam", "-Model=OC-7")

    finding = fired(judged(copy))["EM-ENC-002"]

    assert finding["evidence"]["profile:make_layout"] == {"files": 0}
    assert "no profile exists for this make" in finding["explanation"]


def test_libjpeg_layout_is_not_flagged_at_a_quality_the_make_originals_show(
    original: Path, profiles: dict, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    profiles["makes"]["testcam"]["libjpeg_layout"] = {"false": ORIGINALS - 1, "true": 1}
    profiles["makes"]["testcam"]["libjpeg_layout_qualities"] = {"85": 1}
    edited_profiles = tmp_path / "profiles.json"
    edited_profiles.write_text(json.dumps(profiles))
    monkeypatch.setenv(PROFILE_ENV, str(edited_profiles))

    at_the_same_quality = resaved(original, tmp_path / "same.jpg", quality=85)
    at_another_quality = resaved(original, tmp_path / "other.jpg", quality=88)

    assert "EM-ENC-002" not in fired(judged(at_the_same_quality))
    assert "EM-ENC-002" in fired(judged(at_another_quality))


def test_tables_outside_a_closed_model_profile_are_a_warning(original: Path, tmp_path: Path) -> None:
    copy = tmp_path / "copy.jpg"
    scene().save(copy, "JPEG", qtables=OTHER_TABLES, exif=exif_of(original))
    exiftool_write(copy, "-JFIF:all=")

    finding = fired(judged(copy))["EM-ENC-003"]

    assert finding["evidence"]["profile:model_tables"]["files"] == ORIGINALS
    assert finding["evidence"]["jpeg:quant_digest"] not in finding["evidence"]["profile:model_tables"]["quant_digests"]
    assert "Testcam TC-1" in finding["explanation"]


def with_profile_edit(profiles: dict, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, **make_fields: object) -> None:
    profiles["makes"]["testcam"].update(make_fields)
    edited_profiles = tmp_path / "edited-profiles.json"
    edited_profiles.write_text(json.dumps(profiles))
    monkeypatch.setenv(PROFILE_ENV, str(edited_profiles))


def with_tables_in_one_segment(path: Path) -> Path:
    """The file with its DQT segments merged into one (two tables in one segment, as most camera firmware writes
    them), every other byte kept: a JFIF file whose marker order is not libjpeg's."""
    data = path.read_bytes()
    position, kept, tables, first_table_at = 2, [data[:2]], b"", None
    while data[position + 1] != 0xDA:  # up to the first scan
        length = struct.unpack(">H", data[position + 2 : position + 4])[0]
        if data[position + 1] == 0xDB:
            tables += data[position + 4 : position + 2 + length]
            first_table_at = len(kept) if first_table_at is None else first_table_at
        else:
            kept.append(data[position : position + 2 + length])
        position += 2 + length
    kept.insert(first_table_at, b"\xff\xdb" + struct.pack(">H", len(tables) + 2) + tables)
    path.write_bytes(b"".join(kept) + data[position:])
    return path


def test_resave_with_the_cameras_own_tables_is_a_libjpeg_marker_warning(original: Path, tmp_path: Path) -> None:
    # Pillow (libjpeg) writes a JFIF header and one segment per table even when told to reuse the camera's tables.
    own_tables = resaved(original, tmp_path / "own.jpg", qtables=CAMERA_TABLES)

    findings = fired(judged(own_tables))

    finding = findings["EM-ENC-009"]
    assert finding["evidence"]["jpeg:app_segments"][0] == "APP0 JFIF"
    assert finding["evidence"]["jpeg:table_markers"] == "DQT:1 DQT:1 SOF0 DHT:1 DHT:1 DHT:1 DHT:1 SOS"
    assert finding["evidence"]["profile:make_layout"]["libjpeg_markers"] == {"false": ORIGINALS}
    assert "0 of the 8 originals of this make" in finding["explanation"]
    assert "EM-ENC-007" not in findings  # one finding for one cause


def test_libjpeg_markers_under_an_unprofiled_make_are_a_warning(original: Path, tmp_path: Path) -> None:
    own_tables = resaved(original, tmp_path / "own.jpg", qtables=CAMERA_TABLES)
    exiftool_write(own_tables, "-Make=Othercam", "-Model=OC-7")

    finding = fired(judged(own_tables))["EM-ENC-009"]

    assert finding["evidence"]["profile:make_layout"] == {"files": 0}
    assert "no original of this make" in finding["explanation"]


@pytest.mark.parametrize(
    ("make_fields", "model_fields"),
    [
        ({"libjpeg_markers": {"false": ORIGINALS - 1, "true": 1}}, {"libjpeg_markers": {"false": 7, "true": 1}}),
        ({"files": 3, "libjpeg_markers": {"false": 2, "true": 1}}, {}),
        ({"libjpeg_markers": {"false": ORIGINALS - 2, "true": 2}}, {}),
    ],
    ids=["the model's originals show it", "one of a few make originals shows it", "a fifth of the make shows it"],
)
def test_libjpeg_markers_are_not_flagged_where_the_profiles_show_them(
    original: Path, profiles: dict, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, make_fields, model_fields
) -> None:
    profiles["makes"]["testcam"]["models"]["tc-1"].update(model_fields)
    with_profile_edit(profiles, tmp_path, monkeypatch, **make_fields)

    assert "EM-ENC-009" not in fired(judged(resaved(original, tmp_path / "own.jpg", qtables=CAMERA_TABLES)))


def test_jfif_with_another_marker_order_is_a_warning_when_the_make_never_writes_jfif(
    original: Path, tmp_path: Path
) -> None:
    combined = with_tables_in_one_segment(resaved(original, tmp_path / "own.jpg", qtables=CAMERA_TABLES))

    findings = fired(judged(combined))

    assert "EM-ENC-009" not in findings
    finding = findings["EM-ENC-007"]
    assert finding["evidence"]["jpeg:app_segments"][0] == "APP0 JFIF"
    assert finding["evidence"]["profile:make_layout"]["jfif"] == {"false": ORIGINALS}
    assert "0 of the 8 originals of this make" in finding["explanation"]


def test_jfif_is_not_flagged_for_a_make_whose_originals_write_it(
    original: Path, profiles: dict, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with_profile_edit(profiles, tmp_path, monkeypatch, jfif={"false": ORIGINALS - 1, "true": 1})
    combined = with_tables_in_one_segment(resaved(original, tmp_path / "own.jpg", qtables=CAMERA_TABLES))

    assert "EM-ENC-007" not in fired(judged(combined))


def test_exiftool_edit_of_a_camera_original_is_a_rewritten_exif_warning(original: Path, tmp_path: Path) -> None:
    for assignment in ("-DateTimeOriginal-=0:0:1 2:00:00", "-GPSLatitude=48.85", "-Orientation#=6", "-Model=TC-2"):
        edited = tmp_path / "edited.jpg"
        shutil.copy(original, edited)
        exiftool_write(edited, assignment)

        finding = fired(judged(edited))["EM-ENC-008"]

        assert finding["evidence"]["exif:layout"].startswith("serialised")
        assert finding["evidence"]["profile:make_layout"]["exif_layout"] == {"firmware": ORIGINALS}
        assert "0 of the 8 originals of this make" in finding["explanation"]


def gps_edited(original: Path, tmp_path: Path) -> Path:
    """A copy of `original` whose GPS latitude ExifTool rewrote (and with it the whole EXIF block)."""
    edited = tmp_path / "edited.jpg"
    shutil.copy(original, edited)
    exiftool_write(edited, "-GPSLatitude=48.85")
    return edited


def test_rewritten_exif_is_not_flagged_for_a_make_whose_originals_look_so(
    original: Path, profiles: dict, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    edited = gps_edited(original, tmp_path)

    with_profile_edit(profiles, tmp_path, monkeypatch, exif_layout={"firmware": ORIGINALS - 2, "serialised": 2})

    assert "EM-ENC-008" not in fired(judged(edited))


def test_rewritten_exif_is_a_warning_for_a_make_with_few_originals_none_laid_out_so(
    original: Path, profiles: dict, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    edited = gps_edited(original, tmp_path)

    with_profile_edit(profiles, tmp_path, monkeypatch, files=NEVER_MIN_MAKE_FILES,
                      exif_layout={"firmware": NEVER_MIN_MAKE_FILES})  # fmt: skip

    finding = fired(judged(edited))["EM-ENC-008"]
    assert finding["evidence"]["profile:make_layout"] == {"files": 4, "exif_layout": {"firmware": 4}}
    assert "0 of the 4 originals of this make" in finding["explanation"]
    assert "EM-ENC-008" not in fired(judged(original))


@pytest.mark.parametrize(
    "files, exif_layout",
    [
        (NEVER_MIN_MAKE_FILES - 1, {"firmware": NEVER_MIN_MAKE_FILES - 1}),  # too few originals to say
        (RARE_MIN_MAKE_FILES - 1, {"firmware": RARE_MIN_MAKE_FILES - 2, "serialised": 1}),  # few, one laid out so
    ],
)
def test_rewritten_exif_is_not_flagged_when_few_originals_cannot_say(
    original: Path, profiles: dict, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, files: int, exif_layout: dict
) -> None:
    edited = gps_edited(original, tmp_path)

    with_profile_edit(profiles, tmp_path, monkeypatch, files=files, exif_layout=exif_layout)

    assert "EM-ENC-008" not in fired(judged(edited))


def test_exif_layout_reads_serialised_firmware_and_out_of_order_blocks(original: Path, tmp_path: Path) -> None:
    serialised = tmp_path / "serialised.jpg"
    shutil.copy(original, serialised)
    exiftool_write(serialised, "-Artist=x")
    block = exif_of(serialised)[6:] if exif_of(serialised).startswith(b"Exif") else exif_of(serialised)

    assert jpeg_structure_read(serialised).exif_layout.serialised is True
    firmware = jpeg_structure_read(original).exif_layout
    assert firmware.serialised is False
    assert firmware.deviation == "512 spare bytes after the last region"
    # The same tree with IFD0 moved behind its own values is no longer in serialisation order.
    assert exif_layout(block[:4] + struct.pack("<I", len(block)) + block[8:] + block[8:200]).serialised is False
    assert exif_layout(b"not a TIFF header") is None


def test_exif_layout_accepts_a_preview_image_moved_behind_the_tree(original: Path, tmp_path: Path) -> None:
    # ExifTool moves a maker note's preview (Nikon's, Canon's) to the end of the block when it rewrites the EXIF.
    serialised = tmp_path / "serialised.jpg"
    shutil.copy(original, serialised)
    exiftool_write(serialised, "-Artist=x")
    block = exif_of(serialised)
    block = block[6:] if block.startswith(b"Exif") else block
    preview = io.BytesIO()
    scene(160, 120).save(preview, "JPEG")

    moved = exif_layout(block + preview.getvalue())
    assert moved.serialised is True
    assert moved.regions == exif_layout(block).regions + 1
    spare = exif_layout(block + b"\x01" * len(preview.getvalue()))
    assert spare.serialised is False
    assert spare.deviation == f"{len(preview.getvalue())} spare bytes after the last region"


def test_exif_layout_accepts_a_moved_preview_after_a_word_alignment_byte(tmp_path: Path) -> None:
    # Nikon's PreviewIFD image, Sigma's preview: when the tree ends on an odd offset (here the 5-byte Artist value
    # written last), ExifTool puts one zero byte before the preview it moves behind it.
    path = tmp_path / "odd.jpg"
    scene(64, 48).save(path, "JPEG")
    exiftool_write(path, "-Make=Testcam", "-Artist=abcd")
    block = exif_of(path)[6:]
    assert exif_layout(block).serialised is True and len(block) % 2 == 0  # the tree ends at len - 1, then a pad byte
    preview = io.BytesIO()
    scene(160, 120).save(preview, "JPEG")

    moved = exif_layout(block + preview.getvalue())
    assert moved.serialised is True
    assert moved.regions == exif_layout(block).regions + 1
    spare = exif_layout(block + b"\x00" + preview.getvalue())
    assert spare.serialised is False


def test_exif_layout_accepts_a_moved_minolta_preview(original: Path, tmp_path: Path) -> None:
    # Minolta and Sony write their preview's first byte as something other than 0xFF; ExifTool pads what it moves.
    serialised = tmp_path / "serialised.jpg"
    shutil.copy(original, serialised)
    exiftool_write(serialised, "-Artist=x")
    block = exif_of(serialised)[6:]
    preview = io.BytesIO()
    scene(160, 120).save(preview, "JPEG")
    data = preview.getvalue()
    without_jfif = data[:2] + data[4 + struct.unpack(">H", data[4:6])[0] :]  # SOI, then the tables: a camera's order
    minolta = b"\x01" + without_jfif[1:]

    assert exif_layout(block + minolta + b"\x00\x00").serialised is True
    assert exif_layout(block + b"\x01\x01" + minolta[2:]).serialised is False


def test_adobe_segment_under_camera_exif_is_a_warning(original: Path, tmp_path: Path) -> None:
    data = original.read_bytes()
    adobe = b"Adobe\x00\x64\x00\x00\x00\x00\x01"
    copy = tmp_path / "copy.jpg"
    copy.write_bytes(data[:2] + b"\xff\xee" + struct.pack(">H", len(adobe) + 2) + adobe + data[2:])

    finding = fired(judged(copy))["EM-ENC-004"]

    assert "APP14 Adobe" in finding["evidence"]["jpeg:app_segments"]


# --- double compression ---------------------------------------------------------------------------------------


def test_camera_original_is_not_reported_as_double_compressed(original: Path) -> None:
    result = analyse_file(original)

    assert result.double_jpeg.analysed
    assert not {"EM-ENC-005", "EM-ENC-006"} & set(fired(evaluate(result)))


def test_resave_at_higher_quality_is_double_compression_with_the_earlier_quality(tmp_path: Path) -> None:
    first = tmp_path / "first.jpg"
    scene().save(first, "JPEG", quality=70, exif=exif_with_canon_maker_note())
    exiftool_write(first, "-Make=Testcam", "-Model=TC-1")
    copy = resaved(first, tmp_path / "copy.jpg", quality=95)

    finding = fired(judged(copy))["EM-ENC-005"]

    assert abs(finding["evidence"]["double_jpeg:estimated_primary_quality"] - 70) <= 5
    assert finding["evidence"]["double_jpeg:last_quality"] == 95
    assert finding["evidence"]["double_jpeg:periodic_coefficients"] >= 3


def test_double_compression_without_a_camera_claim_is_information(tmp_path: Path) -> None:
    first = tmp_path / "first.jpg"
    scene().save(first, "JPEG", quality=60)
    copy = tmp_path / "copy.jpg"
    with Image.open(first) as image:
        image.save(copy, "JPEG", quality=90)

    evaluation = judged(copy)

    assert "EM-ENC-006" in fired(evaluation)
    assert "EM-ENC-005" not in fired(evaluation)


def test_double_jpeg_estimate_skips_images_too_small_to_judge(tmp_path: Path) -> None:
    result = analyse_file(_small_jpeg(tmp_path))

    assert result.double_jpeg.analysed is False
    assert result.double_jpeg.reason == "image too small"


def test_double_jpeg_estimate_refuses_a_huge_frame_before_decoding(tmp_path: Path) -> None:
    data = bytearray(_small_jpeg(tmp_path).read_bytes())
    sof = data.index(b"\xff\xc0")
    data[sof + 5 : sof + 9] = struct.pack(">HH", 9000, 9500)  # height, width: 85.5 million pixels
    huge = tmp_path / "huge.jpg"
    huge.write_bytes(bytes(data))

    estimate = double_jpeg_estimate(huge)

    assert estimate.analysed is False
    assert estimate.reason == f"more than {MAX_PIXELS:,} pixels"


def _small_jpeg(tmp_path: Path) -> Path:
    path = tmp_path / "small.jpg"
    scene(64, 64).save(path, quality=60)
    return path


# --- the shared corpus ----------------------------------------------------------------------------------------


def test_no_corpus_camera_original_gets_an_encoding_warning(corpus: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(PROFILE_ENV, raising=False)
    with (corpus / "manifest.csv").open(newline="") as handle:
        paths = [
            corpus / row["path"]
            for row in csv.DictReader(handle)
            if row["label"] == "camera-original" and row["path"].lower().endswith((".jpg", ".jpeg"))
        ]

    flagged = {path.name: ENCODING_WARNINGS & set(fired(judged(path))) for path in paths}

    assert paths
    assert {name: rules for name, rules in flagged.items() if rules} == {}


def test_profiles_built_by_an_earlier_version_are_refused_with_the_way_out(
    original: Path, profiles: dict, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A profile file an operator built before EM-ENC-009 counted libjpeg's marker order: same format, one field less.
    for make in profiles["makes"].values():
        for profile in (make, *make["models"].values()):
            del profile["libjpeg_markers"]
    earlier = tmp_path / "earlier-profiles.json"
    earlier.write_text(json.dumps(profiles), encoding="utf-8")
    monkeypatch.setenv(PROFILE_ENV, str(earlier))

    with pytest.raises(ValueError, match=r"lack libjpeg_markers\); rebuild it with `manage.py device_profiles build`"):
        judged(resaved(original, tmp_path / "own.jpg", qtables=CAMERA_TABLES))
