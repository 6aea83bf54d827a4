"""Matroska/WebM structure from our own EBML element walk: sizes against the parent and the file (unknown-size
Segments and Clusters of live recordings included), the Segment layout, SeekHead and Cues entries against the
elements they point to, and the Info values (MuxingApp, WritingApp, DateUTC) the software rules read.

Every damage issue names the offset and what was expected there, so a finding can quote both."""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import BinaryIO

from .common import StructureIssue, WalkBudget, clip_text, decode_text, read_at

# 2: up to 2,000,000 elements (1,000,000 before, which a long recording within the upload limit passes).
EBML_PARSER_VERSION = "ebml-structure/2"

MAX_DEPTH = 16
# An hour of 30 fps video with audio is about 250,000 blocks: this covers a long recording within the upload limit,
# so that only a hostile file stops the walk, here or at WALK_SECONDS first.
MAX_ELEMENTS = 2_000_000
MAX_RECORDED_ELEMENTS = 2000
MAX_POINTER_CHECKS = 10_000  # SeekHead and Cues entries checked against their target
MAX_STRING_BYTES = 4096
WALK_SECONDS = 5.0  # see riff_structure.WALK_SECONDS

EBML_HEADER = 0x1A45DFA3
SEGMENT = 0x18538067
CLUSTER = 0x1F43B675
_SEEK_ID, _SEEK_POSITION, _CUE_CLUSTER_POSITION = 0x53AB, 0x53AC, 0xF1
_BLOCKS = {0xA3, 0xA1}  # SimpleBlock, Block: counted, not listed
_NAMES = {
    EBML_HEADER: "EBML", 0x4286: "EBMLVersion", 0x42F7: "EBMLReadVersion", 0x42F2: "EBMLMaxIDLength",
    0x42F3: "EBMLMaxSizeLength", 0x4282: "DocType", 0x4287: "DocTypeVersion", 0x4285: "DocTypeReadVersion",
    0xEC: "Void", 0xBF: "CRC-32", SEGMENT: "Segment", 0x114D9B74: "SeekHead", 0x4DBB: "Seek",
    _SEEK_ID: "SeekID", _SEEK_POSITION: "SeekPosition", 0x1549A966: "Info", 0x2AD7B1: "TimestampScale",
    0x4489: "Duration", 0x4461: "DateUTC", 0x7BA9: "Title", 0x4D80: "MuxingApp", 0x5741: "WritingApp",
    0x73A4: "SegmentUUID", CLUSTER: "Cluster", 0xE7: "Timestamp", 0xA3: "SimpleBlock", 0xA0: "BlockGroup",
    0xA1: "Block", 0x9B: "BlockDuration", 0xFB: "ReferenceBlock", 0x1654AE6B: "Tracks", 0xAE: "TrackEntry",
    0xD7: "TrackNumber", 0x73C5: "TrackUID", 0x83: "TrackType", 0x86: "CodecID", 0x63A2: "CodecPrivate",
    0x536E: "Name", 0x22B59C: "Language", 0xE0: "Video", 0xE1: "Audio", 0xB0: "PixelWidth", 0xBA: "PixelHeight",
    0xB5: "SamplingFrequency", 0x9F: "Channels", 0x6D80: "ContentEncodings", 0x6240: "ContentEncoding",
    0x55B0: "Colour", 0x1C53BB6B: "Cues", 0xBB: "CuePoint", 0xB3: "CueTime", 0xB7: "CueTrackPositions",
    0xF7: "CueTrack", _CUE_CLUSTER_POSITION: "CueClusterPosition", 0x1043A770: "Chapters", 0x45B9: "EditionEntry",
    0xB6: "ChapterAtom", 0x80: "ChapterDisplay", 0x1254C367: "Tags", 0x7373: "Tag", 0x63C0: "Targets",
    0x67C8: "SimpleTag", 0x45A3: "TagName", 0x4487: "TagString", 0x1941A469: "Attachments", 0x61A7: "AttachedFile",
    0x466E: "FileName", 0x75A1: "BlockAdditions", 0xA6: "BlockMore", 0x5034: "ContentCompression",
    0x5035: "ContentEncryption", 0x55D0: "MasteringMetadata", 0x7670: "Projection", 0xE2: "TrackOperation",
}  # fmt: skip
_MASTERS = {
    EBML_HEADER, SEGMENT, 0x114D9B74, 0x4DBB, 0x1549A966, CLUSTER, 0xA0, 0x1654AE6B, 0xAE, 0xE0, 0xE1, 0x6D80,
    0x6240, 0x55B0, 0x1C53BB6B, 0xBB, 0xB7, 0x1043A770, 0x45B9, 0xB6, 0x80, 0x1254C367, 0x7373, 0x63C0, 0x67C8,
    0x1941A469, 0x61A7, 0x75A1, 0xA6, 0x5034, 0x5035, 0x55D0, 0x7670, 0xE2,
}  # fmt: skip
# The Segment's children: meeting one of them ends an unknown-size Cluster (a live recording's layout).
_SEGMENT_CHILDREN = {0x114D9B74, 0x1549A966, CLUSTER, 0x1654AE6B, 0x1C53BB6B, 0x1043A770, 0x1254C367, 0x1941A469}
_UNKNOWN_SIZE_ALLOWED = {SEGMENT, CLUSTER}
_STRINGS = {0x4282: "doc_type", 0x4D80: "muxing_app", 0x5741: "writing_app", 0x7BA9: "title"}
_EPOCH_2001 = datetime(2001, 1, 1, tzinfo=UTC)


