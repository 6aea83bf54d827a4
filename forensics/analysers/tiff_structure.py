"""TIFF/DNG structure from our own IFD walk: the IFD chain and the IFDs it points to (EXIF, GPS, interoperability,
SubIFDs), each IFD and value inside the file, no IFD visited twice, and the strips, tiles and JPEG thumbnail of
every image inside the file.

Every damage issue names the offset and what was expected there, so a finding can quote both."""

from __future__ import annotations

import mmap
import struct
import time
from dataclasses import dataclass, field
from pathlib import Path

from .common import StructureIssue
from .tiff_ifd import Ifd, IfdEntry, entry_int, first_ifd_offset, read_ifd, tiff_byte_order, value_size

TIFF_PARSER_VERSION = "tiff-structure/1"

MAX_IFDS = 256
MAX_DEPTH = 4
MAX_STRIPS = 100_000  # strip or tile offsets checked per IFD
WALK_SECONDS = 5.0  # see riff_structure.WALK_SECONDS

_POINTERS = {0x8769: "ExifIFD", 0x8825: "GPSIFD", 0xA005: "InteropIFD", 0x014A: "SubIFD"}
_AREAS = ((0x0111, 0x0117, "strip"), (0x0144, 0x0145, "tile"))
_THUMBNAIL = (0x0201, 0x0202)  # JPEGInterchangeFormat and its length
_TAG_NAMES = {0x0111: "StripOffsets", 0x0144: "TileOffsets", 0x0201: "JPEGInterchangeFormat", **_POINTERS}


@dataclass
class TiffIfd:
    type: str  # "IFD0", "IFD1", "ExifIFD", "SubIFD", ...
    offset: int
    size: int  # the entry table: count, 12 bytes per entry, next-IFD pointer
    depth: int
    path: str
    entry_count: int
    width: int | None = None
    height: int | None = None


@dataclass
class TiffStructure:
    file_size: int
    byte_order: str | None = None  # "II" (little-endian) or "MM"
    ifds: list[TiffIfd] = field(default_factory=list)
    issues: list[StructureIssue] = field(default_factory=list)
    complete: bool = False

    @property
    def damage(self) -> list[StructureIssue]:
        return [issue for issue in self.issues if not issue.walk_limit]


def tiff_structure_read(path: str | Path) -> TiffStructure:
    """Walk the IFDs without decoding pixels; never raises on malformed input."""
    path = Path(path)
    result = TiffStructure(file_size=path.stat().st_size)
    if result.file_size < 8:
        result.issues.append(StructureIssue("not_tiff", "Expected an 8-byte TIFF header at offset 0.", 0))
        return result
    with path.open("rb") as handle, mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as data:
        _TiffWalk(data, result).run()
    result.complete = not result.issues
    return result


