"""JPEG structure from our own marker walk: segments, tables, frame, EXIF thumbnail, MPF index and trailing data."""

from __future__ import annotations

import hashlib
import mmap
import re
import struct
from dataclasses import dataclass, field
from pathlib import Path

from .common import StructureIssue, clip_text, decode_text
from .exif_layout import ExifLayout, exif_layout
from .jpeg_tables import estimate_quality, is_standard_huffman
from .tiff_ifd import Ifd, entry_int, first_ifd_offset, read_ifd, tiff_byte_order

JPEG_PARSER_VERSION = "jpeg-structure/3"

MAX_SEGMENTS = 5000
MAX_RECORDED_SEGMENTS = 1000
MAX_COMMENT_CHARS = 4096
# A camera writes at most 4 quantisation tables and a progressive encoder a few dozen Huffman tables; a crafted file
# can pack a thousand tables into each of thousands of segments, each estimated and then matched to its segment.
MAX_QUANT_TABLES = 64
MAX_HUFFMAN_TABLES = 256
MAKER_NOTE_HEAD = 16
HASH_CHUNK = 1 << 20
# Enough to reach the SOF of an undeclared JPEG after the primary image, past its EXIF and tables.
SECOND_IMAGE_HEADER_READ = 1 << 17

# Inside entropy-coded data 0xFF is followed by 0x00 (stuffing), RST0-7 or more 0xFF (fill); anything
# else is a marker. This finds the next marker in C speed, even across a 2 GiB scan.
_NEXT_MARKER = re.compile(rb"\xff[^\x00\xd0-\xd7\xff]")

_SOF_PROCESS = {
    0xC0: "baseline",
    0xC1: "extended sequential",
    0xC2: "progressive",
    0xC3: "lossless",
    0xC5: "differential sequential",
    0xC6: "differential progressive",
    0xC7: "differential lossless",
    0xC9: "extended sequential, arithmetic",
    0xCA: "progressive, arithmetic",
    0xCB: "lossless, arithmetic",
    0xCD: "differential sequential, arithmetic",
    0xCE: "differential progressive, arithmetic",
    0xCF: "differential lossless, arithmetic",
}
_MARKER_NAMES = {
    0xC4: "DHT",
    0xCC: "DAC",
    0xD8: "SOI",
    0xD9: "EOI",
    0xDA: "SOS",
    0xDB: "DQT",
    0xDD: "DRI",
    0xFE: "COM",
}
_APP_LABELS = (
    (b"Exif\x00", "Exif"),
    (b"JFIF\x00", "JFIF"),
    (b"JFXX\x00", "JFXX"),
    (b"http://ns.adobe.com/xap/1.0/\x00", "XMP"),
    (b"http://ns.adobe.com/xmp/extension/\x00", "XMP extension"),
    (b"ICC_PROFILE\x00", "ICC_PROFILE"),
    (b"MPF\x00", "MPF"),
    (b"Photoshop 3.0\x00", "Photoshop IRB"),
    (b"Adobe", "Adobe"),
    (b"Ducky", "Ducky"),
    (b"JP", "JUMBF"),
    (b"FPXR\x00", "FlashPix"),
)
# Trailers other programs append on purpose (ExifTool's IdentifyTrailer), matched at their end or start.
_TRAILER_ENDINGS = (
    (b"AXS!", "AFCP"),
    (b"AXS*", "AFCP"),
    (b"cbipcbbl", "PhotoMechanic"),
    (b"SEFT", "Samsung"),
    (b"QDIOBS", "Samsung"),
    (b"\xa1\xb2\xc3\xd4", "FotoStation"),
    (b"\x00" * 6 + b"/NIKON APP", "NikonApp"),
    (b"8db42d694ccc418790edff439fe026bf", "Insta360"),
)
# Copies from memory cards or disk images end on a 512-byte sector boundary; the bytes between the
# image and that boundary start with zeros and then hold whatever the sector held before.
# Some cameras (Panasonic) also start each MPF image on such a boundary, filling the gap with 0xFF before leftovers.
# Old cameras that write whole blocks (a Ricoh DC-3Z's files are 40,960 and 81,920 bytes) leave their buffer behind
# the image instead: a few dozen bytes of an earlier image, then fill with a mark in the last bytes of each sector.
# That tail is slack too when it runs to the end of the file on a sector boundary, stays under one 64 KiB block, and
# outside those marks holds nothing but fill after its first 128 bytes (so no more than that, and the marks, can
# hide there: a share of fill would let kilobytes of a payload padded with zeros pass).
SECTOR_SIZE = 512
SLACK_MIN_LEADING_FILL = 16
SLACK_BLOCK_MAX = 65536
SLACK_BLOCK_MAX_LEFTOVER = 128
SLACK_SECTOR_MARK = 4
_NOT_FILL = re.compile(rb"[^\x00\xff]")
_FILL_RUN = re.compile(rb"\x00+|\xff+")
_FILL_BYTES = re.compile(rb"[\x00\xff]*")
# Trailer regions split out of one gap: enough for every preview a camera writes, bounded against crafted input.
MAX_TRAILING_REGIONS = 64
_TRAILER_STARTS = ((b"CANON OPTIONAL DATA\x00", "CanonVRD"),)
_CONTENT_HINTS = (
    (b"\xff\xd8\xff", "JPEG image"),
    (b"\x89PNG\r\n\x1a\n", "PNG image"),
    (b"PK\x03\x04", "ZIP archive"),
    (b"%PDF", "PDF document"),
    (b"Rar!", "RAR archive"),
    (b"7z\xbc\xaf\x27\x1c", "7-Zip archive"),
)
# XMP properties by which phones declare a video or gain map appended after the primary image.
_XMP_TRAILER_DECLARATIONS = (b"MicroVideoOffset", b"MotionPhoto", b"Container:Directory", b"GContainer")