@dataclass
class EbmlElement:
    type: str  # the element's name, or its ID in hex when it is not one we know
    offset: int
    size: int | None  # the data size, header excluded; None for an unknown size
    depth: int
    path: str


@dataclass
class EbmlTrack:
    number: int | None = None
    track_type: int | None = None  # 1 video, 2 audio, 17 subtitle
    codec_id: str | None = None


@dataclass
class EbmlStructure:
    file_size: int
    doc_type: str | None = None
    doc_type_version: int | None = None
    muxing_app: str | None = None
    writing_app: str | None = None
    title: str | None = None
    date_utc: str | None = None
    timestamp_scale: int | None = None
    duration: float | None = None
    tracks: list[EbmlTrack] = field(default_factory=list)
    segment_offset: int | None = None
    segment_data_offset: int | None = None
    segment_size: int | None = None  # None for a live recording's unknown size
    cluster_count: int = 0
    block_count: int = 0
    elements: list[EbmlElement] = field(default_factory=list)
    element_count: int = 0
    issues: list[StructureIssue] = field(default_factory=list)
    complete: bool = False

    @property
    def damage(self) -> list[StructureIssue]:
        return [issue for issue in self.issues if not issue.walk_limit]


def ebml_structure_read(path: str | Path) -> EbmlStructure:
    """Walk the EBML element tree without reading frames; never raises on malformed input."""
    path = Path(path)
    result = EbmlStructure(file_size=path.stat().st_size)
    with path.open("rb") as handle:
        _EbmlWalk(handle, result).run()
    result.complete = not result.issues
    return result


def element_name(element_id: int) -> str:
    return _NAMES.get(element_id, f"0x{element_id:X}")


def _vint(data: bytes, at: int, max_length: int, keep_marker: bool) -> tuple[int, int, bool] | None:
    """(value, length, all value bits set) of the variable-length integer at `at`, or None if it is invalid."""
    if at >= len(data) or data[at] == 0:
        return None
    length = 9 - data[at].bit_length()
    if length > max_length or at + length > len(data):
        return None
    value = int.from_bytes(data[at : at + length], "big")
    if keep_marker:
        return value, length, False
    all_ones = (1 << (7 * length)) - 1  # the value bits once the length marker is dropped
    value &= all_ones
    return value, length, value == all_ones


