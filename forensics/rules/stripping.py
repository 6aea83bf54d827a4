"""Stripping rules: a photo or video in a capture format that carries none of the metadata every camera writes.

"Presented as a capture" here means: a JPEG, HEIF/HEIC or MP4/MOV (formats cameras and phones save; PNG and GIF
are not) in which nothing says the file is anything else: no editor or converter named in a software field, no
XMP edit history, no C2PA manifest. Such a file with no camera or device metadata at all (no Make/Model in any
group, no maker notes, no EXIF capture settings, no Apple/Android recording keys) had it removed: by a messenger
or social network, a privacy tool, or someone laundering an edit. Platform fingerprints found in the file are
quoted so the examiner can tell a platform download from a deliberate strip.
"""

from __future__ import annotations

from collections.abc import Iterator

from forensics.analysers.results import AnalysisResult

from . import synthetic
from .facts import by_tag, first, tags
from .maker_notes import maker_note_families
from .model import Category, Observation, RuleBook, Severity
from .software_names import SOFTWARE_TAGS, editor_named, generator_named

book = RuleBook()

_HEIF_BRANDS = {"heic", "heix", "heim", "heis", "hevc", "hevx", "mif1", "msf1", "avif"}
# EXIF tags only a capture writes: the exposure, and the moment of it.
_CAPTURE_TAGS = ("ExposureTime", "FNumber", "ISO", "DateTimeOriginal", "FocalLength")
_DEVICE_TAGS = ("Make", "Model", "ExifMake", "ExifModel", "AndroidModel", "AndroidMake", "AndroidManufacturer")
# Recording keys phones write into MP4/MOV ('keys'/udta) besides or instead of a Make.
_DEVICE_KEY_PREFIXES = ("com.apple.quicktime.", "com.android.", "com.samsung.", "com.xiaomi.", "com.huawei.")
# APPn segments that are the file's metadata; JFIF, ICC and Adobe's colour marker carry none.
_METADATA_SEGMENTS = {"Exif", "XMP", "XMP extension", "Photoshop IRB", "MPF", "FlashPix", "JUMBF"}


def capture_format(result: AnalysisResult) -> str | None:
    """'JPEG', 'HEIF' or 'video' when the container is one cameras and phones save, else None."""
    if result.container == "jpeg":
        return "JPEG"
    isobmff = result.isobmff
    if result.container != "isobmff" or isobmff is None:
        return None
    if (isobmff.major_brand or "").strip() in _HEIF_BRANDS:
        return "HEIF"
    if any(handler.handler_type == "vide" for handler in isobmff.handlers):
        return "video"
    return None


def _device_metadata(result: AnalysisResult) -> dict[str, object]:
    """The camera/device fields the file still has, by name (empty when it has none)."""
    found: dict[str, object] = {}
    for tag in _DEVICE_TAGS + _CAPTURE_TAGS:
        found.update(by_tag(result, tag))
    for group in maker_note_families(result):
        found[f"{group}:(maker notes)"] = True
    found.update({key: True for key in tags(result) if ":MakerNote" in key})
    if result.isobmff is not None:
        keys = {key for names in result.isobmff.metadata_keys.values() for key in names} | set(
            result.isobmff.vendor_tags
        )
        found.update({key: True for key in keys if key.startswith(_DEVICE_KEY_PREFIXES)})
    return found


def _other_claim(result: AnalysisResult) -> str | None:
    """What the file says it is other than a capture (a program's output, a signed edit), or None."""
    for tag in SOFTWARE_TAGS:
        for field_name, value in by_tag(result, tag).items():
            for item in value if isinstance(value, list) else [value]:
                if editor_named(str(item)) or generator_named(str(item)):
                    return f"{field_name} = {item}"
    for rule in synthetic.book.rules:
        if any(True for _ in rule.check(result)):
            return f"{rule.id}: {rule.title}"
    if first(result, "XMP-xmpMM:HistoryAction") or first(result, "XMP-iptcExt:DigitalSourceType"):
        return "XMP edit history or digital source type"
    if result.c2pa is not None and result.c2pa.present:
        return "C2PA manifest"
    return None


