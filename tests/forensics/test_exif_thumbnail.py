"""The EXIF thumbnail compared with the main image (EM-THUMB-...), on JPEGs made here with Pillow and ExifTool."""

from __future__ import annotations

import random
import subprocess
import warnings
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw

from forensics.analysers import analyse_file
from forensics.analysers.exif_thumbnail import BLOCK, _worst_block, thumbnail_compare
from forensics.analysers.jpeg_structure import jpeg_structure_read
from forensics.rules import evaluate
from forensics.rules.thumbnail import calibration

# A make the calibration table lists as always writing a thumbnail, and one it does not.
ALWAYS_MAKE = "FUJIFILM"
OTHER_MAKE = "Canon"


def scene(width: int, height: int, seed: int) -> Image.Image:
    """A picture with large shapes of varied tone, so that a 160x120 thumbnail of it still has content."""
    rng = random.Random(seed)
    image = Image.new("RGB", (width, height), tuple(rng.randrange(256) for _ in range(3)))
    draw = ImageDraw.Draw(image)
    for _ in range(40):
        x, y = rng.randrange(width), rng.randrange(height)
        w, h = rng.randrange(width // 10, width // 3), rng.randrange(height // 10, height // 3)
        shape = draw.ellipse if rng.random() < 0.5 else draw.rectangle
        shape((x, y, x + w, y + h), fill=tuple(rng.randrange(256) for _ in range(3)))
    return image


def camera_exif(make: str, model: str, exif_version: bytes = b"0220") -> Image.Exif:
    exif = Image.Exif()
    exif[0x010F] = make
    exif[0x0110] = model
    # A maker note's bytes: the engine only needs to see one, as in a camera original.
    exif.get_ifd(0x8769)[0x927C] = make.encode("ascii") + b"\x00" * 24
    exif.get_ifd(0x8769)[0x9000] = exif_version
    return exif


def with_thumbnail(path: Path, thumbnail: Image.Image, **save: object) -> None:
    """Write `thumbnail` as the file's IFD1 thumbnail with the real ExifTool (Pillow cannot write one)."""
    thumb_path = path.with_suffix(".thumb.jpg")
    thumbnail.save(thumb_path, "JPEG", **(save or {"quality": 90}))  # Pillow scales given tables by a quality
    subprocess.run(["exiftool", "-q", "-overwrite_original", f"-ThumbnailImage<={thumb_path}", str(path)], check=True)


def camera_jpeg(path: Path, *, make: str = ALWAYS_MAKE, size=(640, 480), seed: int = 1) -> Image.Image:
    """A JPEG presenting as a camera original, with a thumbnail made from the same picture."""
    image = scene(*size, seed)
    image.save(path, "JPEG", quality=92, exif=camera_exif(make, f"{make} Test 1"))
    with_thumbnail(path, image.resize((160, 120), Image.Resampling.LANCZOS))
    return image


def exif_block(path: Path) -> bytes:
    with Image.open(path) as image:
        return image.info["exif"]


def thumb_findings(path: Path) -> dict[str, dict]:
    evaluation = evaluate(analyse_file(path))
    return {
        finding.rule_id: finding.evidence for finding in evaluation.findings if finding.rule_id.startswith("EM-THUMB")
    }


def test_thumbnail_made_from_the_same_picture_gives_no_finding(tmp_path: Path) -> None:
    path = tmp_path / "camera.jpg"
    camera_jpeg(path)

    comparison = thumbnail_compare(path, jpeg_structure_read(path))

    assert comparison.status == "compared"
    assert comparison.thumbnail_size == [160, 120]
    assert comparison.match.correlation > 0.98
    assert thumb_findings(path) == {}


def test_main_image_replaced_under_the_original_thumbnail_is_found(tmp_path: Path) -> None:
    original = tmp_path / "camera.jpg"
    camera_jpeg(original)
    replaced = tmp_path / "replaced.jpg"
    scene(640, 480, seed=2).save(replaced, "JPEG", quality=92, exif=exif_block(original))

    findings = thumb_findings(replaced)

    assert set(findings) == {"EM-THUMB-001"}
    evidence = findings["EM-THUMB-001"]
    assert evidence["comparison:correlation"] < calibration()["correlation_min"]
    assert evidence["thumbnail:size"] == [160, 120]
    assert evidence["main_image:coded_size"] == [640, 480]


def test_region_pasted_into_the_main_image_is_found_where_it_is(tmp_path: Path) -> None:
    original = tmp_path / "camera.jpg"
    image = camera_jpeg(original)
    edited = image.copy()
    edited.paste(Image.new("RGB", (200, 150), (255, 255, 255)), (400, 300))
    spliced = tmp_path / "spliced.jpg"
    edited.save(spliced, "JPEG", quality=92, exif=exif_block(original))

    findings = thumb_findings(spliced)

    assert set(findings) == {"EM-THUMB-003"}
    evidence = findings["EM-THUMB-003"]
    assert evidence["comparison:max_block_difference"] > calibration()["block_difference_max"]
    x0, y0, x1, y1 = evidence["comparison:max_block_box"]  # thumbnail pixels: the paste is at 100..150, 75..112
    assert x1 > 100 and x0 < 150 and y1 > 75 and y0 < 112


def test_main_image_rotated_under_a_stale_thumbnail_is_found_as_a_rotation(tmp_path: Path) -> None:
    original = tmp_path / "camera.jpg"
    image = camera_jpeg(original)
    rotated = tmp_path / "rotated.jpg"
    image.transpose(Image.Transpose.ROTATE_90).save(rotated, "JPEG", quality=92, exif=exif_block(original))

    findings = thumb_findings(rotated)

    assert set(findings) == {"EM-THUMB-002"}
    assert findings["EM-THUMB-002"]["comparison:main_image_turned"] == "rotated 90° clockwise"
    assert findings["EM-THUMB-002"]["comparison:turned_correlation"] >= calibration()["correlation_min"]


def test_letter_boxed_thumbnail_of_a_wide_picture_gives_no_finding(tmp_path: Path) -> None:
    path = tmp_path / "wide.jpg"
    image = scene(720, 480, seed=3)
    image.save(path, "JPEG", quality=92, exif=camera_exif(ALWAYS_MAKE, "Wide 1"))
    boxed = Image.new("RGB", (160, 120), (0, 0, 0))
    boxed.paste(image.resize((160, 107), Image.Resampling.LANCZOS), (0, 6))
    with_thumbnail(path, boxed)

    comparison = thumbnail_compare(path, jpeg_structure_read(path))

    assert comparison.match.geometry.startswith("letter-box bars detected")
    assert comparison.match.content_box[1] >= 6 and comparison.match.content_box[3] <= 114
    assert thumb_findings(path) == {}


# Eastman Kodak: the calibration's one original without a thumbnail is an Exif 2.0 (pre-DCF) DC210, which the rule
# never judges, so the census leaves it out and the make counts as always writing one.
@pytest.mark.parametrize("make", [ALWAYS_MAKE, "EASTMAN KODAK COMPANY"])
def test_thumbnail_removed_from_a_make_that_always_writes_one_is_found(tmp_path: Path, make: str) -> None:
    assert make.split()[0].lower() in calibration()["makes_always_with_thumbnail"]
    path = tmp_path / "camera.jpg"
    camera_jpeg(path, make=make)
    subprocess.run(["exiftool", "-q", "-overwrite_original", "-IFD1:all=", str(path)], check=True)

    findings = thumb_findings(path)

    assert set(findings) == {"EM-THUMB-004"}
    assert findings["EM-THUMB-004"]["IFD0:Make"] == make


def test_missing_thumbnail_of_a_camera_older_than_dcf_gives_no_finding(tmp_path: Path) -> None:
    # Exif 2.0 cameras (before DCF made the thumbnail a requirement) often wrote none.
    path = tmp_path / "old-camera.jpg"
    scene(640, 480, seed=1).save(path, "JPEG", quality=92, exif=camera_exif(ALWAYS_MAKE, "Old 1", b"0200"))

    assert "EM-THUMB-004" not in thumb_findings(path)


def test_missing_thumbnail_of_a_make_not_known_to_always_write_one_gives_no_finding(tmp_path: Path) -> None:
    assert OTHER_MAKE.lower() not in calibration()["makes_always_with_thumbnail"]
    path = tmp_path / "camera.jpg"
    scene(640, 480, seed=1).save(path, "JPEG", quality=92, exif=camera_exif(OTHER_MAKE, "Canon Test 1"))

    assert thumb_findings(path) == {}


def test_missing_thumbnail_in_a_file_naming_an_editor_gives_no_finding(tmp_path: Path) -> None:
    path = tmp_path / "edited.jpg"
    exif = camera_exif(ALWAYS_MAKE, "FUJIFILM Test 1")
    exif[0x0131] = "Adobe Photoshop 25.0"
    scene(640, 480, seed=1).save(path, "JPEG", quality=92, exif=exif)

    assert "EM-THUMB-004" not in thumb_findings(path)


def test_software_encoded_main_image_under_a_camera_encoded_thumbnail_is_found(tmp_path: Path) -> None:
    path = tmp_path / "resaved.jpg"
    image = scene(640, 480, seed=1)
    image.save(path, "JPEG", quality=92, exif=camera_exif(OTHER_MAKE, "Canon Test 1"))
    # A camera's own tables: flat, not any IJG scaling of the Annex K tables.
    with_thumbnail(path, image.resize((160, 120)), qtables=[[4] * 64, [6] * 64])

    findings = thumb_findings(path)

    assert set(findings) == {"EM-THUMB-005"}
    evidence = findings["EM-THUMB-005"]
    assert evidence["main_image:ijg_scaled_tables"] is True
    assert evidence["main_image:estimated_quality"] == 92
    assert evidence["thumbnail:ijg_scaled_tables"] is False


@pytest.mark.parametrize("garbage", [b"\xff\xd8\xff\xdb\x00\x05" + b"\x00" * 200, b"\xff\xd8" + bytes(range(256)) * 8])
def test_undecodable_thumbnail_is_reported_not_raised(tmp_path: Path, garbage: bytes) -> None:
    path = tmp_path / "camera.jpg"
    camera_jpeg(path)
    structure = jpeg_structure_read(path)
    data = bytearray(path.read_bytes())
    data[structure.thumbnail.offset : structure.thumbnail.offset + min(len(garbage), structure.thumbnail.length)] = (
        garbage[: structure.thumbnail.length]
    )
    path.write_bytes(bytes(data))

    comparison = thumbnail_compare(path, jpeg_structure_read(path))

    assert comparison.status == "thumbnail_undecodable"
    assert thumb_findings(path).keys() <= {"EM-THUMB-005"}


def test_main_image_claiming_too_many_pixels_is_not_decoded(tmp_path: Path) -> None:
    path = tmp_path / "camera.jpg"
    camera_jpeg(path)
    structure = jpeg_structure_read(path)
    sof = next(segment for segment in structure.segments if segment.name == "SOF0")
    data = bytearray(path.read_bytes())
    data[sof.offset + 5 : sof.offset + 9] = (30000).to_bytes(2, "big") * 2  # height, width: 900 megapixels
    path.write_bytes(bytes(data))

    comparison = thumbnail_compare(path, jpeg_structure_read(path))

    assert comparison.status == "too_large"
    assert comparison.main_size == [30000, 30000]
    assert comparison.match is None


def with_thumbnail_size(path: Path, width: int, height: int) -> None:
    """The file with its thumbnail's frame header claiming width x height."""
    structure = jpeg_structure_read(path)
    data = bytearray(path.read_bytes())
    thumbnail = bytes(data[structure.thumbnail.offset : structure.thumbnail.offset + structure.thumbnail.length])
    sof = structure.thumbnail.offset + thumbnail.index(b"\xff\xc0")
    data[sof + 5 : sof + 9] = height.to_bytes(2, "big") + width.to_bytes(2, "big")
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("size", [(10_000, 9_000), (20_000, 20_000)])  # past Pillow's warning, past its refusal
def test_a_thumbnail_claiming_a_huge_size_is_too_large_without_a_warning(tmp_path: Path, size) -> None:
    path = tmp_path / "camera.jpg"
    camera_jpeg(path)
    with_thumbnail_size(path, *size)

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        comparison = thumbnail_compare(path, jpeg_structure_read(path))

    assert (comparison.status, comparison.detail) == ("too_large", f"the thumbnail is {size[0]}x{size[1]}")
    assert caught == []


def test_a_comparison_leaves_the_process_warning_filters_alone(
    tmp_path: Path, monkeypatch, warning_filter_calls
) -> None:
    """The filters are the whole process's: a comparison that changed them changed them for every analyser running
    beside it in other threads, another file's included."""
    path = tmp_path / "camera.jpg"
    camera_jpeg(path)
    warning_filter_calls.clear()

    comparison = thumbnail_compare(path, jpeg_structure_read(path))
    monkeypatch.undo()

    assert comparison.status == "compared" and warning_filter_calls == []


def worst_block_one_by_one(residual: np.ndarray) -> tuple[float, tuple[int, int]]:
    """The worst block by its definition: every block in turn, row by row, the first of equal medians kept."""
    worst, at = 0.0, (0, 0)
    for y in range(0, residual.shape[0] - BLOCK + 1, BLOCK // 2):
        for x in range(0, residual.shape[1] - BLOCK + 1, BLOCK // 2):
            value = float(np.median(residual[y : y + BLOCK, x : x + BLOCK]))
            if value > worst:
                worst, at = value, (x, y)
    return worst, at


@pytest.mark.parametrize("seed", range(6))
def test_worst_block_is_the_first_block_of_highest_median(seed: int) -> None:
    rng = np.random.default_rng(seed)
    height, width = rng.integers(BLOCK, 60, 2)
    residual = np.abs(rng.normal(0, 10, (height, width)))
    if seed % 2:
        residual = np.round(residual / 8)  # many equal medians
    if seed == 4:
        residual[:] = 0
    assert _worst_block(residual) == worst_block_one_by_one(residual)


def test_thumbnail_of_a_wider_field_is_registered_onto_the_main_image(tmp_path: Path) -> None:
    # given a camera whose thumbnail shows 8% more field than the main image (a stabilisation margin)
    path = tmp_path / "margin.jpg"
    field = scene(700, 525, seed=7)
    field.crop((28, 21, 672, 504)).resize((640, 480)).save(path, "JPEG", quality=92, exif=camera_exif("Canon", "T"))
    with_thumbnail(path, field.resize((160, 120), Image.Resampling.LANCZOS))

    # when the thumbnail is compared with the main image
    comparison = thumbnail_compare(path, jpeg_structure_read(path))

    # then the plain layout is bettered by a small zoom of the thumbnail onto the main image's field
    assert comparison.match.geometry == "full frame, registered"
    assert comparison.match.correlation >= 0.98
    assert comparison.match.content_box != [0, 0, 160, 120]
