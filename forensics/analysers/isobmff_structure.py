"""ISO-BMFF (MP4, MOV, 3GP, M4V, HEIC) structure from our own box walk, with depth, count and size limits."""

from __future__ import annotations

import struct
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import BinaryIO

from .common import StructureIssue, clip_text, decode_text, read_at
from .heif_items import HeifItems, heif_items_read

# 4: up to 500,000 boxes (3: 10,000, which a fragmented recording of a few minutes passes: each fragment is a moof
# with five or more boxes and an mdat).
ISOBMFF_PARSER_VERSION = "isobmff-structure/4"

MAX_DEPTH = 16
# An hour of fragmented MP4 cut every half second is about 50,000 boxes; 500,000 take about 1.5 s to walk.
MAX_BOXES = 500_000
MAX_RECORDED_BOXES = 2000
MAX_LEAF_READ = 1 << 20  # leaf boxes we interpret are small; a larger one is read only this far
MAX_EDIT_ENTRIES = 1000
MAX_ITEMS = 500
MAX_TRACKS = 64
MAX_SAMPLE_GROUPS = 16

_EPOCH_1904 = datetime(1904, 1, 1, tzinfo=UTC)
_CONTAINERS = {
    b"moov", b"trak", b"mdia", b"minf", b"stbl", b"edts", b"udta", b"dinf", b"mvex", b"moof", b"traf",
    b"mfra", b"iprp", b"ipco", b"sinf", b"schi", b"tref", b"ilst", b"meta",
}  # fmt: skip
_TIMED_HEADERS = {b"mvhd", b"tkhd", b"mdhd"}
_PADDING = {b"free", b"skip", b"wide"}
_FRAGMENT_BOXES = {b"moof", b"sidx", b"mvex", b"styp", b"mfra"}
_UUID_KINDS = {
    "be7acfcb-97a9-42e8-9c71-999491e3afac": "XMP",
    "d8fec3d6-1b0e-483c-9297-5828877ec481": "C2PA",
    "ffcc8263-f855-4a93-8814-587a02521fdd": "PIFF track encryption",
}


@dataclass
class Box:
    type: str
    offset: int
    size: int
    depth: int
    path: str


@dataclass
class BoxTimes:
    box: str
    path: str
    offset: int
    creation_time: str | None
    modification_time: str | None
    raw_creation: int
    raw_modification: int
    timescale: int | None = None
    duration: int | None = None


@dataclass
class Handler:
    path: str
    offset: int
    handler_type: str
    name: str


@dataclass
class EditList:
    path: str
    offset: int
    entries: list[dict[str, float | int]]


@dataclass
class Track:
    """One 'trak' box's timing: its header's duration (movie timescale), its media's timescale and duration, its
    handler and its edit list, gathered from the boxes inside it."""

    offset: int
    size: int
    track_id: int | None = None
    handler_type: str | None = None
    duration: int | None = None  # tkhd, in the movie header's timescale
    media_timescale: int | None = None
    media_duration: int | None = None
    edits: list[dict[str, float | int]] | None = None  # None: the track has no edit list
    sample_groups: list[str] = field(default_factory=list)  # grouping types of its sgpd boxes ('roll' for AAC)


@dataclass
class UuidBox:
    offset: int
    size: int
    uuid: str
    kind: str | None


@dataclass
class IsoBmffStructure:
    file_size: int
    major_brand: str | None = None
    minor_version: int | None = None
    compatible_brands: list[str] = field(default_factory=list)
    top_level: list[Box] = field(default_factory=list)
    boxes: list[Box] = field(default_factory=list)
    box_count: int = 0
    mdat_offsets: list[int] = field(default_factory=list)
    times: list[BoxTimes] = field(default_factory=list)
    handlers: list[Handler] = field(default_factory=list)
    edit_lists: list[EditList] = field(default_factory=list)
    tracks: list[Track] = field(default_factory=list)
    # 'keys' lists per enclosing 'meta' box path: ilst items index into the list of their own meta.
    metadata_keys: dict[str, list[str]] = field(default_factory=dict)
    vendor_tags: dict[str, str] = field(default_factory=dict)
    padding: list[Box] = field(default_factory=list)
    uuid_boxes: list[UuidBox] = field(default_factory=list)
    fragmented: bool = False
    heif: HeifItems | None = None  # the item tables of a HEIF/AVIF file's top-level 'meta' box
    issues: list[StructureIssue] = field(default_factory=list)
    complete: bool = False


