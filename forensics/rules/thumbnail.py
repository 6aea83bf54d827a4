"""EXIF-thumbnail rules: the IFD1 thumbnail compared with the main image by content and by encoder, and a thumbnail
missing where the camera always writes one.

Thresholds and the table of makes that always write a thumbnail come from thumbnail_calibration.json, written by
benchmarks/thumbnail_calibration.py from the calibration half of the camera originals.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

from forensics.analysers.exif_thumbnail import ContentMatch, ThumbnailComparison
from forensics.analysers.results import AnalysisResult

from .facts import claimed_camera, first
from .model import Category, Observation, RuleBook, Severity

book = RuleBook()

CALIBRATION_FILE = Path(__file__).with_name("thumbnail_calibration.json")
_DCF_EXIF_VERSION = "0210"
# The rules whose findings come from comparing pictures, so a comparison picture can show what they saw.
COMPARISON_RULES = ("EM-THUMB-001", "EM-THUMB-002", "EM-THUMB-003")


@cache
def calibration() -> dict[str, Any]:
    return json.loads(CALIBRATION_FILE.read_text(encoding="utf-8"))


def make_key(result: AnalysisResult) -> str | None:
    """The first word of IFD0 Make, lower-cased: how the calibration table names a maker."""
    make = str(first(result, "IFD0:Make") or "").strip().lower()
    return make.split()[0].strip(",.") if make else None


def thumbnail_required(result: AnalysisResult) -> bool:
    """Whether the file's Exif version is one DCF builds on (2.1 or later): DCF (1998) made the IFD1 thumbnail a
    requirement, and earlier cameras often wrote none. The calibration counts only such originals, as the rule
    judges only such files."""
    exif_version = str(first(result, "ExifIFD:ExifVersion") or "")
    return exif_version.isdigit() and exif_version >= _DCF_EXIF_VERSION


def _compared(result: AnalysisResult) -> tuple[ThumbnailComparison, ContentMatch] | None:
    comparison = result.exif_thumbnail
    if comparison is None or comparison.status != "compared" or comparison.match is None:
        return None
    return comparison, comparison.match


def _match_evidence(result: AnalysisResult, comparison: ThumbnailComparison, match: ContentMatch) -> dict[str, Any]:
    return {
        "thumbnail:size": comparison.thumbnail_size,
        "main_image:coded_size": comparison.main_size,
        "IFD0:Orientation": first(result, "IFD0:Orientation"),
        "comparison:layout": match.geometry,
        "comparison:content_box": match.content_box,
        "comparison:correlation": match.correlation,
        "comparison:correlation_min": calibration()["correlation_min"],
        "comparison:mean_abs_difference": match.mean_abs_difference,
        "comparison:max_block_difference": match.max_block_difference,
        "comparison:max_block_box": match.max_block_box,
        "comparison:block_difference_max": calibration()["block_difference_max"],
        "comparison:version": comparison.version,
    }


def _sizes(comparison: ThumbnailComparison, match: ContentMatch) -> str:
    thumb, main = comparison.thumbnail_size, comparison.main_size
    return (
        f"the {thumb[0]}x{thumb[1]} EXIF thumbnail ({match.geometry}, content box {match.content_box}) and the "
        f"{main[0]}x{main[1]} main image scaled down to it"
    )


_MEASURE = "grayscale, on a coarse grid, after matching brightness and contrast (correlation 1.0 is the same picture)"


@book.rule(
    "EM-THUMB-001",
    "The EXIF thumbnail shows a different picture from the main image",
    Category.INTEGRITY,
    Severity.WARNING,
    looks_at=(
        "IFD1 thumbnail decoded and compared with the main image scaled to it (letter-box bars detected, small "
        "zoom/shift registration): normalised correlation below the calibrated minimum"
    ),
    innocent=(
        "A few cameras render the thumbnail before an in-camera crop, effect or multi-shot merge, and some "
        "editors replace the picture while carrying the original EXIF block over unchanged; either way the "
        "thumbnail shows the picture as it was first recorded, not the one now in the file."
    ),
)
def thumbnail_content_differs(result: AnalysisResult) -> Iterator[Observation]:
    compared = _compared(result)
    if compared is None:
        return
    comparison, match = compared
    threshold = calibration()["correlation_min"]
    if match.correlation >= threshold or (comparison.rotated_correlation or -1.0) >= threshold:
        return
    yield Observation(
        evidence=_match_evidence(result, comparison, match),
        explanation=(
            f"Compared {_sizes(comparison, match)}, {_MEASURE}: correlation {match.correlation:.3f}, below "
            f"{threshold:.2f}, the lowest any calibration camera original gave less a margin; no rotation or mirror "
            f"image of the main image matches either (best {comparison.rotated_correlation:.3f}). The main image "
            "is not the picture the thumbnail was made from."
        ),
    )


@book.rule(
    "EM-THUMB-002",
    "The main image is rotated or mirrored relative to its EXIF thumbnail",
    Category.INTEGRITY,
    Severity.WARNING,
    looks_at=(
        "IFD1 thumbnail vs the main image's coded pixels, and vs each rotation and mirror image of them, with "
        "IFD0 Orientation quoted"
    ),
    innocent=(
        "Cameras store the thumbnail in the same orientation as the main image's pixels, but many viewers and "
        "editors rotate the main image losslessly (jpegtran, old Windows and camera software) without updating "
        "the thumbnail; the picture was still turned after capture."
    ),
)
def thumbnail_rotated(result: AnalysisResult) -> Iterator[Observation]:
    compared = _compared(result)
    if compared is None:
        return
    comparison, match = compared
    threshold = calibration()["correlation_min"]
    if match.correlation >= threshold or (comparison.rotated_correlation or -1.0) < threshold:
        return
    evidence = _match_evidence(result, comparison, match)
    evidence |= {
        "comparison:main_image_turned": comparison.rotated_match,
        "comparison:turned_correlation": comparison.rotated_correlation,
    }
    yield Observation(
        evidence=evidence,
        explanation=(
            f"Compared {_sizes(comparison, match)}, {_MEASURE}: as coded the main image does not match "
            f"(correlation {match.correlation:.3f}, below {threshold:.2f}), but {comparison.rotated_match} it does "
            f"(correlation {comparison.rotated_correlation:.3f}); IFD0 Orientation is "
            f"{first(result, 'IFD0:Orientation') or 'absent'}. The main image was turned after the thumbnail was made."
        ),
    )


@book.rule(
    "EM-THUMB-003",
    "Part of the main image differs from its EXIF thumbnail",
    Category.INTEGRITY,
    Severity.WARNING,
    looks_at=(
        "IFD1 thumbnail vs the main image scaled to it: the largest median difference over a block of an eighth of "
        "the picture, after matching brightness, above the calibrated maximum"
    ),
    innocent=(
        "In-camera retouching applied after the thumbnail was rendered (red-eye removal, a stamped date, "
        "partial colour effects) changes part of the main image; so does pasting, cloning or erasing in an "
        "editor that keeps the EXIF block."
    ),
)
def thumbnail_region_differs(result: AnalysisResult) -> Iterator[Observation]:
    compared = _compared(result)
    if compared is None:
        return
    comparison, match = compared
    limits = calibration()
    if match.correlation < limits["correlation_min"] or match.max_block_difference <= limits["block_difference_max"]:
        return
    yield Observation(
        evidence=_match_evidence(result, comparison, match),
        explanation=(
            f"Compared {_sizes(comparison, match)}, {_MEASURE}: the pictures match overall (correlation "
            f"{match.correlation:.3f}) but the block at thumbnail pixels {match.max_block_box} differs by "
            f"{match.max_block_difference:.1f} grey levels (median), over the {limits['block_difference_max']} "
            "that no calibration camera original exceeded (with a margin). That part of the main image is not "
            "what the thumbnail shows."
        ),
    )


@book.rule(
    "EM-THUMB-004",
    "No EXIF thumbnail where this make always writes one",
    Category.METADATA,
    Severity.WARNING,
    looks_at=(
        "IFD1 thumbnail absent in a file that presents as a camera original (IFD0 Make, maker notes, no editor "
        "named, ExifVersion 0210 or later) of a make whose calibration originals of that Exif era (at least 3) all "
        "carry one"
    ),
    innocent=(
        "Some camera settings or firmware versions may omit the thumbnail, and tools that only edit metadata "
        "(ExifTool -IFD1:all=, some uploaders) drop it without touching the picture."
    ),
)
def thumbnail_missing(result: AnalysisResult) -> Iterator[Observation]:
    if result.jpeg is None or result.jpeg.thumbnail is not None or not result.jpeg.exif_maker_note_length:
        return
    camera = claimed_camera(result)
    make = make_key(result)
    always = calibration()["makes_always_with_thumbnail"]
    exif_version = str(first(result, "ExifIFD:ExifVersion") or "")
    if camera is None or make not in always or not thumbnail_required(result):
        return
    yield Observation(
        evidence={
            "IFD0:Make": first(result, "IFD0:Make"),
            "IFD0:Model": first(result, "IFD0:Model"),
            "ExifIFD:ExifVersion": exif_version,
            "jpeg:exif_thumbnail": None,
            "jpeg:maker_note_bytes": result.jpeg.exif_maker_note_length,
            "calibration:originals_of_make_all_with_thumbnail": always[make],
        },
        explanation=(
            f"The file presents as a {camera} original (maker notes of {result.jpeg.exif_maker_note_length:,} "
            f"bytes, no editor named) but its EXIF has no IFD1 thumbnail, while all {always[make]} calibration "
            f"originals of make '{make}' carry one. The thumbnail was probably removed after capture."
        ),
    )


@book.rule(
    "EM-THUMB-005",
    "The main image was encoded by software while its EXIF thumbnail was not",
    Category.INTEGRITY,
    Severity.WARNING,
    looks_at=(
        "Quantisation tables of the main image and of the IFD1 thumbnail: IJG-scaled Annex K tables (libjpeg, "
        "Pillow, ImageMagick, GIMP) in the main image, the encoder's own tables in the thumbnail (not within one "
        "step of any IJG scaling)"
    ),
    innocent=(
        "A few phones encode the main image with standard libjpeg tables at high quality while their thumbnail "
        "encoder uses its own; in most files the pattern means the picture was re-saved by software that kept "
        "the camera's EXIF block and thumbnail."
    ),
)
def thumbnail_encoder_differs(result: AnalysisResult) -> Iterator[Observation]:
    comparison = result.exif_thumbnail
    if comparison is None or comparison.main_encoder is None or comparison.thumbnail_encoder is None:
        return
    main, thumb = comparison.main_encoder, comparison.thumbnail_encoder
    if not main.ijg_scaled or thumb.ijg_like:
        return
    yield Observation(
        evidence={
            "main_image:encoder": main.label,
            "main_image:ijg_scaled_tables": main.ijg_scaled,
            "main_image:estimated_quality": main.estimated_quality,
            "thumbnail:encoder": thumb.label,
            "thumbnail:ijg_scaled_tables": thumb.ijg_scaled,
            "thumbnail:within_one_step_of_ijg_tables": thumb.ijg_like,
            "thumbnail:estimated_quality": thumb.estimated_quality,
        },
        explanation=(
            f"The main image uses {main.label}, as software encoders write, while the EXIF thumbnail uses "
            f"{thumb.label}, as the camera's encoder wrote it: the main image was encoded again after capture and "
            "the camera's thumbnail kept."
        ),
    )
