"""Trailer accounting: which bytes after a JPEG's EOI the file's own metadata declares (maker-note previews).

Cameras from Minolta, Samsung, Nikon, Olympus, Pentax, Sony and others store a preview JPEG after the primary
image and record where it is in their maker notes. ExifTool reports such a declaration as a start/length pair
(PreviewImageStart + PreviewImageLength, OtherImageStart + ...), as absolute file offsets (checked against real
Minolta DiMAGE 7Hi/A1 and Samsung S730 files), or only as a binary tag of a known size (Minolta DiMAGE S404's
PreviewImage, tag 0x0081). A trailing JPEG stream that starts where a declaration says and fits inside the
declared length is accounted for; anything else after the image stays undeclared.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from forensics.analysers.jpeg_structure import TrailingRegion
from forensics.analysers.results import AnalysisResult

from .facts import as_int, tags

# (start tag, length tag, image tag) as ExifTool names them in any group (maker notes, PreviewIFD, MPF).
_DECLARED_IMAGES = (
    ("PreviewImageStart", "PreviewImageLength", "PreviewImage"),
    ("OtherImageStart", "OtherImageLength", "OtherImage"),
    ("JpgFromRawStart", "JpgFromRawLength", "JpgFromRaw"),
    ("ThumbnailOffset", "ThumbnailLength", "ThumbnailImage"),
    ("MPImageStart", "MPImageLength", "MPImage"),
)
_BINARY_SIZE = re.compile(r"^\(Binary data (\d+) bytes")


@dataclass(frozen=True)
class Declaration:
    """One image the metadata says is in the file: where (when it says) and how long."""

    fields: dict[str, int]
    start: int | None
    length: int


@dataclass(frozen=True)
class Accounted:
    region: TrailingRegion
    declaration: Declaration


def declarations(result: AnalysisResult) -> list[Declaration]:
    found: list[Declaration] = []
    by_prefix: dict[str, dict[str, object]] = {}
    for key, value in tags(result).items():
        prefix, _, tag = key.rpartition(":")
        by_prefix.setdefault(prefix, {})[tag] = value
    for prefix, group_tags in by_prefix.items():
        pairs = [
            Declaration({f"{prefix}:{start_tag}": start, f"{prefix}:{length_tag}": length}, start, length)
            for start_tag, length_tag, _ in _DECLARED_IMAGES
            if (start := as_int(group_tags.get(start_tag))) is not None
            and (length := as_int(group_tags.get(length_tag)))
        ]
        found.extend(pairs)
        if pairs:
            continue  # the group's image tags describe these same images
        for _, _, image_tag in _DECLARED_IMAGES:
            size = _BINARY_SIZE.match(str(group_tags.get(image_tag, "")))
            if size and int(size[1]):
                found.append(Declaration({f"{prefix}:{image_tag} (bytes)": int(size[1])}, None, int(size[1])))
    return found


def accounted_trailing(result: AnalysisResult) -> list[Accounted]:
    """Undeclared trailing regions that a metadata declaration accounts for, each with that declaration.

    A declaration claims the JPEG stream that starts at its offset (or, with only a size, the stream from which
    that size ends exactly on a region boundary or the end of the file), then every region inside its range.
    """
    if result.jpeg is None:
        return []
    regions = [region for region in result.jpeg.trailing if region.classification == "undeclared"]
    streams = [region for region in regions if (region.detail or "").startswith("second JPEG image")]
    boundaries = {region.offset for region in result.jpeg.trailing} | {result.jpeg.file_size}
    accounted: dict[int, Accounted] = {}
    for declaration in declarations(result):
        stream = next((item for item in streams if _claims(declaration, item, boundaries)), None)
        if stream is None:
            continue
        end = stream.offset + declaration.length
        for region in regions:
            if stream.offset <= region.offset and region.offset + region.length <= end:
                accounted.setdefault(region.offset, Accounted(region, declaration))
    return sorted(accounted.values(), key=lambda item: item.region.offset)


def unaccounted_trailing(result: AnalysisResult) -> list[TrailingRegion]:
    if result.jpeg is None:
        return []
    accounted = {item.region.offset for item in accounted_trailing(result)}
    return [
        region
        for region in result.jpeg.trailing
        if region.classification == "undeclared" and region.offset not in accounted
    ]


def _claims(declaration: Declaration, stream: TrailingRegion, boundaries: set[int]) -> bool:
    end = stream.offset + declaration.length
    if stream.length > declaration.length or end > max(boundaries):
        return False
    if declaration.start is not None:
        return declaration.start == stream.offset
    # Only a size: it must end where a trailing region (or the file) ends, so it cannot swallow part of one.
    return end in boundaries
