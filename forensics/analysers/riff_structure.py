"""RIFF structure (AVI, WAV, WebP) from our own chunk walk: chunk and LIST nesting, sizes against the parent and
the file, pad bytes, the AVI indexes (idx1, OpenDML indx/ix##) against the chunks they point to, the WebP
VP8/VP8L/VP8X headers and their metadata chunks, and bytes after the end of the RIFF chunk.

Every damage issue names the offset and what was expected there, so a finding can quote both."""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from .common import StructureIssue, WalkBudget, read_at

# 2: up to 2,000,000 chunks (500,000 before, which a long recording within the upload limit passes).
RIFF_PARSER_VERSION = "riff-structure/2"

MAX_DEPTH = 8
# An hour of 30 fps video with audio is about 250,000 movi chunks: this covers a long low-rate recording (CCTV)
# within the upload limit, so that only a hostile file stops the walk, here or at WALK_SECONDS first.
MAX_CHUNKS = 2_000_000
MAX_RECORDED_CHUNKS = 2000
MAX_INDEX_ENTRIES = 50_000  # idx1/ix## entries checked against the chunk they point to, per file
MAX_INDEX_CHUNKS = 1000  # ix## chunks read per file
MAX_SUPER_INDEX_ENTRIES = 10_000
# The issue bounds a hostile file's whole analysis at 10 s on a small shared machine; the walk stops well before.
WALK_SECONDS = 5.0
# Issues that say where the walk gave up, not that the file is damaged.

_UNKNOWN_SIZE = 0xFFFFFFFF  # streamed WAV writers leave the sizes at -1 when they cannot seek back
_VP8X_FLAGS = {"icc": (0x20, b"ICCP"), "exif": (0x08, b"EXIF"), "xmp": (0x04, b"XMP "), "animation": (0x02, b"ANIM")}
_WEBP_IMAGE_CHUNKS = (b"VP8 ", b"VP8L", b"VP8X")


@dataclass
class RiffChunk:
    type: str  # LIST chunks show their list type: "LIST:movi"
    offset: int
    size: int  # the declared data size, header excluded
    depth: int
    path: str


@dataclass
class WaveFormat:
    format_tag: int
    channels: int
    sample_rate: int
    byte_rate: int
    block_align: int
    bits_per_sample: int | None


@dataclass
class WebpImage:
    encoding: str  # "VP8 " (lossy), "VP8L" (lossless) or "VP8X" (extended)
    width: int | None = None
    height: int | None = None
    flags: list[str] = field(default_factory=list)  # VP8X flags set: icc, alpha, exif, xmp, animation
    exif_offset: int | None = None
    xmp_offset: int | None = None


@dataclass
class AviIndexCheck:
    """One AVI index (idx1, an OpenDML super index 'indx' or a standard index 'ix##') and how it held up."""

    kind: str
    offset: int
    entries: int
    checked: int
    mismatches: int


@dataclass
class RiffStructure:
    file_size: int
    form_type: str | None = None
    riff_size: int | None = None
    riff_end: int | None = None
    continuation_offsets: list[int] = field(default_factory=list)  # OpenDML 'RIFF AVIX' chunks after the first
    chunks: list[RiffChunk] = field(default_factory=list)
    chunk_count: int = 0
    media_chunk_count: int = 0
    streamed_sizes: bool = False
    bytes_after_riff: int = 0
    wave_format: WaveFormat | None = None
    webp: WebpImage | None = None
    indexes: list[AviIndexCheck] = field(default_factory=list)
    issues: list[StructureIssue] = field(default_factory=list)
    complete: bool = False

    @property
    def damage(self) -> list[StructureIssue]:
        return [issue for issue in self.issues if not issue.walk_limit]


def riff_structure_read(path: str | Path) -> RiffStructure:
    """Walk the RIFF chunks without decoding media; never raises on malformed input."""
    path = Path(path)
    size = path.stat().st_size
    result = RiffStructure(file_size=size)
    with path.open("rb") as handle:
        _RiffWalk(handle, result).run()
    result.complete = not result.issues
    return result


_CHUNK_ID = re.compile(rb"[\x20-\x7e]{4}")
_CHUNK_HEADER = struct.Struct("<4sI")