def isobmff_structure_read(path: str | Path) -> IsoBmffStructure:
    """Walk the box tree without reading media data; never raises on malformed input."""
    path = Path(path)
    size = path.stat().st_size
    result = IsoBmffStructure(file_size=size)
    if size == 0:
        result.issues.append(StructureIssue("empty_file", "The file is empty.", 0))
        return result
    with path.open("rb") as handle:
        _walk(handle, result, 0, size, 0, "")
        meta = next((box for box in result.top_level if box.type == "meta"), None)
        if meta is not None:
            result.heif = heif_items_read(handle, meta.offset, meta.size, size)
    result.complete = not result.issues and not (result.heif and result.heif.issues)
    return result


def _walk(handle: BinaryIO, result: IsoBmffStructure, start: int, end: int, depth: int, parent: str) -> None:
    position = start
    while position + 8 <= end:
        if result.box_count >= MAX_BOXES:
            if not any(issue.code == "box_limit" for issue in result.issues):
                result.issues.append(StructureIssue("box_limit", f"Stopped after {MAX_BOXES:,} boxes.", position))
            return
        header = read_at(handle, position, 16)
        size, raw_type = struct.unpack_from(">I4s", header)
        header_size = 8
        if size == 1:
            if len(header) < 16:
                result.issues.append(StructureIssue("truncated_box", "A 64-bit box header is cut short.", position))
                return
            size = struct.unpack_from(">Q", header, 8)[0]
            header_size = 16
        elif size == 0:
            size = end - position  # "extends to the end of the enclosing box (or file)"
        box_type = raw_type.decode("latin-1")
        # Real box types are printable four-character codes (QuickTime adds ©); metadata items inside
        # 'ilst' are the exception, since Apple numbers them with binary key indexes.
        if not parent.endswith("/ilst") and not all(0x20 <= byte <= 0x7E or byte == 0xA9 for byte in raw_type):
            result.issues.append(
                StructureIssue("invalid_box_type", f"Bytes {raw_type!r} where a box type should be.", position)
            )
            return
        if size < header_size or position + size > end:
            code = "truncated_box" if size >= header_size else "invalid_box_size"
            result.issues.append(
                StructureIssue(
                    code,
                    f"Box '{box_type}' at depth {depth} declares {size:,} bytes but only "
                    f"{end - position:,} remain in its parent.",
                    position,
                )
            )
            return
        box_path = f"{parent}/{box_type}"
        box = Box(box_type, position, size, depth, box_path)
        result.box_count += 1
        if len(result.boxes) < MAX_RECORDED_BOXES:
            result.boxes.append(box)
        if depth == 0:
            result.top_level.append(box)
        if raw_type == b"trak" and len(result.tracks) < MAX_TRACKS:
            result.tracks.append(Track(position, size))
        body_start, body_end = position + header_size, position + size
        _interpret(handle, result, box, body_start, body_end, depth)
        if raw_type in _CONTAINERS:
            if depth + 1 >= MAX_DEPTH:
                result.issues.append(
                    StructureIssue("depth_limit", f"Boxes nest deeper than {MAX_DEPTH} levels; not followed.", position)
                )
                return
            _walk(handle, result, _children_start(handle, raw_type, body_start), body_end, depth + 1, box_path)
        position += size
    if end - position not in (0,) and depth == 0 and end - position < 8:
        result.issues.append(StructureIssue("trailing_bytes", f"{end - position} stray bytes at the end.", position))


def _children_start(handle: BinaryIO, box_type: bytes, body_start: int) -> int:
    if box_type != b"meta":
        return body_start
    # ISO 'meta' is a full box (4 bytes version/flags before its children); QuickTime's is not.
    peek = read_at(handle, body_start, 8)
    return body_start if peek[4:8] == b"hdlr" else body_start + 4


