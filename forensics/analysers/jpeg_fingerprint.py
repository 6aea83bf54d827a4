"""A JPEG's encoder fingerprint: the choices an encoder makes (tables, entropy coding, sampling, segment layout,
EXIF layout) condensed from our own marker walk and ExifTool's tags, for comparison with device profiles."""

from __future__ import annotations

import hashlib
import re
import struct
from dataclasses import dataclass
from typing import Any

from .jpeg_structure import JpegStructure, QuantTable

# ExifTool family-1 groups that are not a maker note: the first group outside these, in file order, is the
# maker note's vendor (ExifTool names decoded maker notes "Canon", "Nikon", "Apple", ...).
_NON_MAKER_NOTE_GROUPS = re.compile(
    r"^(File|ExifTool|System|Composite|IFD\d|ExifIFD|InteropIFD|GPS|SubIFD\d*|GlobParamIFD|JFIF|JFXX|APP\d+|"
    r"XMP.*|ICC.*|MPF\d*|MPImage\d*|Photoshop|IPTC|PrintIM|FlashPix|JUMBF|CBOR|JSON|C2PA|Adobe|Ducky|"
    r"Copy\d+|PreviewImage|Meta.*|Trailer|Comment)$"
)
_BYTE_ORDERS = {"little": "II", "intel": "II", "big": "MM", "motorola": "MM"}


@dataclass(frozen=True)
class EncoderFingerprint:
    """What one JPEG's encoder chose. `quant_digest` identifies the exact quantisation tables (ids, precision,
    values); `jpeg_digest` is ExifTool's JPEGDigest form of the same tables (MD5 of the DQT segments plus the
    sampling factors), kept so tables known only by that digest (Photoshop's) can be recognised."""

    quant_digest: str
    jpeg_digest: str
    ijg_quality: int | None
    huffman: str
    subsampling: str
    process: str
    app_segments: tuple[str, ...]
    jfif: bool
    thumbnail: str | None
    exif_byte_order: str | None
    maker_note_type: str | None
    # "serialised" (the EXIF tree written out afresh, as a metadata rewriter does), "firmware" or None (no EXIF).
    exif_layout: str | None = None
    # The table, restart and frame markers up to the first scan, with the tables each DQT/DHT segment holds:
    # "DQT:1 DQT:1 SOF0 DHT:1 DHT:1 DHT:1 DHT:1 SOS" is libjpeg's order, "DQT:2 SOF0 DHT:4 SOS" a common camera's.
    table_markers: str = ""

    @property
    def camera_layout(self) -> tuple[Any, ...]:
        """The non-table part of the fingerprint, compared as a whole with what a device writes."""
        return (self.huffman, self.subsampling, self.process, self.app_segments, self.jfif)


def encoder_fingerprint(jpeg: JpegStructure, exif_tags: dict[str, Any] | None) -> EncoderFingerprint | None:
    """The fingerprint of a parsed primary image, or None when it has no frame or no quantisation tables."""
    if jpeg.frame is None or not jpeg.quant_tables:
        return None
    tags = exif_tags or {}
    tables = _tables_in_use(jpeg.quant_tables)
    return EncoderFingerprint(
        quant_digest=quant_digest(tables),
        jpeg_digest=exiftool_jpeg_digest(jpeg),
        ijg_quality=tables[0].estimated_quality if all(table.standard_ijg for table in tables) else None,
        huffman=_huffman_kind(jpeg),
        subsampling=jpeg.frame.subsampling,
        process=jpeg.frame.process,
        app_segments=app_segment_sequence(jpeg),
        jfif=any(segment.label == "JFIF" for segment in jpeg.segments),
        thumbnail=_thumbnail_kind(jpeg),
        exif_byte_order=_byte_order(tags.get("File:ExifByteOrder")),
        maker_note_type=maker_note_type(tags) if jpeg.exif_maker_note_length else None,
        exif_layout=_exif_layout_kind(jpeg),
        table_markers=table_marker_sequence(jpeg),
    )


def quant_digest(tables: list[QuantTable]) -> str:
    """A short SHA-256 over the tables by id: the same tables give the same digest whatever the segment layout."""
    digest = hashlib.sha256()
    for table in sorted(tables, key=lambda item: item.table_id):
        digest.update(f"{table.table_id}:{table.precision_bits}:{','.join(map(str, table.values))};".encode())
    return digest.hexdigest()[:16]


