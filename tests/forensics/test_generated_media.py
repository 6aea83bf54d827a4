"""Always-on checks on generated media: a camera-like JPEG and an MP4, and copies derived from them the way
editors, strippers, re-encoders and forgers derive them. Each copy must be caught by the rule written for it,
quoting the value it saw; the originals must not be."""

from __future__ import annotations

import hashlib
import io
import shutil
import subprocess
from fractions import Fraction
from pathlib import Path

import av
import pytest
from PIL import Image

from forensics.analysers import analyse_file
from forensics.rules import Evaluation, Finding, evaluate

from .conftest import exiftool_write, picture

# Rules that judge how a camera original was derived; none may fire on the original itself.
DERIVATION_RULES = {
    "EM-INT-002",
    "EM-INT-004",
    "EM-META-001",
    "EM-META-002",
    "EM-META-006",
    "EM-META-011",
    "EM-META-012",
    "EM-META-013",
    "EM-META-014",
    "EM-META-017",
    "EM-STRUCT-001",
    "EM-STRUCT-015",
    "EM-STRUCT-016",
    "EM-SYN-003",
    "EM-STRIP-001",
    "EM-MAKER-001",
    "EM-MAKER-002",
    "EM-MAKER-003",
}
APPLE_KEYS = {
    "com.apple.quicktime.make": "Apple",
    "com.apple.quicktime.model": "iPhone 12",
    "com.apple.quicktime.software": "17.1",
    "com.apple.quicktime.creationdate": "2024-05-01T10:00:00+0200",
}


def judged(path: Path, **options: str) -> Evaluation:
    return evaluate(analyse_file(path, **options))


def finding(evaluation: Evaluation, rule_id: str) -> Finding:
    found = [item for item in evaluation.findings if item.rule_id == rule_id]
    assert found, f"{rule_id} not among {[item.rule_id for item in evaluation.findings]}"
    return found[0]


def resaved(source: Path, target: Path, **save_options: object) -> Path:
    """The image decoded and encoded again by Pillow (libjpeg), keeping the EXIF block unless told otherwise."""
    with Image.open(source) as image:
        options = {"exif": image.info["exif"], "quality": 80, **save_options}
        image.save(target, "JPEG", **options)
    return target


# --- the camera-like JPEG and its copies ---------------------------------------------------------------------


def test_camera_like_original_is_ok_and_not_flagged_as_derived(camera_jpeg: Path) -> None:
    evaluation = judged(camera_jpeg, expected_sha256=hashlib.sha256(camera_jpeg.read_bytes()).hexdigest())

    assert evaluation.verdict_code == "ok"
    assert not DERIVATION_RULES & {item.rule_id for item in evaluation.findings}


def test_progressive_resave_contradicts_the_camera_claim(camera_jpeg: Path, tmp_path: Path) -> None:
    copy = resaved(camera_jpeg, tmp_path / "web.jpg", progressive=True)

    evaluation = judged(copy)

    item = finding(evaluation, "EM-STRUCT-015")
    assert "'Canon PowerShot G11'" in item.explanation and "progressive (FFC2)" in item.explanation
    assert evaluation.verdict_code == "attention"


def test_optimised_resave_is_reported_as_context(camera_jpeg: Path, tmp_path: Path) -> None:
    copy = resaved(camera_jpeg, tmp_path / "optimised.jpg", optimize=True)

    item = finding(judged(copy), "EM-STRUCT-016")

    assert "all 4 Huffman tables are optimised" in item.explanation
    assert item.severity == "info"


def test_resave_without_metadata_has_no_camera_left(camera_jpeg: Path, tmp_path: Path) -> None:
    copy = tmp_path / "stripped.jpg"
    with Image.open(camera_jpeg) as image:
        image.save(copy, "JPEG", quality=75)

    evaluation = judged(copy)

    assert finding(evaluation, "EM-STRIP-001").evidence["Make"] is None
    assert "libjpeg's at quality 75" in finding(evaluation, "EM-STRUCT-008").explanation


def test_maker_notes_stripped_while_make_kept(camera_jpeg: Path) -> None:
    exiftool_write(camera_jpeg, "-MakerNotes:all=")

    evaluation = judged(camera_jpeg)

    item = finding(evaluation, "EM-META-011")
    assert "IFD0:Make says 'Canon'" in item.explanation
    assert item.evidence["jpeg:exif_maker_note_length"] == 0
    assert evaluation.verdict_code == "attention"