@dataclass
class JpegSegment:
    marker: str
    name: str
    offset: int
    length: int
    label: str | None = None


@dataclass
class QuantTable:
    table_id: int
    precision_bits: int
    offset: int
    values: list[int]
    estimated_quality: int
    standard_ijg: bool


@dataclass
class HuffmanTable:
    table_class: str
    table_id: int
    offset: int
    standard: bool


@dataclass
class FrameInfo:
    marker: str
    process: str
    width: int
    height: int
    precision_bits: int
    components: list[dict[str, int]]
    subsampling: str


@dataclass
class ExifThumbnail:
    offset: int
    length: int
    width: int | None
    height: int | None
    is_jpeg: bool
    sha256: str | None


@dataclass
class MpfImage:
    index: int
    offset: int
    length: int
    attribute: str
    starts_with_soi: bool


@dataclass
class TrailingRegion:
    offset: int
    length: int
    # mpf_image, padding, known_trailer, storage_slack, declared_embedded_media or undeclared; an undeclared
    # complete JPEG stream is its own region, so a rule can match it against a maker-note preview declaration
    classification: str
    detail: str | None = None
    sha256: str | None = None


@dataclass
class JpegStructure:
    file_size: int
    segments: list[JpegSegment] = field(default_factory=list)
    segment_count: int = 0
    frame: FrameInfo | None = None
    quant_tables: list[QuantTable] = field(default_factory=list)
    huffman_tables: list[HuffmanTable] = field(default_factory=list)
    restart_interval: int | None = None
    scan_count: int = 0
    comments: list[str] = field(default_factory=list)
    primary_end: int | None = None
    thumbnail: ExifThumbnail | None = None
    # Byte count of the ExifIFD MakerNote (0x927C): None when there is no EXIF sub-IFD to look in.
    exif_maker_note_length: int | None = None
    # The maker note's first bytes, hex: most makers start it with their own signature ("Nikon\0", "OLYMP\0").
    exif_maker_note_head: str | None = None
    exif_layout: ExifLayout | None = None
    mpf_images: list[MpfImage] = field(default_factory=list)
    xmp_declares_trailer: bool = False
    trailing: list[TrailingRegion] = field(default_factory=list)
    undeclared_trailing_bytes: int = 0
    issues: list[StructureIssue] = field(default_factory=list)
    complete: bool = False