def _interpret(handle: BinaryIO, result: IsoBmffStructure, box: Box, start: int, end: int, depth: int) -> None:
    kind = box.type.encode("latin-1")
    if kind == b"mdat":
        result.mdat_offsets.append(box.offset)
        return
    if kind in _FRAGMENT_BOXES:
        result.fragmented = True
    if kind in _PADDING:
        result.padding.append(box)
        return
    if kind not in {b"ftyp", b"hdlr", b"elst", b"keys", b"uuid", b"sgpd", *_TIMED_HEADERS} and not _is_item(box):
        return
    body = read_at(handle, start, min(end - start, MAX_LEAF_READ))
    try:
        if kind == b"ftyp" and depth == 0:
            _read_ftyp(result, body)
        elif kind in _TIMED_HEADERS:
            _read_times(result, box, body)
        elif kind == b"hdlr":
            _read_handler(result, box, body)
        elif kind == b"elst":
            _read_edit_list(result, box, body)
        elif kind == b"keys":
            _read_keys(result, box, body)
        elif kind == b"sgpd":
            track = _track_of(result, box)
            if track is not None and len(body) >= 8 and len(track.sample_groups) < MAX_SAMPLE_GROUPS:
                track.sample_groups.append(body[4:8].decode("latin-1"))
        elif kind == b"uuid" and len(body) >= 16:
            identifier = str(uuid.UUID(bytes=body[:16]))
            result.uuid_boxes.append(UuidBox(box.offset, box.size, identifier, _UUID_KINDS.get(identifier)))
        elif _is_item(box):
            _read_item(result, box, body)
    except struct.error:
        result.issues.append(StructureIssue("short_box", f"Box '{box.type}' is too short for its fields.", box.offset))


def _read_ftyp(result: IsoBmffStructure, body: bytes) -> None:
    result.major_brand = body[:4].decode("latin-1")
    result.minor_version = struct.unpack_from(">I", body, 4)[0]
    result.compatible_brands = [body[i : i + 4].decode("latin-1") for i in range(8, min(len(body), 8 + 4 * 64), 4)]


def _read_times(result: IsoBmffStructure, box: Box, body: bytes) -> None:
    version = body[0]
    if version == 1:
        creation, modification = struct.unpack_from(">QQ", body, 4)
        after = 20
    else:
        creation, modification = struct.unpack_from(">II", body, 4)
        after = 12
    timescale = duration = None
    track = _track_of(result, box)
    if box.type in ("mvhd", "mdhd"):
        timescale = struct.unpack_from(">I", body, after)[0]
        duration = struct.unpack_from(">Q" if version == 1 else ">I", body, after + 4)[0]
        if box.type == "mdhd" and track is not None:
            track.media_timescale, track.media_duration = timescale, duration
    elif box.type == "tkhd":
        # track_ID, 4 reserved bytes, then the duration in the movie header's timescale
        track_id = struct.unpack_from(">I", body, after)[0]
        duration = struct.unpack_from(">Q" if version == 1 else ">I", body, after + 8)[0]
        if track is not None:
            track.track_id, track.duration = track_id, duration
    result.times.append(
        BoxTimes(
            box=box.type,
            path=box.path,
            offset=box.offset,
            creation_time=_time_1904(creation),
            modification_time=_time_1904(modification),
            raw_creation=creation,
            raw_modification=modification,
            timescale=timescale,
            duration=duration,
        )
    )


def _time_1904(seconds: int) -> str | None:
    """Seconds since 1904-01-01 UTC as ISO 8601, or None for 0 ("not set") and impossible values."""
    if seconds == 0:
        return None
    try:
        return (_EPOCH_1904 + timedelta(seconds=seconds)).isoformat()
    except OverflowError:
        return None


