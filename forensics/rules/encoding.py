"""Encoding rules: the JPEG encoder's fingerprint against the device profiles of the claimed camera, and traces of
an earlier compression (double JPEG)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from forensics.analysers.double_jpeg import DoubleJpegEstimate, estimated_primary_quality
from forensics.analysers.jpeg_fingerprint import EncoderFingerprint, encoder_fingerprint
from forensics.analysers.results import AnalysisResult
from forensics.device_profiles import libjpeg_layout, libjpeg_markers, make_key, profiles_load

from .facts import claimed_camera, first, quote, tags
from .model import Category, Observation, RuleBook, Severity

book = RuleBook()

# APP segments written by editors and never by camera firmware (none of the calibration originals has one):
# APP12 "Ducky" is Photoshop's Save for Web, APP14 "Adobe" the colour-transform marker of Adobe's encoder.
_EDITOR_SEGMENTS = {"APP12 Ducky": "Photoshop Save for Web (APP12 Ducky)", "APP14 Adobe": "Adobe encoder (APP14 Adobe)"}
# Double JPEG: a coefficient counts when a primary step explains its histogram at least this much better (L1
# distance of normalised histograms) and at most half as badly as a single compression; the file counts when at
# least three low-frequency coefficients do. Calibrated on the 83 analysable camera originals of the calibration
# half: none has more than two such coefficients (one has two), while re-saves of them keeping the EXIF reach three
# in 21 of 83 (Pillow, quality 80), 40 of 83 (Pillow, quality 90) and 28 of 83 (ImageMagick, its default quality),
# but in none re-saved by Pillow with the camera's own tables (a same-table re-save leaves no periodic trace).
DOUBLE_MIN_IMPROVEMENT = 0.05
DOUBLE_MAX_RATIO = 0.5
DOUBLE_MIN_COEFFICIENTS = 3
_SHOWN = 6


def _camera_fingerprint(result: AnalysisResult) -> tuple[str, EncoderFingerprint] | None:
    """(claimed camera, fingerprint) when a JPEG presents itself as a camera original with maker notes."""
    jpeg = result.jpeg
    camera = claimed_camera(result)
    if camera is None or jpeg is None or not jpeg.exif_maker_note_length:
        return None
    fingerprint = encoder_fingerprint(jpeg, tags(result))
    return (camera, fingerprint) if fingerprint is not None else None


def _file_side(fingerprint: EncoderFingerprint) -> dict[str, Any]:
    return {
        "jpeg:quant_digest": fingerprint.quant_digest,
        "jpeg:ijg_quality": fingerprint.ijg_quality,
        "jpeg:huffman": fingerprint.huffman,
        "jpeg:subsampling": fingerprint.subsampling,
        "jpeg:app_segments": list(fingerprint.app_segments),
    }


def _profile_side(profile: dict[str, Any] | None, fields: tuple[str, ...]) -> dict[str, Any]:
    if profile is None:
        return {"files": 0}
    return {"files": profile["files"], **{name: profile[name] for name in fields}}


@book.rule(
    "EM-ENC-001",
    "Camera claimed, but the quantisation tables are a software encoder's",
    Category.STRUCTURE,
    Severity.WARNING,
    looks_at=(
        "DQT tables (our digest and ExifTool's JPEGDigest) vs tables generated with Pillow, ImageMagick, libjpeg "
        "6b/9e, libjpeg-turbo and mozjpeg at qualities 1-100 and ExifTool's Photoshop/Lightroom digests, for a "
        "JPEG with camera EXIF and maker notes; tables any camera original in the profiles used are excluded"
    ),
    innocent=(
        "A camera can share tables with a program (the plain libjpeg tables are left to EM-ENC-002 for that "
        "reason). Otherwise a program re-encoded the image and kept the camera's EXIF block."
    ),
)
def software_tables_under_camera_exif(result: AnalysisResult) -> Iterator[Observation]:
    claim = _camera_fingerprint(result)
    if claim is None:
        return
    camera, fingerprint = claim
    profiles = profiles_load()
    encoders = profiles.software_encoders(fingerprint)
    # libjpeg's Annex K scaling is used by cameras too; it is judged with the file layout in EM-ENC-002.
    if (
        not encoders
        or fingerprint.ijg_quality is not None
        or profiles.camera_makes_with_tables(fingerprint.quant_digest)
    ):
        return
    make = first(result, "IFD0:Make")
    profile = profiles.make(make)
    yield Observation(
        evidence={
            "IFD0:Make/Model": camera,
            **_file_side(fingerprint),
            "jpeg:jpeg_digest": fingerprint.jpeg_digest,
            "software_encoders": encoders[:_SHOWN],
            "profile:make": make_key(make),
            "profile:make_tables": _profile_side(profile, ("quant_digests",)),
            "profiles:version": profiles.version,
        },
        explanation=(
            f"The metadata presents the file as a photo from {quote(camera)}, but its quantisation tables are "
            f"exactly those of {', '.join(encoders[:3])}; no camera original in the device profiles "
            f"({profile['files'] if profile else 0} from this make) used them."
        ),
    )


@book.rule(
    "EM-ENC-002",
    "Camera claimed, but the file is laid out as libjpeg writes it",
    Category.STRUCTURE,
    Severity.WARNING,
    looks_at=(
        "IJG-scaled DQT tables + JFIF APP0 as the first segment, in a JPEG with camera EXIF and maker notes, vs "
        "the claimed make's device profile (whether any of its originals looked so at the same IJG quality)"
    ),
    innocent=(
        "A few old cameras ran libjpeg itself and wrote JFIF at fixed qualities (their make's profile then shows "
        "it and the rule stays quiet at those qualities). Otherwise Pillow, ImageMagick, cjpeg or an app built on "
        "libjpeg re-encoded the image and copied the EXIF."
    ),
)
def libjpeg_layout_under_camera_exif(result: AnalysisResult) -> Iterator[Observation]:
    claim = _camera_fingerprint(result)
    if claim is None or not libjpeg_layout(claim[1]):
        return
    camera, fingerprint = claim
    profiles = profiles_load()
    make = first(result, "IFD0:Make")
    profile = profiles.make(make)
    # A camera that runs libjpeg itself does so at its own few quality settings; a re-save picks any quality.
    if profile is not None and profile["libjpeg_layout_qualities"].get(str(fingerprint.ijg_quality)):
        return
    seen = (
        f"none of the {profile['files']} originals of this make in the device profiles"
        if profile
        else ("no profile exists for this make, and camera firmware with maker notes does not write it")
    )
    yield Observation(
        evidence={
            "IFD0:Make/Model": camera,
            **_file_side(fingerprint),
            "profile:make": make_key(make),
            "profile:make_layout": _profile_side(
                profile, ("libjpeg_layout", "libjpeg_layout_qualities", "jfif", "huffman", "app_segments")
            ),
            "profiles:version": profiles.version,
        },
        explanation=(
            f"The metadata presents the file as a photo from {quote(camera)} with maker notes, but the image is "
            f"coded with libjpeg's tables at quality {fingerprint.ijg_quality} ({fingerprint.huffman} Huffman tables) "
            f"behind a JFIF header ({' | '.join(fingerprint.app_segments)}); {seen} looks like that."
        ),
    )


@book.rule(
    "EM-ENC-003",
    "Quantisation tables match no profile of the claimed camera model",
    Category.STRUCTURE,
    Severity.WARNING,
    looks_at=(
        "DQT table digest vs the closed table set of the claimed Make/Model in the device profiles (a model whose "
        "originals repeatedly used the same few table sets; models with adaptive tables are never closed)"
    ),
    innocent=(
        "A firmware update or a quality mode not among the calibration originals brings new tables. Otherwise "
        "the image was re-encoded, or the Make/Model were written over another device's file."
    ),
)
def tables_outside_closed_profile(result: AnalysisResult) -> Iterator[Observation]:
    claim = _camera_fingerprint(result)
    if claim is None:
        return
    camera, fingerprint = claim
    profiles = profiles_load()
    make, model = first(result, "IFD0:Make"), first(result, "IFD0:Model")
    profile = profiles.model(make, model)
    if profile is None or not profile["closed_tables"] or fingerprint.quant_digest in profile["quant_digests"]:
        return
    others = [name for name in profiles.camera_makes_with_tables(fingerprint.quant_digest)]
    yield Observation(
        evidence={
            "IFD0:Make/Model": camera,
            **_file_side(fingerprint),
            "profile:model_tables": _profile_side(profile, ("quant_digests", "subsampling", "huffman")),
            "profile:makes_with_these_tables": others,
            "software_encoders": profiles.software_encoders(fingerprint)[:_SHOWN],
            "profiles:version": profiles.version,
        },
        explanation=(
            f"{profile['files']} originals of {quote(camera)} in the device profiles used only "
            f"{len(profile['quant_digests'])} table set(s) ({', '.join(profile['quant_digests'])}); this file's "
            f"tables ({fingerprint.quant_digest}) are none of them"
            + (f" but are used by {', '.join(others)}" if others else "")
            + "."
        ),
    )


@book.rule(
    "EM-ENC-004",
    "Camera claimed, but the file has segments only editors write",
    Category.STRUCTURE,
    Severity.WARNING,
    looks_at="APPn segments before the frame (APP12 Ducky, APP14 Adobe) in a JPEG with camera EXIF and maker notes",
    innocent=(
        "No camera original in the profiles carries these segments; an Adobe program saved the file, perhaps only "
        "to convert or caption it, keeping the camera's EXIF."
    ),
)
def editor_segments_under_camera_exif(result: AnalysisResult) -> Iterator[Observation]:
    claim = _camera_fingerprint(result)
    if claim is None:
        return
    camera, fingerprint = claim
    found = [_EDITOR_SEGMENTS[name] for name in fingerprint.app_segments if name in _EDITOR_SEGMENTS]
    if found:
        yield Observation(
            evidence={"IFD0:Make/Model": camera, "jpeg:app_segments": list(fingerprint.app_segments)},
            explanation=(
                f"The metadata presents the file as a photo from {quote(camera)}, but it carries "
                f"{' and '.join(found)}, which camera firmware does not write."
            ),
        )


def _double_compression(result: AnalysisResult) -> tuple[DoubleJpegEstimate, list] | None:
    estimate = result.double_jpeg
    if estimate is None or not estimate.analysed:
        return None
    periodic = estimate.periodic(DOUBLE_MIN_IMPROVEMENT, DOUBLE_MAX_RATIO)
    return (estimate, periodic) if len(periodic) >= DOUBLE_MIN_COEFFICIENTS else None


def _double_observation(estimate: DoubleJpegEstimate, periodic: list, lead: str) -> Observation:
    primary = estimated_primary_quality(periodic)
    steps = ", ".join(f"({item.row},{item.column}) {item.primary_step}→{item.last_step}" for item in periodic[:_SHOWN])
    return Observation(
        evidence={
            "double_jpeg:coefficients": [
                {
                    "position": [item.row, item.column],
                    "last_step": item.last_step,
                    "primary_step": item.primary_step,
                    "single_error": item.single_error,
                    "double_error": item.double_error,
                }
                for item in periodic[:_SHOWN]
            ],
            "double_jpeg:periodic_coefficients": len(periodic),
            "double_jpeg:blocks_examined": estimate.blocks_examined,
            "double_jpeg:estimated_primary_quality": primary,
            "double_jpeg:last_quality": estimate.last_quality,
        },
        explanation=(
            f"{lead}{len(periodic)} low-frequency DCT coefficients of the luminance carry the periodic trace of an "
            f"earlier quantisation (earlier step → last step: {steps}): the image was compressed before, at about "
            f"IJG quality {primary}, and saved again at about quality {estimate.last_quality}."
        ),
    )


@book.rule(
    "EM-ENC-005",
    "Camera claimed, but the image was JPEG-compressed twice",
    Category.STRUCTURE,
    Severity.WARNING,
    looks_at=(
        "histograms of the low-frequency luminance DCT coefficients vs double compressions simulated with every "
        "primary step 1-40 (Lukáš-Fridrich primary quantisation estimation), in a JPEG whose EXIF names a camera"
    ),
    innocent=(
        "Camera firmware compresses once; no calibration original shows the trace. An in-camera edit (crop, "
        "resize, filter) re-compresses too. Otherwise the file was re-saved by software."
    ),
)
def camera_double_compression(result: AnalysisResult) -> Iterator[Observation]:
    found = _double_compression(result)
    camera = claimed_camera(result)
    if found is None or camera is None:
        return
    yield _double_observation(*found, lead=f"The metadata presents the file as a photo from {quote(camera)}, but ")


@book.rule(
    "EM-ENC-006",
    "The image was JPEG-compressed twice",
    Category.STRUCTURE,
    Severity.INFO,
    looks_at="the same double-compression estimate as EM-ENC-005, for JPEGs that do not present a camera",
    innocent="Images shared, downloaded or edited are routinely re-saved; this dates the image's history, no more.",
)
def double_compression(result: AnalysisResult) -> Iterator[Observation]:
    found = _double_compression(result)
    if found is None or claimed_camera(result) is not None:
        return
    yield _double_observation(*found, lead="In this image, ")


# A make counts as not doing something (writing JFIF, serialising its EXIF) once this many of its calibration
# originals were seen and at most this share of them did it, and no original of the claimed model did. The share is
# not zero because files that pass for originals include some that software rewrote without naming itself: of the
# 33 Canon originals of the public collections two have a serialised EXIF and three a JFIF header, and for the EOS
# 20D among them ExifTool reports that the maker notes' offsets no longer fit where they lie (the block was moved).
RARE_MIN_MAKE_FILES = 8
RARE_MAX_MAKE_SHARE = 0.1
# With fewer originals a make counts as not doing it only when none of at least this many did (as EM-ENC-009 reads a
# make with few originals): a make whose firmware does it (Sony's and the phones' serialise their EXIF) shows it in
# a handful of files.
NEVER_MIN_MAKE_FILES = 4


def _rare_for_claimed_make(result: AnalysisResult, field: str, value: str) -> tuple[dict[str, Any], int] | None:
    """(make profile, originals showing it) when the claimed make's originals rarely or never show `value` in
    `field` and the claimed model's never do; None when the profiles cannot say so."""
    profiles = profiles_load()
    make, model = first(result, "IFD0:Make"), first(result, "IFD0:Model")
    profile = profiles.make(make)
    if profile is None or profile["files"] < NEVER_MIN_MAKE_FILES or field not in profile:
        return None
    seen = profile[field].get(value, 0)
    if seen and (profile["files"] < RARE_MIN_MAKE_FILES or seen > RARE_MAX_MAKE_SHARE * profile["files"]):
        return None
    model_profile = profiles.model(make, model)
    if model_profile is not None and model_profile.get(field, {}).get(value, 0):
        return None
    return profile, seen


