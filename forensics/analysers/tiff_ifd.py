"""A small bounded reader for TIFF-structured blocks (EXIF APP1, MPF APP2, PNG eXIf) held in memory."""

from __future__ import annotations

import struct
from dataclasses import dataclass

MAX_IFD_ENTRIES = 1000
# Bytes per value of each TIFF field type (TIFF 6.0 section 2, plus IFD type 13).
TYPE_SIZES = {1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8, 13: 4}


@dataclass(frozen=True)
class IfdEntry:
    tag: int
    type: int
    count: int
    data: bytes  # the raw value bytes, read from the entry itself or from the offset it points to


@dataclass(frozen=True)
class Ifd:
    entries: dict[int, IfdEntry]
    next_offset: int


# Raw formats that are TIFF with their own magic number: Panasonic RW2 and Olympus ORF.
RAW_TIFF_HEADERS = {b"IIU\x00": "<", b"IIRO": "<", b"IIRS": "<", b"MMOR": ">"}


def tiff_byte_order(block: bytes, *, raw_variants: bool = False) -> str | None:
    """ "<" or ">" for a valid TIFF header at the start of `block` (with `raw_variants`, also the RW2 and ORF
    headers), else None."""
    if block[:4] == b"II*\x00":
        return "<"
    if block[:4] == b"MM\x00*":
        return ">"
    return RAW_TIFF_HEADERS.get(bytes(block[:4])) if raw_variants else None


def first_ifd_offset(block: bytes, order: str) -> int:
    return struct.unpack_from(order + "I", block, 4)[0] if len(block) >= 8 else 0


def read_ifd(block: bytes, offset: int, order: str) -> Ifd | None:
    """Parse the IFD at `offset` (relative to the TIFF header); None if it lies outside the block."""
    if offset < 8 or offset + 2 > len(block):
        return None
    (count,) = struct.unpack_from(order + "H", block, offset)
    count = min(count, MAX_IFD_ENTRIES)
    entries: dict[int, IfdEntry] = {}
    position = offset + 2
    for _ in range(count):
        if position + 12 > len(block):
            break
        tag, kind, number = struct.unpack_from(order + "HHI", block, position)
        size = TYPE_SIZES.get(kind, 1) * number
        if size <= 4:
            data = block[position + 8 : position + 8 + size]
        else:
            (pointer,) = struct.unpack_from(order + "I", block, position + 8)
            data = block[pointer : pointer + size] if pointer + size <= len(block) else b""
        entries.setdefault(tag, IfdEntry(tag=tag, type=kind, count=number, data=data))
        position += 12
    next_offset = struct.unpack_from(order + "I", block, position)[0] if position + 4 <= len(block) else 0
    return Ifd(entries=entries, next_offset=next_offset)


def value_size(entry: IfdEntry) -> int:
    """How many bytes the entry's value takes: its type's size times its count (a short `data` means the value
    lay outside the block)."""
    return TYPE_SIZES.get(entry.type, 1) * entry.count


def entry_int(entry: IfdEntry | None, order: str) -> int | None:
    """The first value of a SHORT or LONG entry, or None."""
    if entry is None:
        return None
    if entry.type == 3 and len(entry.data) >= 2:
        return struct.unpack_from(order + "H", entry.data)[0]
    if entry.type in (4, 9, 13) and len(entry.data) >= 4:
        return struct.unpack_from(order + "I", entry.data)[0]
    return None