class _EbmlWalk:
    def __init__(self, handle: BinaryIO, result: EbmlStructure) -> None:
        self.handle = handle
        self.result = result
        self.size = result.file_size
        self.budget = WalkBudget(MAX_ELEMENTS, WALK_SECONDS, "elements")
        self.stopped = False
        self.pointers: list[tuple[str, int, int, int]] = []  # (what, entry offset, target offset, expected id)
        self.seek_id: int | None = None
        self.track: EbmlTrack | None = None

    def issue(self, code: str, message: str, offset: int | None) -> None:
        self.result.issues.append(StructureIssue(code, message, offset))

    def stop(self, code: str, message: str, offset: int) -> None:
        self.issue(code, message, offset)
        self.stopped = True

    def run(self) -> None:
        if read_at(self.handle, 0, 4) != b"\x1a\x45\xdf\xa3":
            self.issue("not_ebml", "Expected the EBML header ID 1A 45 DF A3 at offset 0.", 0)
            return
        self.elements(0, self.size, 0, "", "the file", unknown_size_parent=None)
        if self.result.segment_offset is None and not self.stopped:
            self.issue(
                "missing_segment", "The file has no Segment; expected one (ID 18 53 80 67) after the EBML header.", None
            )
        self.check_pointers()

    def header(self, position: int, end: int) -> tuple[int, int, int | None] | None:
        """(id, header length, data size or None when unknown) of the element at `position`."""
        data = read_at(self.handle, position, min(12, end - position))
        element_id = _vint(data, 0, 4, keep_marker=True)
        if element_id is None:
            return None
        size = _vint(data, element_id[1], 8, keep_marker=False)
        if size is None:
            return None
        return element_id[0], element_id[1] + size[1], None if size[2] else size[0]

    def elements(
        self, start: int, end: int, depth: int, path: str, parent: str, unknown_size_parent: int | None
    ) -> int:
        """Walk the children in [start, end); returns where the walk ended (an unknown-size parent's end)."""
        position = start
        while position < end and not self.stopped:
            if reason := self.budget.spend():
                self.stop("walk_limit", f"Element walk: {reason}", position)
                return position
            parsed = self.header(position, end)
            if parsed is None:
                self.stop(
                    "invalid_element_header",
                    f"Bytes {read_at(self.handle, position, 4).hex(' ').upper()} at offset {position:,} inside "
                    f"{parent}; expected an EBML element ID and size there.",
                    position,
                )
                return position
            element_id, header_length, size = parsed
            if unknown_size_parent is not None and self.ends_unknown_parent(unknown_size_parent, element_id):
                return position
            data_start = position + header_length
            if size is None and element_id not in _UNKNOWN_SIZE_ALLOWED:
                self.stop(
                    "unknown_size_not_allowed",
                    f"{element_name(element_id)} at offset {position:,} has an unknown size; expected a size, "
                    "since only a Segment or a Cluster may leave it open.",
                    position,
                )
                return position
            element_end = end if size is None else data_start + size
            if element_end > end:
                limit = "the end of the file" if depth == 0 else f"the end of its parent {parent}"
                if depth and end == self.size:
                    limit += ", which is the end of the file,"
                message = (
                    f"{element_name(element_id)} at offset {position:,} declares {size:,} bytes, so it would end "
                    f"at offset {element_end:,}; expected it to end by {limit} at offset {end:,}."
                )
                if depth > 0 or element_id not in _MASTERS:
                    self.stop("element_overrun", message, position)
                    return position
                # A cut-off top-level element (a truncated download): say so, and still read what is there.
                self.issue("element_overrun", message, position)
                element_end = end
            self.record(element_id, position, size, depth, path)
            if element_id in _MASTERS:
                name = element_name(element_id)
                if depth + 1 >= MAX_DEPTH:
                    self.stop("depth_limit", f"Elements nest deeper than {MAX_DEPTH} levels; not followed.", position)
                    return position
                self.enter(element_id, position, data_start, size)
                reached = self.elements(
                    data_start, element_end, depth + 1, f"{path}/{name}", name, element_id if size is None else None
                )
                self.leave(element_id)
                position = reached if size is None else element_end
            else:
                self.leaf(element_id, position, data_start, size)
                position = element_end
        return position

    def ends_unknown_parent(self, parent_id: int, element_id: int) -> bool:
        # An open Cluster ends at the next top-level element; an open Segment at the next EBML header.
        if parent_id == CLUSTER:
            return element_id in _SEGMENT_CHILDREN or element_id in (EBML_HEADER, SEGMENT)
        return element_id in (EBML_HEADER, SEGMENT)

    def record(self, element_id: int, position: int, size: int | None, depth: int, parent_path: str) -> None:
        result = self.result
        result.element_count += 1
        if element_id in _BLOCKS:
            result.block_count += 1
        elif len(result.elements) < MAX_RECORDED_ELEMENTS:
            name = element_name(element_id)
            result.elements.append(EbmlElement(name, position, size, depth, f"{parent_path}/{name}"))

    def enter(self, element_id: int, position: int, data_start: int, size: int | None) -> None:
        result = self.result
        if element_id == SEGMENT and result.segment_offset is None:
            result.segment_offset, result.segment_data_offset, result.segment_size = position, data_start, size
        elif element_id == CLUSTER:
            result.cluster_count += 1
        elif element_id == 0xAE:
            self.track = EbmlTrack()

    def leave(self, element_id: int) -> None:
        if element_id == 0xAE and self.track is not None:
            self.result.tracks.append(self.track)
            self.track = None

    def leaf(self, element_id: int, position: int, data_start: int, size: int) -> None:
        result = self.result
        if element_id not in _NAMES or element_id in _BLOCKS or size > MAX_STRING_BYTES:
            return
        data = read_at(self.handle, data_start, size)
        if element_id in _STRINGS and getattr(result, _STRINGS[element_id]) is None:
            setattr(result, _STRINGS[element_id], clip_text(decode_text(data.rstrip(b"\x00")), 1024))
        elif element_id == 0x86 and self.track is not None:
            self.track.codec_id = clip_text(decode_text(data.rstrip(b"\x00")), 256)
        elif element_id == 0xD7 and self.track is not None:
            self.track.number = int.from_bytes(data[:8], "big")
        elif element_id == 0x83 and self.track is not None:
            self.track.track_type = int.from_bytes(data[:8], "big")
        elif element_id == 0x4287:
            result.doc_type_version = int.from_bytes(data[:8], "big")
        elif element_id == 0x2AD7B1:
            result.timestamp_scale = int.from_bytes(data[:8], "big")
        elif element_id == 0x4489 and size in (4, 8):
            result.duration = struct.unpack(">f" if size == 4 else ">d", data)[0]
        elif element_id == 0x4461 and size == 8:
            nanoseconds = int.from_bytes(data, "big", signed=True)
            result.date_utc = (_EPOCH_2001 + timedelta(microseconds=nanoseconds // 1000)).isoformat()
        elif element_id == _SEEK_ID:
            self.seek_id = int.from_bytes(data[:4], "big")
        elif element_id == _SEEK_POSITION and self.seek_id is not None:
            self.pointer("SeekHead entry", position, int.from_bytes(data[:8], "big"), self.seek_id)
            self.seek_id = None
        elif element_id == _CUE_CLUSTER_POSITION:
            self.pointer("Cue point", position, int.from_bytes(data[:8], "big"), CLUSTER)

    def pointer(self, what: str, position: int, relative: int, expected: int) -> None:
        if len(self.pointers) < MAX_POINTER_CHECKS and self.result.segment_data_offset is not None:
            self.pointers.append((what, position, self.result.segment_data_offset + relative, expected))

    def check_pointers(self) -> None:
        """SeekHead and Cues positions count from the Segment's data; each must land on the element it names."""
        bad = []
        for what, position, target, expected in self.pointers:
            parsed = self.header(target, self.size) if target < self.size else None
            if parsed is None or parsed[0] != expected:
                bad.append((what, position, target, expected, parsed))
        if not bad:
            return
        what, position, target, expected, parsed = bad[0]
        found = "the end of the file" if target >= self.size else "no element"
        if parsed is not None:
            found = element_name(parsed[0])
        self.issue(
            "pointer_mismatch",
            f"{len(bad):,} of {len(self.pointers):,} SeekHead and Cues entries do not point at the element they "
            f"name; the first, a {what} at offset {position:,}, expects {element_name(expected)} at offset "
            f"{target:,} and finds {found} there.",
            position,
        )