def jpeg_structure_read(path: str | Path) -> JpegStructure:
    """Walk the JPEG's markers without decoding pixels; never raises on malformed input."""
    path = Path(path)
    size = path.stat().st_size
    result = JpegStructure(file_size=size)
    if size == 0:
        result.issues.append(StructureIssue("empty_file", "The file is empty.", 0))
        return result
    with path.open("rb") as handle, mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as data:
        _walk_primary(data, result)
        if result.primary_end is not None:
            _classify_trailing(data, result)
    result.complete = result.primary_end is not None and not any(
        issue.code in {"segment_limit", "no_eoi", "segment_overrun", "not_jpeg"} for issue in result.issues
    )
    return result


def jpeg_bytes_structure(data: bytes) -> JpegStructure:
    """The marker walk of a JPEG held in memory, such as an EXIF thumbnail: its tables and frame, no trailer."""
    result = JpegStructure(file_size=len(data))
    _walk_primary(data, result)
    return result


def _walk_primary(data: mmap.mmap | bytes, result: JpegStructure) -> None:
    size = len(data)
    if data[:2] != b"\xff\xd8":
        result.issues.append(StructureIssue("not_jpeg", "The file does not start with a JPEG SOI marker.", 0))
        return
    _record(result, 0xD8, 0, 0)
    position = 2
    while position < size:
        if result.segment_count >= MAX_SEGMENTS:
            result.issues.append(StructureIssue("segment_limit", f"Stopped after {MAX_SEGMENTS} segments.", position))
            return
        if data[position] != 0xFF:
            next_ff = data.find(b"\xff", position)
            end = size if next_ff < 0 else next_ff
            result.issues.append(
                StructureIssue("garbage", f"{end - position:,} bytes between segments are not a marker.", position)
            )
            position = end
            continue
        while position + 1 < size and data[position + 1] == 0xFF:
            position += 1  # fill bytes before a marker are legal
        if position + 1 >= size:
            break
        marker = data[position + 1]
        if marker == 0xD9:
            _record(result, marker, position, 0)
            result.primary_end = position + 2
            return
        if marker == 0xD8 or 0xD0 <= marker <= 0xD7 or marker == 0x01:
            if marker == 0xD8:
                result.issues.append(
                    StructureIssue("nested_soi", "A second SOI marker appears inside the primary image.", position)
                )
            _record(result, marker, position, 0)
            position += 2
            continue
        if position + 4 > size:
            break
        (length,) = struct.unpack_from(">H", data, position + 2)
        if length < 2 or position + 2 + length > size:
            result.issues.append(
                StructureIssue(
                    "segment_overrun",
                    f"Segment {_marker_name(marker)} declares {length:,} bytes, beyond the end of the file.",
                    position,
                )
            )
            return
        payload_start = position + 4
        payload = data[payload_start : position + 2 + length]
        label = _interpret_segment(result, marker, payload, payload_start)
        _record(result, marker, position, length, label)
        position += 2 + length
        if marker == 0xDA:
            match = _NEXT_MARKER.search(data, position)
            if match is None:
                result.issues.append(
                    StructureIssue(
                        "no_eoi",
                        "The compressed image data runs to the end of the file with no EOI.",
                        position,
                    )
                )
                return
            position = match.start()
    result.issues.append(StructureIssue("no_eoi", "The file ends before the image's EOI marker.", size))


def _record(result: JpegStructure, marker: int, offset: int, length: int, label: str | None = None) -> None:
    result.segment_count += 1
    if len(result.segments) < MAX_RECORDED_SEGMENTS:
        result.segments.append(JpegSegment(f"FF{marker:02X}", _marker_name(marker), offset, length, label))


def _marker_name(marker: int) -> str:
    if 0xE0 <= marker <= 0xEF:
        return f"APP{marker - 0xE0}"
    if 0xD0 <= marker <= 0xD7:
        return f"RST{marker - 0xD0}"
    if marker in _SOF_PROCESS:
        return f"SOF{marker - 0xC0}"
    return _MARKER_NAMES.get(marker, f"0x{marker:02X}")