def test_capture_date_moved_back_a_year(camera_jpeg: Path) -> None:
    exiftool_write(camera_jpeg, "-DateTimeOriginal=2023:05:01 10:00:00", "-CreateDate=2023:05:01 10:00:00")

    evaluation = judged(camera_jpeg)

    gps = finding(evaluation, "EM-META-012")
    assert "'2023:05:01 10:00:00+02:00'" in gps.explanation
    assert "GPS date/time (UTC) says '2024:05:01 08:00:00Z' (366 days apart)" in gps.explanation
    modified = finding(evaluation, "EM-META-006")
    assert "'2024:05:01 10:00:00'" in modified.explanation


def test_capture_date_in_the_future(camera_jpeg: Path) -> None:
    exiftool_write(camera_jpeg, "-DateTimeOriginal=2999:01:02 10:00:00")

    result = analyse_file(camera_jpeg)
    item = finding(evaluate(result), "EM-META-013")

    assert "ExifIFD:DateTimeOriginal says '2999:01:02 10:00:00'" in item.explanation
    assert item.evidence["analysis:started_at"] == result.analysed_at


def test_clock_default_date_is_information(camera_jpeg: Path) -> None:
    exiftool_write(
        camera_jpeg,
        "-DateTimeOriginal=2000:01:01 00:00:00",
        "-CreateDate=2000:01:01 00:00:00",
        "-ModifyDate=2000:01:01 00:00:00",
        "-GPS:all=",
    )

    item = finding(judged(camera_jpeg), "EM-META-014")

    assert "'2000:01:01 00:00:00': midnight on 1 January" in item.explanation
    assert item.severity == "info"


def test_cropped_copy_keeps_the_camera_size(camera_jpeg: Path, tmp_path: Path) -> None:
    with Image.open(camera_jpeg) as image:
        image.crop((0, 0, 400, 300)).save(tmp_path / "crop.jpg", exif=image.info["exif"], quality=92)

    item = finding(judged(tmp_path / "crop.jpg"), "EM-META-002")

    assert "recorded 640x480 pixels" in item.explanation and "coded as 400x300" in item.explanation


def test_appended_bytes_are_counted_from_the_end_of_the_image(camera_jpeg: Path) -> None:
    end = camera_jpeg.stat().st_size
    with camera_jpeg.open("ab") as handle:
        handle.write(b"PAYLOAD" * 5)

    item = finding(judged(camera_jpeg), "EM-INT-002")

    assert f"35 bytes follow the end of the image at offset {end:,}" in item.explanation


def test_second_full_image_concatenated_is_described(camera_jpeg: Path) -> None:
    second = io.BytesIO()
    picture(320, 240).save(second, "JPEG")
    with camera_jpeg.open("ab") as handle:
        handle.write(second.getvalue())

    item = finding(judged(camera_jpeg), "EM-INT-002")

    assert "it starts like a second JPEG image, 320x240 (baseline)" in item.explanation


def test_png_renamed_to_jpg(tmp_path: Path) -> None:
    disguised = tmp_path / "IMG_0002.jpg"
    picture(64, 48).save(disguised, "PNG")

    item = finding(judged(disguised), "EM-STRUCT-001")

    assert "ends in '.jpg' but the bytes are 'image/png'" in item.explanation


def test_library_comment_names_the_encoder(camera_jpeg: Path, tmp_path: Path) -> None:
    copy = resaved(
        camera_jpeg, tmp_path / "gd.jpg", comment=b"CREATOR: gd-jpeg v1.0 (using IJG JPEG v62), quality = 75"
    )

    item = finding(judged(copy), "EM-META-017")

    assert "'CREATOR: gd-jpeg v1.0 (using IJG JPEG v62), quality = 75'" in item.explanation
    assert "GD graphics library" in item.explanation


def test_declared_ai_source_type_in_iptc_xmp(camera_jpeg: Path) -> None:
    exiftool_write(
        camera_jpeg,
        "-XMP-iptcExt:DigitalSourceType=http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia",
    )

    item = finding(judged(camera_jpeg), "EM-SYN-003")

    assert "XMP-iptcExt:DigitalSourceType says 'trainedAlgorithmicMedia'" in item.explanation