def platform_fingerprints(result: AnalysisResult) -> list[str]:
    """Traces platforms and tools leave on the files they rewrite, as sentences quoting the value seen."""
    seen: list[str] = []
    instructions = str(first(result, "IPTC:SpecialInstructions") or "")
    if instructions.startswith("FBMD"):
        seen.append(f"IPTC SpecialInstructions {instructions[:24]!r}: Facebook's upload identifier (Meta apps)")
    profile = str(first(result, "ICC_Profile:ProfileDescription") or "")
    if profile == "c2":
        seen.append("ICC profile 'c2': the compact sRGB profile Facebook's and Instagram's image pipeline embeds")
    jpeg = result.jpeg
    if jpeg is None:
        return seen
    labels = [segment.label or segment.name for segment in jpeg.segments if segment.name.startswith("APP")]
    if not labels:
        seen.append(
            "no APPn segment at all, not even the JFIF header encoders write: a lossless strip (ExifTool -all=)"
        )
    elif not set(labels) & _METADATA_SEGMENTS:
        seen.append(
            f"APPn segments {', '.join(labels)} only: the layout libjpeg-based re-encoders write (messengers such "
            "as WhatsApp and Telegram, social networks, Pillow, ImageMagick) and jpegtran -copy none leaves"
        )
    if jpeg.quant_tables and all(table.standard_ijg for table in jpeg.quant_tables):
        quality = jpeg.quant_tables[0].estimated_quality
        seen.append(f"IJG standard quantisation tables at quality {quality}: re-encoded by a libjpeg-family encoder")
    elif jpeg.quant_tables:
        seen.append(
            "quantisation tables that are not libjpeg's: the pixels may still be a device's own encoding, with the "
            "metadata removed without re-encoding (jpegtran -copy none, ExifTool -all=)"
        )
    if jpeg.frame is not None and jpeg.frame.process == "progressive":
        seen.append("progressive coding, which web and social-network pipelines write and cameras do not")
    for label, writer in (("Ducky", "Photoshop 'Save for Web'"), ("Adobe", "Adobe software or ImageMagick")):
        if label in labels:
            seen.append(f"an APP segment {label!r} ({writer})")
    return seen


@book.rule(
    "EM-STRIP-001",
    "Capture metadata removed",
    Category.METADATA,
    Severity.WARNING,
    looks_at=(
        "JPEG, HEIF and MP4/MOV files that name no other origin (no editor in a software field, no XMP history, "
        "no C2PA, no EM-SYN generator declaration): Make/Model in every group, maker notes, EXIF capture "
        "settings (exposure, aperture, ISO, "
        "DateTimeOriginal), Apple/Android recording keys; quotes platform fingerprints: IPTC 'FBMD', ICC 'c2', "
        "JFIF-only or no APPn layout, libjpeg tables and quality, progressive coding"
    ),
    innocent=(
        "Messengers (WhatsApp, Telegram, Signal), social networks and privacy settings strip metadata from every "
        "photo they pass on, so a downloaded or forwarded copy looks like this; cameras from before EXIF (the "
        "mid-1990s) wrote none. It means the file is not the camera original; the fingerprints say whether a "
        "platform or a local tool rewrote it."
    ),
)
def capture_metadata_removed(result: AnalysisResult) -> Iterator[Observation]:
    kind = capture_format(result)
    if kind is None or result.file_size == 0 or result.exiftool is None:
        return
    if _device_metadata(result) or _other_claim(result):
        return
    fingerprints = platform_fingerprints(result)
    seen = "; ".join(fingerprints) if fingerprints else "no platform fingerprint"
    yield Observation(
        evidence={
            "format": kind,
            "Make": None,
            "Model": None,
            "maker_notes": None,
            "platform_fingerprints": fingerprints,
        },
        explanation=(
            f"This {kind} file carries no camera or device metadata at all (no Make, Model, maker notes, capture "
            f"settings or recording keys) and names no program that made it: the metadata was removed. Seen: {seen}."
        ),
    )