def exiftool_jpeg_digest(jpeg: JpegStructure) -> str:
    """ExifTool's JPEGDigest (JPEGDigest.pm `Calculate`): MD5 of the DQT segment payloads kept by the id of their
    first table (ids 0-3, later segments replacing earlier), joined by NUL bytes, then ':' and the sampling
    factors of every component ("221111"). The payloads are rebuilt from the parsed tables."""
    by_id: dict[int, bytes] = {}
    for segment in jpeg.segments:
        if segment.name != "DQT":
            continue
        inside = [t for t in jpeg.quant_tables if segment.offset + 4 <= t.offset < segment.offset + 2 + segment.length]
        if inside and inside[0].table_id < 4:
            by_id[inside[0].table_id] = b"".join(_dqt_bytes(table) for table in inside)
    md5 = hashlib.md5(b"\0".join(by_id[key] for key in sorted(by_id)), usedforsecurity=False).hexdigest()
    sampling = "".join(f"{item['h']}{item['v']}" for item in jpeg.frame.components) if jpeg.frame else ""
    return f"{md5}:{sampling}"


def app_segment_sequence(jpeg: JpegStructure) -> tuple[str, ...]:
    """The APPn/COM segments before the first SOF, in order, consecutive repeats folded ("APP2 FlashPix")."""
    sequence: list[str] = []
    for segment in jpeg.segments:
        if segment.name.startswith("SOF") or segment.name == "SOS":
            break
        if segment.name.startswith("APP") or segment.name == "COM":
            name = f"{segment.name} {segment.label}" if segment.label else segment.name
            if not sequence or sequence[-1] != name:
                sequence.append(name)
    return tuple(sequence)


def table_marker_sequence(jpeg: JpegStructure) -> str:
    """The markers between the APPn segments and the first scan, DQT and DHT with the number of tables each holds."""
    sequence: list[str] = []
    for segment in jpeg.segments:
        if segment.name in ("DQT", "DHT"):
            tables = jpeg.quant_tables if segment.name == "DQT" else jpeg.huffman_tables
            inside = sum(1 for table in tables if segment.offset < table.offset < segment.offset + 2 + segment.length)
            sequence.append(f"{segment.name}:{inside}")
        elif segment.name.startswith("SOF") or segment.name in ("DRI", "SOS"):
            sequence.append(segment.name)
        if segment.name == "SOS":
            break
    return " ".join(sequence)


def maker_note_type(tags: dict[str, Any]) -> str | None:
    for key in tags:
        group = key.partition(":")[0]
        if not _NON_MAKER_NOTE_GROUPS.match(group):
            return group
    return None


def _tables_in_use(tables: list[QuantTable]) -> list[QuantTable]:
    """The last definition of each table id (a later DQT redefines an id), in id order."""
    latest = {table.table_id: table for table in tables}
    return [latest[key] for key in sorted(latest)]


def _dqt_bytes(table: QuantTable) -> bytes:
    precision = 1 if table.precision_bits == 16 else 0
    body = struct.pack(">64H", *table.values) if precision else bytes(table.values)
    return bytes([precision << 4 | table.table_id]) + body


def _huffman_kind(jpeg: JpegStructure) -> str:
    standard = {table.standard for table in jpeg.huffman_tables}
    if not standard:
        return "none"
    return "standard" if standard == {True} else "optimised" if standard == {False} else "mixed"


def _thumbnail_kind(jpeg: JpegStructure) -> str | None:
    thumbnail = jpeg.thumbnail
    if thumbnail is None:
        return None
    size = f"{thumbnail.width}x{thumbnail.height}" if thumbnail.width else "unknown size"
    return f"{size} {'JPEG' if thumbnail.is_jpeg else 'other'}"


def _byte_order(value: Any) -> str | None:
    text = str(value or "").lower()
    return next((order for needle, order in _BYTE_ORDERS.items() if needle in text), None)


def _exif_layout_kind(jpeg: JpegStructure) -> str | None:
    if jpeg.exif_layout is None:
        return None
    return "serialised" if jpeg.exif_layout.serialised else "firmware"