class _TiffWalk:
    def __init__(self, data: mmap.mmap, result: TiffStructure) -> None:
        self.data = data
        self.result = result
        self.size = result.file_size
        self.order = "<"
        self.visited: set[int] = set()
        self.started = time.monotonic()

    def issue(self, code: str, message: str, offset: int | None) -> None:
        self.result.issues.append(StructureIssue(code, message, offset))

    def run(self) -> None:
        order = tiff_byte_order(self.data[:4], raw_variants=True)
        if order is None:
            self.issue("not_tiff", "Expected 'II*\\0' or 'MM\\0*' at offset 0.", 0)
            return
        self.order = order
        self.result.byte_order = "II" if order == "<" else "MM"
        # (offset, name, depth, parent path, where the pointer to it is, what points to it)
        pending = [(first_ifd_offset(self.data, order), "IFD0", 0, "", 4, "The header")]
        while pending:
            if len(self.result.ifds) >= MAX_IFDS or time.monotonic() - self.started > WALK_SECONDS:
                self.issue("walk_limit", f"IFD walk: stopped after {len(self.result.ifds)} IFDs.", pending[0][0])
                return
            offset, name, depth, parent, pointer_at, source = pending.pop(0)
            pending[:0] = self.ifd(offset, name, depth, parent, pointer_at, source)

    def ifd(self, offset: int, name: str, depth: int, parent: str, pointer_at: int, source: str) -> list[tuple]:
        """Check and record one IFD; return the IFDs it points to, its own children first."""
        if offset in self.visited:
            self.issue(
                "ifd_loop",
                f"{source} at offset {pointer_at:,} points {name} back to offset {offset:,}, an IFD already read; "
                "expected a new IFD or 0.",
                pointer_at,
            )
            return []
        if offset < 8 or offset + 2 > self.size:
            self.issue(
                "ifd_outside",
                f"{source} at offset {pointer_at:,} points {name} to offset {offset:,}; expected an IFD inside the "
                f"file (offsets 8 to {self.size:,}).",
                pointer_at,
            )
            return []
        self.visited.add(offset)
        (count,) = struct.unpack_from(self.order + "H", self.data, offset)
        table_end = offset + 2 + 12 * count + 4
        path = f"{parent}/{name}"
        if table_end > self.size:
            self.issue(
                "ifd_overrun",
                f"{name} at offset {offset:,} declares {count:,} entries, so its table would end at offset "
                f"{table_end:,}; expected it to end by the end of the file at offset {self.size:,}.",
                offset,
            )
            return []
        ifd = read_ifd(self.data, offset, self.order)
        record = TiffIfd(name, offset, table_end - offset, depth, path, count)
        record.width = entry_int(ifd.entries.get(0x0100), self.order)
        record.height = entry_int(ifd.entries.get(0x0101), self.order)
        self.result.ifds.append(record)
        self.values_inside(ifd, name, offset)
        self.areas_inside(ifd, name, offset)
        children = self.children(ifd, name, depth, path, offset) if depth + 1 < MAX_DEPTH else []
        if ifd.next_offset and name.startswith("IFD"):
            number = int(name[3:]) + 1
            children.append(
                (ifd.next_offset, f"IFD{number}", depth, parent, table_end - 4, f"{name}'s next-IFD pointer")
            )
        return children

    def entry_offset(self, ifd_offset: int, tag: int) -> int:
        """Where an entry sits in its IFD's table (for quoting), found by scanning the table for the tag."""
        (count,) = struct.unpack_from(self.order + "H", self.data, ifd_offset)
        for number in range(count):
            position = ifd_offset + 2 + 12 * number
            if struct.unpack_from(self.order + "H", self.data, position)[0] == tag:
                return position
        return ifd_offset

    def values_inside(self, ifd: Ifd, name: str, ifd_offset: int) -> None:
        for tag, entry in ifd.entries.items():
            size = value_size(entry)
            if size > 4 and len(entry.data) < size:
                at = self.entry_offset(ifd_offset, tag)
                (pointer,) = struct.unpack_from(self.order + "I", self.data, at + 8)
                self.issue(
                    "value_outside",
                    f"Tag 0x{tag:04X} of {name} (entry at offset {at:,}) puts its {size:,}-byte value at offset "
                    f"{pointer:,}; expected it inside the file, which ends at offset {self.size:,}.",
                    at,
                )

    def areas_inside(self, ifd: Ifd, name: str, ifd_offset: int) -> None:
        for offsets_tag, counts_tag, kind in _AREAS:
            offsets, counts = ifd.entries.get(offsets_tag), ifd.entries.get(counts_tag)
            if offsets is None:
                continue
            starts, lengths = self.ints(offsets), self.ints(counts)
            if counts is None or len(starts) != len(lengths):
                self.issue(
                    f"{kind}_count_mismatch",
                    f"{name} at offset {ifd_offset:,} lists {len(starts):,} {kind} offsets; expected as many "
                    f"{kind} byte counts, found {len(lengths):,}.",
                    self.entry_offset(ifd_offset, offsets_tag),
                )
            for number, (start, length) in enumerate(zip(starts, lengths, strict=False)):
                if start + length > self.size:
                    self.issue(
                        f"{kind}_outside",
                        f"{kind.capitalize()} {number} of {name} spans offsets {start:,} to {start + length:,}; "
                        f"expected it inside the file, which ends at offset {self.size:,}.",
                        self.entry_offset(ifd_offset, offsets_tag),
                    )
                    break
        start = entry_int(ifd.entries.get(_THUMBNAIL[0]), self.order)
        length = entry_int(ifd.entries.get(_THUMBNAIL[1]), self.order)
        if start is not None and length is not None and start + length > self.size:
            self.issue(
                "thumbnail_outside",
                f"The JPEG thumbnail of {name} spans offsets {start:,} to {start + length:,}; expected it inside "
                f"the file, which ends at offset {self.size:,}.",
                self.entry_offset(ifd_offset, _THUMBNAIL[0]),
            )

    def ints(self, entry: IfdEntry | None) -> list[int]:
        """The SHORT or LONG values of an entry, at most MAX_STRIPS of them."""
        if entry is None or entry.type not in (3, 4, 13):
            return []
        width = 2 if entry.type == 3 else 4
        count = min(entry.count, MAX_STRIPS, len(entry.data) // width)
        return list(struct.unpack_from(f"{self.order}{count}{'H' if width == 2 else 'I'}", entry.data))

    def children(self, ifd: Ifd, name: str, depth: int, path: str, ifd_offset: int) -> list[tuple]:
        found = []
        for tag, child in _POINTERS.items():
            entry = ifd.entries.get(tag)
            if entry is None:
                continue
            at = self.entry_offset(ifd_offset, tag)
            for number, offset in enumerate(self.ints(entry)[:16]):
                label = f"{child}{number}" if child == "SubIFD" else child
                found.append((offset, label, depth + 1, path, at, f"{name}'s {_TAG_NAMES[tag]} pointer"))
        return found