@book.rule(
    "EM-ENC-007",
    "Camera claimed, but the file has a JFIF header this make does not write",
    Category.STRUCTURE,
    Severity.WARNING,
    looks_at=(
        "a JFIF APP0 segment in a JPEG with camera EXIF and maker notes vs the claimed make's device profile "
        f"(at least {RARE_MIN_MAKE_FILES} originals and at most {RARE_MAX_MAKE_SHARE:.0%} of them with JFIF, or at "
        f"least {NEVER_MIN_MAKE_FILES} and none; none of the model); libjpeg-scaled tables are left to EM-ENC-002, "
        "libjpeg's marker order to EM-ENC-009"
    ),
    innocent=(
        "A model of this make not among the calibration originals may write JFIF. Otherwise a program built on "
        "libjpeg (Pillow, ImageMagick, most apps; they write JFIF by default) re-encoded the image, even when it "
        "reused the camera's own quantisation tables and EXIF block."
    ),
)
def jfif_the_make_never_writes(result: AnalysisResult) -> Iterator[Observation]:
    claim = _camera_fingerprint(result)
    if claim is None or not claim[1].jfif or libjpeg_layout(claim[1]) or libjpeg_markers(claim[1]):
        return
    camera, fingerprint = claim
    rare = _rare_for_claimed_make(result, "jfif", "true")
    if rare is None:
        return
    profile, seen = rare
    yield Observation(
        evidence={
            "IFD0:Make/Model": camera,
            "jpeg:app_segments": list(fingerprint.app_segments),
            "profile:make": make_key(first(result, "IFD0:Make")),
            "profile:make_layout": _profile_side(profile, ("jfif", "app_segments")),
            "profiles:version": profiles_load().version,
        },
        explanation=(
            f"The metadata presents the file as a photo from {quote(camera)}, but it starts with a JFIF header "
            f"({' | '.join(fingerprint.app_segments)}); {seen} of the {profile['files']} originals of this make in "
            "the device profiles, and none of this model, have one."
        ),
    )


