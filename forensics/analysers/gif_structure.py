"""GIF block structure from our own walk: header, logical screen, colour tables, extension and image blocks with
their sub-block chains, the trailer, and bytes after it. Comments and application identifiers are kept for the
software rules.

Every damage issue names the offset and what was expected there, so a finding can quote both."""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from pathlib import Path

from .common import StructureIssue, WalkBudget, clip_text, decode_text

GIF_PARSER_VERSION = "gif-structure/1"

MAX_BLOCKS = 2_000_000  # sub-blocks included: a 100 MB animation has about 400,000
MAX_RECORDED_BLOCKS = 2000
MAX_COMMENT_BYTES = 64 << 10
WALK_SECONDS = 5.0  # see riff_structure.WALK_SECONDS

_EXTENSIONS = {0xF9: "Graphic Control Extension", 0xFE: "Comment", 0xFF: "Application Extension", 0x01: "Plain Text"}


@dataclass
class GifBlock:
    type: str
    offset: int
    size: int  # bytes from the introducer to the end of the block's sub-block chain
    depth: int = 0
    path: str = ""


@dataclass
class GifStructure:
    file_size: int
    version: str | None = None
    width: int | None = None
    height: int | None = None
    frame_count: int = 0
    comments: list[str] = field(default_factory=list)
    applications: list[str] = field(default_factory=list)  # e.g. "NETSCAPE2.0", "XMP DataXMP"
    blocks: list[GifBlock] = field(default_factory=list)
    block_count: int = 0
    trailer_offset: int | None = None
    bytes_after_trailer: int = 0
    issues: list[StructureIssue] = field(default_factory=list)
    complete: bool = False

    @property
    def damage(self) -> list[StructureIssue]:
        return [issue for issue in self.issues if not issue.walk_limit]


class _Damage(Exception):
    """Raised inside the walk to end it with one issue (caught in gif_structure_read)."""

    def __init__(self, code: str, message: str, offset: int) -> None:
        super().__init__(message)
        self.issue = StructureIssue(code, message, offset)


def gif_structure_read(path: str | Path) -> GifStructure:
    """Walk the GIF blocks without decoding pixels; never raises on malformed input."""
    path = Path(path)
    result = GifStructure(file_size=path.stat().st_size)
    # A buffered reader makes the one-byte reads of sub-block lengths cheap.
    with path.open("rb", buffering=1 << 16) as handle:
        try:
            _walk(handle, result, WalkBudget(MAX_BLOCKS, WALK_SECONDS, "blocks"))
        except _Damage as damage:
            result.issues.append(damage.issue)
    result.complete = not result.issues
    return result


def _read(handle, length: int, what: str) -> bytes:
    offset = handle.tell()
    data = handle.read(length)
    if len(data) < length:
        raise _Damage("truncated", f"The file ends at offset {offset + len(data):,}, inside {what}; expected "
                      f"{length:,} more bytes there.", offset)  # fmt: skip
    return data


def _walk(handle, result: GifStructure, budget: WalkBudget) -> None:
    header = handle.read(13)
    if len(header) < 6 or header[:6] not in (b"GIF87a", b"GIF89a"):
        raise _Damage("not_gif", "Expected 'GIF87a' or 'GIF89a' at offset 0.", 0)
    if len(header) < 13:
        raise _Damage(
            "truncated", "The file ends inside the logical screen descriptor; expected 7 bytes at offset 6.", 6
        )
    result.version = header[3:6].decode("ascii")
    result.width, result.height, packed = struct.unpack_from("<HHB", header, 6)
    _record(result, "Header and logical screen", 0, 13)
    if packed & 0x80:
        _colour_table(handle, result, packed, "global colour table")
    while True:
        offset = handle.tell()
        if reason := budget.spend():
            result.issues.append(StructureIssue("walk_limit", f"Block walk: {reason}", offset))
            return
        introducer = handle.read(1)
        if not introducer:
            raise _Damage("no_trailer", f"The file ends at offset {offset:,} without a trailer; expected the "
                          "trailer byte 0x3B there.", offset)  # fmt: skip
        if introducer == b"\x3b":
            result.trailer_offset = offset
            _record(result, "Trailer", offset, 1)
            result.bytes_after_trailer = result.file_size - offset - 1
            if result.bytes_after_trailer:
                result.issues.append(
                    StructureIssue(
                        "data_after_trailer",
                        f"{result.bytes_after_trailer:,} bytes follow the trailer at offset {offset:,}; expected the "
                        "file to end there.",
                        offset + 1,
                    )
                )
            return
        if introducer == b"\x21":
            _extension(handle, result, offset, budget)
        elif introducer == b"\x2c":
            _image(handle, result, offset, budget)
        else:
            raise _Damage("invalid_block", f"Byte 0x{introducer[0]:02X} at offset {offset:,}; expected a block "
                          "introducer there: 0x21 (extension), 0x2C (image) or 0x3B (trailer).", offset)  # fmt: skip