def test_stored_bytes_that_changed_since_ingest_are_critical(camera_jpeg: Path) -> None:
    recorded = hashlib.sha256(camera_jpeg.read_bytes()).hexdigest()
    exiftool_write(camera_jpeg, "-Artist=someone else")
    now = hashlib.sha256(camera_jpeg.read_bytes()).hexdigest()

    evaluation = judged(camera_jpeg, expected_sha256=recorded.upper())

    item = finding(evaluation, "EM-INT-004")
    assert item.explanation.startswith("The stored bytes no longer match the SHA-256 recorded at ingest")
    assert recorded in item.explanation and now in item.explanation
    assert evaluation.verdict_code == "compromised"


# --- the MP4 and its copies ----------------------------------------------------------------------------------


@pytest.fixture
def ffmpeg_cli() -> str:
    path = shutil.which("ffmpeg")
    if path is None:
        pytest.skip("the ffmpeg command-line tool is not installed")
    return path


@pytest.fixture
def phone_like_mp4(tmp_path: Path) -> Path:
    """An H.264 MP4 written by PyAV with the metadata keys and creation time an iPhone recording carries."""
    path = tmp_path / "IMG_0003.mp4"
    with av.open(str(path), "w", options={"movflags": "use_metadata_tags"}) as container:
        container.metadata.update({**APPLE_KEYS, "creation_time": "2024-05-01T08:00:00.000000Z"})
        stream = container.add_stream("libx264", rate=25)
        stream.width, stream.height, stream.pix_fmt = 160, 120, "yuv420p"
        for index in range(25):
            frame = av.VideoFrame.from_image(picture(160, 120).rotate(index))
            frame.pts, frame.time_base = index, Fraction(1, 25)
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def test_phone_like_mp4_has_consistent_keys_and_times(phone_like_mp4: Path) -> None:
    evaluation = judged(phone_like_mp4)

    fired = {item.rule_id for item in evaluation.findings}
    assert not fired & {"EM-META-009", "EM-META-013", "EM-META-015", "EM-META-016"}
    # written by PyAV, so it is honestly FFmpeg's
    assert "x264" in finding(evaluation, "EM-META-010").explanation


def test_reencoded_mp4_names_ffmpeg_and_lost_its_recording_date(
    phone_like_mp4: Path, tmp_path: Path, ffmpeg_cli: str
) -> None:
    copy = tmp_path / "reencoded.mp4"
    subprocess.run(
        [ffmpeg_cli, "-v", "error", "-i", str(phone_like_mp4), "-c:v", "libx264", "-crf", "30", str(copy)], check=True
    )

    evaluation = judged(copy)

    assert "Encoder says 'Lavf" in finding(evaluation, "EM-META-001").explanation
    assert "creation time is 0 (not set)" in finding(evaluation, "EM-META-009").explanation
    assert evaluation.verdict_code == "attention"


def test_remux_claiming_apple_without_its_keys(phone_like_mp4: Path, tmp_path: Path, ffmpeg_cli: str) -> None:
    # given a stream copy whose metadata was dropped and only the make written back, as spoofing scripts do
    copy = tmp_path / "spoofed.mp4"
    subprocess.run(
        [
            ffmpeg_cli,
            "-v",
            "error",
            "-i",
            str(phone_like_mp4),
            "-c",
            "copy",
            "-map_metadata",
            "-1",
            "-movflags",
            "use_metadata_tags",
            "-metadata",
            "com.apple.quicktime.make=Apple",
            str(copy),
        ],
        check=True,
    )

    item = finding(judged(copy), "EM-META-016")

    assert "Keys:Make says 'Apple'" in item.explanation
    assert item.evidence["isobmff:missing_keys"] == [
        "com.apple.quicktime.model",
        "com.apple.quicktime.software",
        "com.apple.quicktime.creationdate",
    ]


def test_movie_header_modified_a_month_after_recording(phone_like_mp4: Path) -> None:
    exiftool_write(phone_like_mp4, "-QuickTime:ModifyDate=2024:06:01 08:00:00")

    item = finding(judged(phone_like_mp4), "EM-META-015")

    assert "modified at 2024-06-01T08:00:00+00:00, 31 days after its creation at 2024-05-01T08:00:00" in (
        item.explanation
    )