def _read_handler(result: IsoBmffStructure, box: Box, body: bytes) -> None:
    handler_type = body[8:12].decode("latin-1")
    raw_name = body[24:]
    # QuickTime writes a Pascal string (length byte first), ISO a NUL-terminated one.
    if raw_name and raw_name[0] == len(raw_name) - 1 and raw_name[0] > 0:
        raw_name = raw_name[1:]
    name = decode_text(raw_name.split(b"\x00", 1)[0]).strip()
    result.handlers.append(Handler(box.path, box.offset, handler_type, clip_text(name, 256)))
    track = _track_of(result, box)
    if track is not None and box.path.endswith("/mdia/hdlr"):
        track.handler_type = handler_type


def _read_edit_list(result: IsoBmffStructure, box: Box, body: bytes) -> None:
    version = body[0]
    (count,) = struct.unpack_from(">I", body, 4)
    entries = []
    position = 8
    entry_format = ">QqhH" if version == 1 else ">IihH"
    entry_size = struct.calcsize(entry_format)
    for _ in range(min(count, MAX_EDIT_ENTRIES)):
        if position + entry_size > len(body):
            break
        duration, media_time, rate_int, rate_fraction = struct.unpack_from(entry_format, body, position)
        entries.append(
            {
                "segment_duration": duration,
                "media_time": media_time,
                "media_rate": rate_int + rate_fraction / 65536,
            }
        )
        position += entry_size
    result.edit_lists.append(EditList(box.path, box.offset, entries))
    track = _track_of(result, box)
    if track is not None and track.edits is None:
        track.edits = entries


def _track_of(result: IsoBmffStructure, box: Box) -> Track | None:
    """The track a box inside moov/trak belongs to: the last track opened, when the box lies inside it."""
    if not box.path.startswith("/moov/trak/") or not result.tracks:
        return None
    track = result.tracks[-1]
    return track if track.offset < box.offset < track.offset + track.size else None


def _read_keys(result: IsoBmffStructure, box: Box, body: bytes) -> None:
    keys = result.metadata_keys.setdefault(box.path.rsplit("/", 1)[0], [])
    (count,) = struct.unpack_from(">I", body, 4)
    position = 8
    for _ in range(min(count, MAX_ITEMS)):
        if position + 8 > len(body):
            break
        (size,) = struct.unpack_from(">I", body, position)
        if size < 8:
            break
        keys.append(decode_text(body[position + 8 : position + size]))
        position += size


def _is_item(box: Box) -> bool:
    """A metadata item inside udta/ilst: '©too', '©swr', or a 1-based index into a 'keys' list."""
    parent = box.path.rsplit("/", 2)[-2] if box.path.count("/") >= 2 else ""
    return parent == "ilst" or (parent == "udta" and box.type.startswith("\xa9"))


def _read_item(result: IsoBmffStructure, box: Box, body: bytes) -> None:
    if len(result.vendor_tags) >= MAX_ITEMS:
        return
    name = box.type
    index = int.from_bytes(box.type.encode("latin-1"), "big")
    keys = result.metadata_keys.get(box.path.rsplit("/", 2)[0], [])
    if name[0] != "\xa9" and 1 <= index <= len(keys):
        name = keys[index - 1]
    name = name.replace("\xa9", "©")
    value = _item_value(body)
    if value is not None:
        result.vendor_tags.setdefault(name, clip_text(value, 4096))


def _item_value(body: bytes) -> str | None:
    if body[4:8] == b"data":
        # iTunes/QuickTime 'data' atom: size, 'data', type indicator, locale, value.
        (size,) = struct.unpack_from(">I", body)
        type_indicator = struct.unpack_from(">I", body, 8)[0] & 0xFFFFFF
        payload = body[16:size]
        if type_indicator in (1, 4):  # UTF-8
            return decode_text(payload)
        if type_indicator == 2:  # UTF-16
            return payload.decode("utf-16-be", errors="replace")
        if type_indicator in (21, 22) and 0 < len(payload) <= 8:  # signed / unsigned big-endian integer
            return str(int.from_bytes(payload, "big", signed=type_indicator == 21))
        return f"({len(payload)} bytes of type {type_indicator})"
    if len(body) >= 4:
        # QuickTime user-data text: 16-bit length, 16-bit language, text.
        (length,) = struct.unpack_from(">H", body)
        return decode_text(body[4 : 4 + length])
    return None