def _interpret_segment(result: JpegStructure, marker: int, payload: bytes, payload_start: int) -> str | None:
    if 0xE0 <= marker <= 0xEF:
        label = next((name for prefix, name in _APP_LABELS if payload.startswith(prefix)), None)
        if label == "Exif" and result.thumbnail is None and result.exif_maker_note_length is None:
            _read_exif(payload, payload_start, result)
        elif label == "MPF" and not result.mpf_images:
            result.mpf_images = _mpf_images(payload, payload_start)
        elif label in ("XMP", "XMP extension") and any(key in payload for key in _XMP_TRAILER_DECLARATIONS):
            result.xmp_declares_trailer = True
        return label
    if marker == 0xDB:
        _read_quant_tables(result, payload, payload_start)
    elif marker == 0xC4:
        _read_huffman_tables(result, payload, payload_start)
    elif marker in _SOF_PROCESS and result.frame is None:
        result.frame = _frame_info(marker, payload)
    elif marker == 0xDD and len(payload) >= 2:
        result.restart_interval = struct.unpack_from(">H", payload)[0]
    elif marker == 0xDA:
        result.scan_count += 1
    elif marker == 0xFE:
        result.comments.append(clip_text(decode_text(payload.rstrip(b"\x00"), "latin-1"), MAX_COMMENT_CHARS))
    return None


def _read_quant_tables(result: JpegStructure, payload: bytes, payload_start: int) -> None:
    position = 0
    while position < len(payload):
        if len(result.quant_tables) >= MAX_QUANT_TABLES:
            _too_many_tables(result, "quantisation", MAX_QUANT_TABLES, payload_start + position)
            return
        precision, table_id = payload[position] >> 4, payload[position] & 0x0F
        width = 2 if precision else 1
        body = payload[position + 1 : position + 1 + 64 * width]
        if len(body) < 64 * width:
            result.issues.append(StructureIssue("short_dqt", "A DQT table is cut short.", payload_start + position))
            return
        values = list(struct.unpack(">64H", body)) if precision else list(body)
        estimate = estimate_quality(tuple(values), table_id)
        result.quant_tables.append(
            QuantTable(
                table_id=table_id,
                precision_bits=16 if precision else 8,
                offset=payload_start + position,
                values=values,
                estimated_quality=estimate.estimated_quality,
                standard_ijg=estimate.standard_ijg,
            )
        )
        position += 1 + 64 * width


def _too_many_tables(result: JpegStructure, kind: str, limit: int, offset: int) -> None:
    code = f"too_many_{kind.lower()}_tables"
    if not any(issue.code == code for issue in result.issues):
        result.issues.append(StructureIssue(code, f"More than {limit} {kind} tables; the rest are not read.", offset))


def _read_huffman_tables(result: JpegStructure, payload: bytes, payload_start: int) -> None:
    position = 0
    while position + 17 <= len(payload):
        if len(result.huffman_tables) >= MAX_HUFFMAN_TABLES:
            _too_many_tables(result, "Huffman", MAX_HUFFMAN_TABLES, payload_start + position)
            return
        table_class, table_id = payload[position] >> 4, payload[position] & 0x0F
        counts = payload[position + 1 : position + 17]
        symbols = payload[position + 17 : position + 17 + sum(counts)]
        if len(symbols) < sum(counts):
            result.issues.append(StructureIssue("short_dht", "A DHT table is cut short.", payload_start + position))
            return
        result.huffman_tables.append(
            HuffmanTable(
                table_class="AC" if table_class else "DC",
                table_id=table_id,
                offset=payload_start + position,
                standard=is_standard_huffman(counts, symbols),
            )
        )
        position += 17 + len(symbols)