def _printable(raw: bytes) -> bool:
    return _CHUNK_ID.fullmatch(raw) is not None


def _name(raw: bytes) -> str:
    return raw.decode("latin-1")


class _RiffWalk:
    def __init__(self, handle: BinaryIO, result: RiffStructure) -> None:
        self.handle = handle
        self.result = result
        self.size = result.file_size
        self.budget = WalkBudget(MAX_CHUNKS, WALK_SECONDS, "chunks")
        self.stopped = False
        self.movi: tuple[int, int] | None = None  # (offset of the 'movi' list type, end of the list)
        self.idx1: list[tuple[int, int]] = []
        self.super_indexes: list[tuple[int, int]] = []
        self.standard_indexes: list[tuple[int, int]] = []
        self.top_chunks: list[tuple[bytes, int, int]] = []  # (id, offset, size) directly under the first RIFF
        self.index_budget = MAX_INDEX_ENTRIES
        self.ds64_data_size: int | None = None

    def issue(self, code: str, message: str, offset: int | None) -> None:
        self.result.issues.append(StructureIssue(code, message, offset))

    def run(self) -> None:
        header = read_at(self.handle, 0, 12)
        if len(header) < 12 or header[:4] not in (b"RIFF", b"RF64", b"BW64"):
            self.issue("not_riff", "Expected a 12-byte 'RIFF' (or 'RF64') header at offset 0.", 0)
            return
        riff_size, form = struct.unpack_from("<I4s", header, 4)
        ds64, size_field = read_at(self.handle, 12, 36), 4
        if header[:4] != b"RIFF" and riff_size == _UNKNOWN_SIZE and ds64[:4] == b"ds64" and len(ds64) >= 28:
            # RF64 (EBU Tech 3306) keeps the 64-bit RIFF and 'data' sizes in the 'ds64' chunk.
            riff_size, self.ds64_data_size = struct.unpack_from("<QQ", ds64, 8)
            size_field = 20
        result = self.result
        result.form_type, result.riff_size = _name(form), riff_size
        end = 8 + riff_size
        if riff_size == _UNKNOWN_SIZE:
            result.streamed_sizes, end = True, self.size
        elif end > self.size:
            self.issue(
                "riff_truncated",
                f"The RIFF header declares {riff_size:,} bytes of content, so the file should end at offset "
                f"{end:,}; it ends at offset {self.size:,} ({end - self.size:,} bytes missing).",
                size_field,
            )
        result.riff_end = end
        self.record(b"RIFF:" + form, 0, riff_size, 0, "")
        self.chunks(12, min(end, self.size), 1, f"RIFF:{result.form_type}", f"RIFF '{result.form_type}'")
        position = end
        # OpenDML AVI files over 1 GiB go on in further 'RIFF AVIX' chunks.
        while form == b"AVI " and not self.stopped and position + 12 <= self.size:
            riff, size, kind = struct.unpack("<4sI4s", read_at(self.handle, position, 12))
            if riff != b"RIFF" or kind != b"AVIX":
                break
            result.continuation_offsets.append(position)
            self.record(b"RIFF:AVIX", position, size, 0, "")
            self.chunks(position + 12, min(position + 8 + size, self.size), 1, "RIFF:AVIX", "RIFF 'AVIX'")
            position += 8 + size
        if not self.stopped:
            self.trailing(position)
            self.form_checks()
        self.index_checks()

    def trailing(self, position: int) -> None:
        extra = self.size - position
        if extra <= 0 or self.result.streamed_sizes:
            return
        if extra == 1 and self.result.riff_size % 2 and read_at(self.handle, position, 1) == b"\x00":
            return  # the pad byte of an odd-sized RIFF chunk
        self.result.bytes_after_riff = extra
        self.issue(
            "data_after_riff",
            f"{extra:,} bytes follow the end of the RIFF chunk at offset {position:,}; expected the file to end there.",
            position,
        )

    def record(self, kind: bytes, offset: int, size: int, depth: int, parent_path: str) -> None:
        self.result.chunk_count += 1
        if len(self.result.chunks) < MAX_RECORDED_CHUNKS:
            path = f"{parent_path}/{_name(kind)}" if parent_path else _name(kind)
            self.result.chunks.append(RiffChunk(_name(kind), offset, size, depth, path))

    def chunks(self, start: int, end: int, depth: int, path: str, parent: str) -> None:
        position = start
        while position < end and not self.stopped:
            if end - position < 8:
                self.stop(
                    "short_chunk_header",
                    f"{end - position} stray bytes at offset {position:,} inside {parent}; expected an 8-byte chunk "
                    f"header or the end of {parent}.",
                    position,
                )
                return
            if reason := self.budget.spend():
                self.stop("walk_limit", f"Chunk walk: {reason}", position)
                return
            raw_id, size = _CHUNK_HEADER.unpack(read_at(self.handle, position, 8))
            if not _printable(raw_id):
                self.stop(
                    "invalid_chunk_id",
                    f"Bytes {raw_id!r} at offset {position:,} inside {parent}, where a four-character chunk id was "
                    "expected.",
                    position,
                )
                return
            if size == _UNKNOWN_SIZE and raw_id == b"data" and self.ds64_data_size is not None:
                size = self.ds64_data_size
            elif size == _UNKNOWN_SIZE and raw_id == b"data" and self.result.streamed_sizes:
                size = end - position - 8
            chunk_end = position + 8 + size
            if chunk_end > end:
                limit = f"the end of {parent}" + (", which is the end of the file," if end == self.size else "")
                self.stop(
                    "chunk_overrun",
                    f"Chunk '{_name(raw_id)}' at offset {position:,} declares {size:,} bytes, so it would end at "
                    f"offset {chunk_end:,}; expected it to end by {limit} at offset {end:,}.",
                    position,
                )
                return
            self.chunk(raw_id, position, size, depth, path)
            position = self.next_chunk(raw_id, position, size, end, parent)

    def next_chunk(self, raw_id: bytes, position: int, size: int, end: int, parent: str) -> int:
        chunk_end = position + 8 + size
        if not size % 2 or chunk_end >= end:
            return min(chunk_end + size % 2, end)
        # An odd-sized chunk is followed by a pad byte. Without it, the next id starts one byte early.
        if _printable(read_at(self.handle, chunk_end + 1, 4)) or not _printable(read_at(self.handle, chunk_end, 4)):
            return chunk_end + 1
        self.issue(
            "missing_pad_byte",
            f"Chunk '{_name(raw_id)}' at offset {position:,} has an odd size ({size:,}) but the next chunk starts "
            f"at offset {chunk_end:,}; expected a pad byte there and the next chunk at {chunk_end + 1:,}.",
            chunk_end,
        )
        return chunk_end

    def stop(self, code: str, message: str, offset: int) -> None:
        self.issue(code, message, offset)
        self.stopped = True

    def chunk(self, raw_id: bytes, position: int, size: int, depth: int, path: str) -> None:
        if raw_id == b"LIST":
            if size < 4:
                self.stop(
                    "short_list",
                    f"LIST chunk at offset {position:,} declares {size} bytes; expected at least 4 for its list type.",
                    position,
                )
                return
            list_type = read_at(self.handle, position + 8, 4)
            label = f"{_name(raw_id)}:{_name(list_type)}"
            self.record(label.encode("latin-1"), position, size, depth, path)
            if depth == 1:
                self.top_chunks.append((label.encode("latin-1"), position, size))
            if list_type == b"movi" and self.movi is None:
                self.movi = (position + 8, position + 8 + size)
            if depth + 1 > MAX_DEPTH:
                self.stop("depth_limit", f"LIST chunks nest deeper than {MAX_DEPTH} levels; not followed.", position)
                return
            self.chunks(position + 12, position + 8 + size, depth + 1, f"{path}/{label}", f"LIST '{label[5:]}'")
            return
        if path.endswith("/LIST:movi") and raw_id[:2] != b"ix":
            # Frames are counted, not listed: thousands of them would crowd out the file's layout.
            self.result.chunk_count += 1
            self.result.media_chunk_count += 1
            return
        self.record(raw_id, position, size, depth, path)
        if depth == 1:
            self.top_chunks.append((raw_id, position, size))
        if raw_id == b"idx1":
            self.idx1.append((position, size))
        elif raw_id == b"indx":
            self.super_indexes.append((position, size))
        elif raw_id[:2] == b"ix" and len(self.standard_indexes) < MAX_INDEX_CHUNKS:
            self.standard_indexes.append((position, size))
        elif raw_id == b"fmt " and self.result.form_type == "WAVE" and depth == 1:
            self.wave_format(position, size)
        elif self.result.form_type == "WEBP" and depth == 1:
            self.webp_chunk(raw_id, position, size)

    def wave_format(self, position: int, size: int) -> None:
        if size < 16:
            self.issue(
                "short_fmt", f"The 'fmt ' chunk at offset {position:,} holds {size} bytes; expected 16.", position
            )
            return
        body = read_at(self.handle, position + 8, min(size, 18))
        tag, channels, rate, byte_rate, align = struct.unpack_from("<HHIIH", body)
        bits = struct.unpack_from("<H", body, 14)[0]
        self.result.wave_format = WaveFormat(tag, channels, rate, byte_rate, align, bits)

    def webp_chunk(self, raw_id: bytes, position: int, size: int) -> None:
        result = self.result
        body = read_at(self.handle, position + 8, min(size, 30))
        if result.webp is None:
            if raw_id not in _WEBP_IMAGE_CHUNKS:
                self.issue(
                    "webp_first_chunk",
                    f"Chunk '{_name(raw_id)}' at offset {position:,} opens the WebP; expected 'VP8 ', 'VP8L' or "
                    "'VP8X' there.",
                    position,
                )
                return
            result.webp = WebpImage(_name(raw_id))
            if raw_id == b"VP8X":
                self.vp8x_header(body, position)
        webp = result.webp
        if raw_id == b"VP8 ":
            self.vp8_header(body, position, webp)
        elif raw_id == b"VP8L":
            self.vp8l_header(body, position, webp)
        elif raw_id == b"EXIF" and webp.exif_offset is None:
            webp.exif_offset = position
        elif raw_id == b"XMP " and webp.xmp_offset is None:
            webp.xmp_offset = position

    def vp8x_header(self, body: bytes, position: int) -> None:
        webp = self.result.webp
        if len(body) < 10:
            self.issue("short_vp8x", f"The VP8X chunk at offset {position:,} is shorter than its 10 bytes.", position)
            return
        webp.flags = [name for name, (bit, _) in _VP8X_FLAGS.items() if body[0] & bit]
        if body[0] & 0x10:
            webp.flags.append("alpha")
        webp.width = 1 + int.from_bytes(body[4:7], "little")
        webp.height = 1 + int.from_bytes(body[7:10], "little")

    def vp8_header(self, body: bytes, position: int, webp: WebpImage) -> None:
        # A key frame: 3-byte frame tag (bit 0 clear), then the start code 9D 01 2A and two 14-bit sizes.
        if len(body) < 10 or body[0] & 1 or body[3:6] != b"\x9d\x01\x2a":
            self.issue(
                "bad_vp8_header",
                f"The VP8 chunk at offset {position:,} does not hold a key frame; expected the start code "
                f"9D 01 2A at offset {position + 11:,}, found {body[3:6].hex(' ').upper() or 'nothing'}.",
                position + 11,
            )
            return
        if webp.encoding == "VP8 ":
            webp.width, webp.height = (value & 0x3FFF for value in struct.unpack_from("<HH", body, 6))

    def vp8l_header(self, body: bytes, position: int, webp: WebpImage) -> None:
        if len(body) < 5 or body[0] != 0x2F:
            self.issue(
                "bad_vp8l_header",
                f"The VP8L chunk at offset {position:,} does not start with the lossless signature byte 0x2F "
                f"(offset {position + 8:,}).",
                position + 8,
            )
            return
        if webp.encoding == "VP8L":
            bits = int.from_bytes(body[1:5], "little")
            webp.width, webp.height = 1 + (bits & 0x3FFF), 1 + ((bits >> 14) & 0x3FFF)

    def form_checks(self) -> None:
        """Chunks each form requires, checked only when the walk reached the end (a cut walk says why itself)."""
        ids = {kind for kind, _, _ in self.top_chunks}
        form = self.result.form_type
        required = {"AVI ": (b"LIST:hdrl", b"LIST:movi"), "WAVE": (b"fmt ", b"data")}.get(form, ())
        for kind in required:
            if kind not in ids:
                self.issue(
                    "missing_chunk",
                    f"The {form.strip()} file has no '{_name(kind)}' chunk; expected one inside the RIFF chunk "
                    f"(offsets 12 to {self.result.riff_end:,}).",
                    12,
                )
        if form == "WEBP":
            self.webp_checks(ids)

    def webp_checks(self, ids: set[bytes]) -> None:
        webp = self.result.webp
        if webp is None:
            self.issue(
                "webp_no_image", "The WebP holds no 'VP8 ', 'VP8L' or 'VP8X' chunk; expected one at offset 12.", 12
            )
            return
        vp8x_offset = 12
        if webp.encoding != "VP8X":
            extended = sorted(_name(kind) for kind in ids & {b"EXIF", b"XMP ", b"ICCP", b"ANIM"})
            if extended:
                self.issue(
                    "metadata_without_vp8x",
                    f"The simple-format WebP carries the chunks {', '.join(extended)}; expected a 'VP8X' header at "
                    "offset 12 to declare them.",
                    12,
                )
            return
        for name, (_, kind) in _VP8X_FLAGS.items():
            flagged, present = name in webp.flags, kind in ids
            if flagged and not present:
                self.issue(
                    "vp8x_flag_without_chunk",
                    f"The VP8X header at offset {vp8x_offset} sets the {name.upper()} flag; expected a "
                    f"'{_name(kind)}' chunk, and there is none.",
                    vp8x_offset,
                )
            elif present and not flagged:
                offset = next(offset for chunk, offset, _ in self.top_chunks if chunk == kind)
                self.issue(
                    "chunk_without_vp8x_flag",
                    f"A '{_name(kind)}' chunk at offset {offset:,} is not declared by the VP8X header at offset "
                    f"{vp8x_offset}; expected its {name.upper()} flag to be set.",
                    offset,
                )

    def index_checks(self) -> None:
        for position, size in self.idx1:
            self.check_idx1(position, size)
        for position, size in self.super_indexes:
            self.check_super_index(position, size)
        for position, size in self.standard_indexes:
            self.check_standard_index(position, size)

    def header_at(self, offset: int) -> tuple[bytes, int] | None:
        raw = read_at(self.handle, offset, 8)
        return _CHUNK_HEADER.unpack(raw) if len(raw) == 8 else None

    def check_idx1(self, position: int, size: int) -> None:
        count = size // 16
        if size % 16:
            self.issue(
                "idx1_size",
                f"The idx1 chunk at offset {position:,} holds {size:,} bytes; expected a multiple of 16 (one entry "
                "per 16 bytes).",
                position,
            )
        if self.movi is None:
            if count:
                self.issue(
                    "idx1_without_movi", f"The idx1 chunk at offset {position:,} indexes no 'movi' list.", position
                )
            return
        checked = min(count, self.index_budget)
        self.index_budget -= checked
        data = read_at(self.handle, position + 8, checked * 16)
        entries = [struct.unpack_from("<4sIII", data, at) for at in range(0, len(data) - 15, 16)]
        movi_start, movi_end = self.movi
        # Offsets count from the 'movi' list type; a few old muxers wrote file offsets instead.
        base = movi_start
        if entries and not self.idx1_entry_found(entries[0], movi_start) and self.idx1_entry_found(entries[0], 0):
            base = 0
        bad: list[tuple[int, str]] = []
        for number, entry in enumerate(entries):
            problem = self.idx1_problem(entry, base, movi_start, movi_end)
            if problem:
                bad.append((number, problem))
        self.result.indexes.append(AviIndexCheck("idx1", position, count, len(entries), len(bad)))
        if bad:
            number, problem = bad[0]
            self.issue(
                "index_mismatch",
                f"{len(bad):,} of {len(entries):,} idx1 entries do not point at the chunk they describe; the first, "
                f"entry {number} at offset {position + 8 + 16 * number:,}, {problem}.",
                position + 8 + 16 * number,
            )

    def idx1_entry_found(self, entry: tuple, base: int) -> bool:
        kind, _, offset, _ = entry
        header = self.header_at(base + offset)
        return header is not None and (header[0] == kind or (kind == b"rec " and header[0] == b"LIST"))

    def idx1_problem(self, entry: tuple, base: int, movi_start: int, movi_end: int) -> str | None:
        kind, _, offset, length = entry
        target = base + offset
        expected = f"expects chunk '{_name(kind)}' of {length:,} bytes at offset {target:,}"
        if target < movi_start + 4 or target + 8 > movi_end:
            return f"{expected}, outside the 'movi' list (offsets {movi_start + 4:,} to {movi_end:,})"
        header = self.header_at(target)
        if header is None:
            return f"{expected}, beyond the end of the file"
        found, found_size = header
        if kind == b"rec " and found == b"LIST":
            return None
        if found != kind or found_size != length:
            return f"{expected}, found {found!r} of {found_size:,} bytes"
        return None

    def check_super_index(self, position: int, size: int) -> None:
        body = read_at(self.handle, position + 8, min(size, 24 + 16 * MAX_SUPER_INDEX_ENTRIES))
        if len(body) < 24:
            self.issue(
                "short_index", f"The indx chunk at offset {position:,} is shorter than its 24-byte header.", position
            )
            return
        _, _, index_type, in_use = struct.unpack_from("<HBBI", body)
        if index_type != 0:  # an index of chunks kept in the header, checked like an ix## chunk
            self.check_standard_index(position, size)
            return
        room = (size - 24) // 16
        if in_use > room:
            self.issue(
                "index_overrun",
                f"The indx chunk at offset {position:,} says {in_use:,} entries are in use; expected at most {room:,}, "
                f"the number its {size:,} bytes hold.",
                position,
            )
            in_use = room
        bad = []
        for number in range(min(in_use, MAX_SUPER_INDEX_ENTRIES)):
            if 24 + 16 * number + 16 > len(body):
                break
            offset, length, _ = struct.unpack_from("<QII", body, 24 + 16 * number)
            header = self.header_at(offset) if offset + length <= self.size else None
            if header is None or header[0][:2] != b"ix" or header[1] + 8 != length:
                bad.append((number, offset, length, header))
        self.result.indexes.append(
            AviIndexCheck("indx", position, in_use, min(in_use, MAX_SUPER_INDEX_ENTRIES), len(bad))
        )
        if bad:
            number, offset, length, header = bad[0]
            found = "beyond the end of the file" if header is None else f"found {header[0]!r} of {header[1]:,} bytes"
            self.issue(
                "index_mismatch",
                f"{len(bad):,} entries of the OpenDML super index at offset {position:,} do not point at a standard "
                f"index; the first, entry {number}, expects an 'ix##' chunk of {length:,} bytes (header included) at "
                f"offset {offset:,}, {found}.",
                position + 32 + 16 * number,
            )

    def check_standard_index(self, position: int, size: int) -> None:
        body = read_at(self.handle, position + 8, min(size, 24 + 8 * max(self.index_budget, 0)))
        if len(body) < 24:
            self.issue(
                "short_index", f"The index chunk at offset {position:,} is shorter than its 24-byte header.", position
            )
            return
        longs, _, _, in_use, chunk_id, base = struct.unpack_from("<HBBI4sQ", body)
        if longs != 2:
            return  # field indexes (interlaced video) have three longs per entry; not checked
        entries = [struct.unpack_from("<II", body, at) for at in range(24, len(body) - 7, 8)][:in_use]
        self.index_budget -= len(entries)
        bad = []
        for number, (offset, length) in enumerate(entries):
            length &= 0x7FFFFFFF  # the top bit marks a frame that is not a key frame
            header = self.header_at(base + offset - 8) if base + offset + length <= self.size else None
            if header is None or header[0] != chunk_id or header[1] != length:
                bad.append((number, base + offset - 8, length, header))
        kind = _name(read_at(self.handle, position, 4))
        self.result.indexes.append(AviIndexCheck(kind, position, in_use, len(entries), len(bad)))
        if bad:
            number, target, length, header = bad[0]
            found = "beyond the end of the file" if header is None else f"found {header[0]!r} of {header[1]:,} bytes"
            self.issue(
                "index_mismatch",
                f"{len(bad):,} of {len(entries):,} entries of the '{kind}' index at offset {position:,} do not point "
                f"at the chunk they describe; the first, entry {number}, expects chunk '{_name(chunk_id)}' of "
                f"{length:,} bytes at offset {target:,}, {found}.",
                position + 32 + 8 * number,
            )