@book.rule(
    "EM-ENC-008",
    "Camera claimed, but the EXIF block was written out afresh by a program",
    Category.METADATA,
    Severity.WARNING,
    looks_at=(
        "the byte layout of the EXIF block (each IFD, then its values in entry order, then its sub-IFDs, then IFD1 "
        "and the thumbnail, with no spare byte: how ExifTool and other metadata writers serialise it) vs the "
        f"claimed make's device profile (at least {RARE_MIN_MAKE_FILES} originals and at most "
        f"{RARE_MAX_MAKE_SHARE:.0%} of them laid out so, or at least {NEVER_MIN_MAKE_FILES} and none; no original of "
        "the model laid out so)"
    ),
    innocent=(
        "A model of this make not among the calibration originals may lay its EXIF out this way. Otherwise a "
        "program rewrote the metadata (to change a date, a position, the orientation, the model or the thumbnail, "
        "or only to add a caption or copyright), leaving the image data itself untouched."
    ),
)
def exif_rewritten_under_camera_claim(result: AnalysisResult) -> Iterator[Observation]:
    claim = _camera_fingerprint(result)
    if claim is None or claim[1].exif_layout != "serialised":
        return
    camera = claim[0]
    rare = _rare_for_claimed_make(result, "exif_layout", "serialised")
    if rare is None:
        return
    profile, seen = rare
    yield Observation(
        evidence={
            "IFD0:Make/Model": camera,
            "exif:layout": "serialised (no spare byte, tree order)",
            "exif:regions": result.jpeg.exif_layout.regions,
            "profile:make": make_key(first(result, "IFD0:Make")),
            "profile:make_layout": _profile_side(profile, ("exif_layout",)),
            "profiles:version": profiles_load().version,
        },
        explanation=(
            f"The metadata presents the file as a photo from {quote(camera)}, but its EXIF block "
            f"({result.jpeg.exif_layout.regions} regions: IFDs, values, thumbnail) is laid out exactly as a metadata "
            f"writer serialises it, with no spare byte; {seen} of the {profile['files']} "
            "originals of this make in the device profiles, and none of this model, are laid out so: camera "
            "firmware keeps its own order and reserved space."
        ),
    )