def _colour_table(handle, result: GifStructure, packed: int, what: str) -> None:
    _read(handle, 3 << ((packed & 0x07) + 1), what)


def _sub_blocks(handle, budget: WalkBudget, what: str, keep: int = 0) -> bytes:
    """Skip a chain of sub-blocks up to its zero-length terminator; return up to `keep` bytes of their data."""
    kept = bytearray()
    while True:
        if reason := budget.spend():
            raise _Damage("walk_limit", f"Block walk: {reason}", handle.tell())
        length = _read(handle, 1, f"the sub-blocks of {what}")[0]
        if length == 0:
            return bytes(kept)
        data = _read(handle, length, f"a {length}-byte sub-block of {what}")
        if len(kept) < keep:
            kept += data[: keep - len(kept)]


def _extension(handle, result: GifStructure, offset: int, budget: WalkBudget) -> None:
    label = _read(handle, 1, "an extension label")[0]
    name = _EXTENSIONS.get(label, f"Extension 0x{label:02X}")
    if label == 0xF9:
        size = _read(handle, 1, "the Graphic Control Extension")[0]
        if size != 4:
            raise _Damage("bad_graphic_control", f"The Graphic Control Extension at offset {offset:,} declares a "
                          f"{size}-byte block; expected 4.", offset + 2)  # fmt: skip
        _read(handle, 4, "the Graphic Control Extension")
        _sub_blocks(handle, budget, name)
    elif label == 0xFE:
        text = _sub_blocks(handle, budget, name, keep=MAX_COMMENT_BYTES)
        result.comments.append(clip_text(decode_text(text, "latin-1"), 4096))
    elif label == 0xFF:
        identifier = _sub_blocks(handle, budget, name, keep=11)
        result.applications.append(decode_text(identifier, "latin-1"))
        name = f"{name} {decode_text(identifier, 'latin-1')}"
    else:
        _sub_blocks(handle, budget, name)
    _record(result, name, offset, handle.tell() - offset)


def _image(handle, result: GifStructure, offset: int, budget: WalkBudget) -> None:
    descriptor = _read(handle, 9, "an image descriptor")
    packed = descriptor[8]
    if packed & 0x80:
        _colour_table(handle, result, packed, "a local colour table")
    code_size = _read(handle, 1, "the LZW minimum code size")[0]
    if not 1 <= code_size <= 11:
        raise _Damage("bad_lzw_code_size", f"The image at offset {offset:,} declares an LZW minimum code size of "
                      f"{code_size} at offset {handle.tell() - 1:,}; expected 1 to 11.", handle.tell() - 1)  # fmt: skip
    _sub_blocks(handle, budget, "the image data")
    result.frame_count += 1
    width, height = struct.unpack_from("<HH", descriptor, 4)
    _record(result, f"Image {width}x{height}", offset, handle.tell() - offset)


def _record(result: GifStructure, name: str, offset: int, size: int) -> None:
    result.block_count += 1
    if len(result.blocks) < MAX_RECORDED_BLOCKS:
        result.blocks.append(GifBlock(name, offset, size, 0, name))