def _frame_info(marker: int, payload: bytes) -> FrameInfo | None:
    if len(payload) < 6:
        return None
    precision, height, width, count = struct.unpack_from(">BHHB", payload)
    components = []
    for index in range(count):
        entry = payload[6 + 3 * index : 9 + 3 * index]
        if len(entry) < 3:
            break
        components.append({"id": entry[0], "h": entry[1] >> 4, "v": entry[1] & 0x0F, "quant_table": entry[2]})
    return FrameInfo(
        marker=f"FF{marker:02X}",
        process=_SOF_PROCESS[marker],
        width=width,
        height=height,
        precision_bits=precision,
        components=components,
        subsampling=_subsampling(components),
    )


def _subsampling(components: list[dict[str, int]]) -> str:
    if len(components) != 3:
        return "grayscale" if len(components) == 1 else f"{len(components)} components"
    luma, chroma = components[0], components[1]
    if chroma["h"] == 0 or chroma["v"] == 0:
        return "invalid"
    ratio = (luma["h"] // chroma["h"], luma["v"] // chroma["v"])
    return {(1, 1): "4:4:4", (2, 1): "4:2:2", (2, 2): "4:2:0", (1, 2): "4:4:0", (4, 1): "4:1:1"}.get(
        ratio, f"{luma['h']}x{luma['v']},{chroma['h']}x{chroma['v']}"
    )


def _read_exif(payload: bytes, payload_start: int, result: JpegStructure) -> None:
    """The maker-note size from the EXIF sub-IFD and the IFD1 thumbnail of the first Exif APP1 segment."""
    block = payload[6:]
    order = tiff_byte_order(block)
    if order is None:
        return
    ifd0 = read_ifd(block, first_ifd_offset(block, order), order)
    if ifd0 is None:
        return
    result.exif_layout = exif_layout(block)
    exif_ifd_offset = entry_int(ifd0.entries.get(0x8769), order)
    exif_ifd = read_ifd(block, exif_ifd_offset, order) if exif_ifd_offset else None
    if exif_ifd is not None:
        maker_note = exif_ifd.entries.get(0x927C)
        result.exif_maker_note_length = maker_note.count if maker_note else 0
        if maker_note and maker_note.data:
            result.exif_maker_note_head = maker_note.data[:MAKER_NOTE_HEAD].hex()
    ifd1 = read_ifd(block, ifd0.next_offset, order) if ifd0.next_offset else None
    if ifd1 is not None:
        result.thumbnail = _exif_thumbnail(block, payload_start, order, ifd1, result)


def _exif_thumbnail(
    block: bytes, payload_start: int, order: str, ifd1: Ifd, result: JpegStructure
) -> ExifThumbnail | None:
    offset = entry_int(ifd1.entries.get(0x0201), order)
    length = entry_int(ifd1.entries.get(0x0202), order)
    if offset is None or not length:
        return None
    thumbnail = block[offset : offset + length]
    absolute = payload_start + 6 + offset
    if len(thumbnail) < length:
        result.issues.append(
            StructureIssue("thumbnail_outside_exif", "The EXIF thumbnail pointer runs past its APP1 segment.", absolute)
        )
    frame = _first_frame(thumbnail)
    return ExifThumbnail(
        offset=absolute,
        length=length,
        width=frame.width if frame else None,
        height=frame.height if frame else None,
        is_jpeg=thumbnail.startswith(b"\xff\xd8"),
        sha256=hashlib.sha256(thumbnail).hexdigest() if thumbnail else None,
    )


def _first_frame(image: bytes) -> FrameInfo | None:
    """The SOF of a JPEG held in memory: an EXIF thumbnail (at most 64 KiB) or the head of a second image."""
    position = 2
    for _ in range(200):
        if position + 4 > len(image) or image[position] != 0xFF:
            return None
        marker = image[position + 1]
        (length,) = struct.unpack_from(">H", image, position + 2)
        if marker in _SOF_PROCESS:
            return _frame_info(marker, image[position + 4 : position + 2 + length])
        if marker == 0xDA or length < 2:
            return None
        position += 2 + length
    return None


def _mpf_images(payload: bytes, payload_start: int) -> list[MpfImage]:
    block = payload[4:]
    order = tiff_byte_order(block)
    if order is None:
        return []
    ifd = read_ifd(block, first_ifd_offset(block, order), order)
    entries = ifd.entries.get(0xB002) if ifd else None
    if entries is None:
        return []
    # CIPA DC-007: offsets count from the MPF TIFF header; the first (primary) image has offset 0.
    base = payload_start + 4
    images = []
    for index in range(min(len(entries.data) // 16, 100)):
        attribute, length, offset, _, _ = struct.unpack_from(order + "IIIHH", entries.data, 16 * index)
        images.append(
            MpfImage(
                index=index + 1,
                offset=0 if offset == 0 else base + offset,
                length=length,
                attribute=f"0x{attribute:08X}",
                starts_with_soi=False,
            )
        )
    return images


def _classify_trailing(data: mmap.mmap, result: JpegStructure) -> None:
    size = len(data)
    cursor = result.primary_end
    declared = sorted(
        (image for image in result.mpf_images if image.offset > 0 and image.offset + image.length <= size),
        key=lambda image: image.offset,
    )
    for image in declared:
        image.starts_with_soi = data[image.offset : image.offset + 2] == b"\xff\xd8"
        if image.offset + image.length <= cursor:
            continue
        if image.offset > cursor:
            _add_gap(data, result, cursor, image.offset)
        start = max(cursor, image.offset)
        result.trailing.append(
            TrailingRegion(start, image.offset + image.length - start, "mpf_image", f"MPF image {image.index}")
        )
        cursor = image.offset + image.length
    if cursor < size:
        _add_gap(data, result, cursor, size)


def _add_gap(data: mmap.mmap, result: JpegStructure, start: int, end: int) -> None:
    """Classify the bytes between `start` and `end`. A gap that is not padding, slack or a known trailer is split
    at every complete JPEG stream that follows fill bytes there (camera previews: the maker notes declare them,
    MPF does not), so each stream can be matched against its declaration."""
    whole = _region(data, result, start, end)
    if whole.classification != "undeclared":
        _append(result, whole)
        return
    position = start
    while position < end and len(result.trailing) < MAX_TRAILING_REGIONS:
        stream_start = _embedded_jpeg_start(data, position, end)
        stream_end = _jpeg_stream_end(data, stream_start, end) if stream_start is not None else None
        if stream_end is None:
            break
        if stream_start > position:
            _append(result, _region(data, result, position, stream_start))
        _append(result, _region(data, result, stream_start, stream_end))
        position = stream_end
    if position == start:
        _append(result, whole)
    elif position < end:
        # Fill after the last stream is its own region, so what follows it is hashed and named on its own.
        fill_end = _FILL_BYTES.match(data, position, end).end()
        if position < fill_end < end:
            _append(result, _region(data, result, position, fill_end))
            position = fill_end
        _append(result, _region(data, result, position, end))


def _append(result: JpegStructure, region: TrailingRegion) -> None:
    if region.classification == "undeclared":
        result.undeclared_trailing_bytes += region.length
    result.trailing.append(region)


def _embedded_jpeg_start(data: mmap.mmap, start: int, end: int) -> int | None:
    """Where a JPEG stream begins after zero/0xFF fill at `start`, or None. Minolta writes its preview with a
    wrong first byte (ExifTool's ValidateImage repairs it), so "?? D8 FF DB" counts too."""
    first = _FILL_BYTES.match(data, start, end).end()
    if first + 4 > end:
        return None
    ordinary_or_minolta = data[first - 1] == 0xFF or data[first + 2] == 0xDB
    if first > start and data[first : first + 2] == b"\xd8\xff" and ordinary_or_minolta:
        return first - 1
    if data[first + 1 : first + 4] == b"\xd8\xff\xdb":
        return first
    return None


def _jpeg_stream_end(data: mmap.mmap, start: int, end: int) -> int | None:
    """The offset just past the EOI of the JPEG stream at `start`, walking its markers; None if it has none."""
    position = start + 2
    for _ in range(MAX_SEGMENTS):
        if position + 2 > end or data[position] != 0xFF:
            return None
        marker = data[position + 1]
        if marker == 0xD9:
            return position + 2
        if marker == 0xFF:
            position += 1
            continue
        if 0xD0 <= marker <= 0xD7 or marker == 0x01:
            position += 2
            continue
        if position + 4 > end:
            return None
        (length,) = struct.unpack_from(">H", data, position + 2)
        position += 2 + length
        if marker == 0xDA:
            match = _NEXT_MARKER.search(data, position, end)
            if match is None:
                return None
            position = match.start()
    return None


def _region(data: mmap.mmap, result: JpegStructure, start: int, end: int) -> TrailingRegion:
    region = TrailingRegion(start, end - start, "undeclared")
    head = data[start : start + 64]
    tail = data[max(start, end - 64) : end]
    known = next((name for ending, name in _TRAILER_ENDINGS if tail.endswith(ending)), None) or next(
        (name for prefix, name in _TRAILER_STARTS if head.startswith(prefix)), None
    )
    if _is_padding(data, start, end):
        region.classification, region.detail = "padding", "zero or 0xFF padding"
    elif known:
        region.classification, region.detail = "known_trailer", known
    elif _is_sector_fill(data, result, start, end):
        region.classification, region.detail = (
            "storage_slack",
            f"fill bytes up to a {SECTOR_SIZE}-byte boundary",
        )
        region.sha256 = _sha256_range(data, start, end)
    elif head[4:8] == b"ftyp" and result.xmp_declares_trailer:
        region.classification, region.detail = (
            "declared_embedded_media",
            "video declared in XMP (motion photo)",
        )
    else:
        region.detail = (
            "ISO-BMFF video"
            if head[4:8] == b"ftyp"
            else next((name for magic, name in _CONTENT_HINTS if head.startswith(magic)), None)
        )
        if region.detail == "JPEG image" or head[1:4] == b"\xd8\xff\xdb":
            # A second image stream: its own frame header says what it is (a thumbnail, a full-size copy).
            frame = _first_frame(data[start : start + SECOND_IMAGE_HEADER_READ])
            if frame is not None:
                region.detail = f"second JPEG image, {frame.width}x{frame.height} ({frame.process})"
        region.sha256 = _sha256_range(data, start, end)
    return region


def _is_sector_fill(data: mmap.mmap, result: JpegStructure, start: int, end: int) -> bool:
    """Bytes that start with a run of fill (zeros or 0xFF) and stop on a sector boundary: at the end of a file
    copied sector by sector, or, under one sector long, before an MPF image the camera aligned to a sector."""
    if end % SECTOR_SIZE:
        return False
    fill = _FILL_RUN.match(data, start, end)
    if fill is None or fill.end() - start < SLACK_MIN_LEADING_FILL:
        return end == len(data) and end - start < SLACK_BLOCK_MAX and _is_block_buffer_tail(data, start, end)
    if end == len(data):
        return True
    return end - start < SECTOR_SIZE and any(image.offset == end for image in result.mpf_images)


def _is_block_buffer_tail(data: mmap.mmap, start: int, end: int) -> bool:
    """Leftover bytes for at most SLACK_BLOCK_MAX_LEFTOVER, then fill except in the last bytes of each sector."""
    if end - start <= SLACK_BLOCK_MAX_LEFTOVER + SLACK_MIN_LEADING_FILL:
        return False  # leftovers with no fill after them are just bytes
    for found in _NOT_FILL.finditer(data, start + SLACK_BLOCK_MAX_LEFTOVER, end):
        if found.start() % SECTOR_SIZE < SECTOR_SIZE - SLACK_SECTOR_MARK:
            return False
    return True


def _is_padding(data: mmap.mmap, start: int, end: int) -> bool:
    for chunk_start in range(start, end, HASH_CHUNK):
        chunk = data[chunk_start : min(end, chunk_start + HASH_CHUNK)]
        if chunk.strip(b"\x00") and chunk.strip(b"\xff"):
            return False
    return True


def _sha256_range(data: mmap.mmap, start: int, end: int) -> str:
    digest = hashlib.sha256()
    for chunk_start in range(start, end, HASH_CHUNK):
        digest.update(data[chunk_start : min(end, chunk_start + HASH_CHUNK)])
    return digest.hexdigest()