@book.rule(
    "EM-ENC-009",
    "Camera claimed, but the markers are laid out as libjpeg writes them",
    Category.STRUCTURE,
    Severity.WARNING,
    looks_at=(
        "the segments before the first scan of a JPEG with camera EXIF and maker notes: a JFIF APP0 first, then one "
        "DQT segment per quantisation table, the frame header, one DHT segment per Huffman table (libjpeg's "
        "jcmarker.c order), whatever the tables' values; vs the claimed make's and model's device profiles. "
        "libjpeg-scaled tables are left to EM-ENC-002"
    ),
    innocent=(
        "Camera firmware built on libjpeg writes this order, but without a JFIF header in front of its EXIF (the "
        "Exif standard puts APP1 first); a make or model whose calibration originals show the layout keeps the "
        "rule quiet. Otherwise a program built on libjpeg (Pillow, ImageMagick, most apps) re-encoded the image, "
        "even when it reused the camera's own quantisation tables and EXIF block."
    ),
)
def libjpeg_markers_under_camera_exif(result: AnalysisResult) -> Iterator[Observation]:
    claim = _camera_fingerprint(result)
    if claim is None or not libjpeg_markers(claim[1]) or libjpeg_layout(claim[1]):
        return
    camera, fingerprint = claim
    profiles = profiles_load()
    make = first(result, "IFD0:Make")
    profile = profiles.make(make)
    model_profile = profiles.model(make, first(result, "IFD0:Model"))
    seen = profile.get("libjpeg_markers", {}).get("true", 0) if profile else 0
    if model_profile is not None and model_profile.get("libjpeg_markers", {}).get("true", 0):
        return
    # With few originals of the make, any one laid out so keeps the rule quiet; with enough, a rare one does not.
    if seen and (profile["files"] < RARE_MIN_MAKE_FILES or seen > RARE_MAX_MAKE_SHARE * profile["files"]):
        return
    known = f"{seen} of the {profile['files']} originals of this make" if profile else "no original of this make"
    yield Observation(
        evidence={
            "IFD0:Make/Model": camera,
            "jpeg:app_segments": list(fingerprint.app_segments),
            "jpeg:table_markers": fingerprint.table_markers,
            "jpeg:quant_digest": fingerprint.quant_digest,
            "profile:make": make_key(make),
            "profile:make_layout": _profile_side(profile, ("libjpeg_markers", "jfif", "app_segments")),
            "profiles:version": profiles.version,
        },
        explanation=(
            f"The metadata presents the file as a photo from {quote(camera)} with maker notes, but it starts with a "
            f"JFIF header ({' | '.join(fingerprint.app_segments)}) and its tables are written one per segment in "
            f"libjpeg's order ({fingerprint.table_markers}); {known} in the device profiles, and none of this model, "
            "look like that."
        ),
    )
