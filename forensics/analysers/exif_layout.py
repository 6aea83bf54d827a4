"""How an EXIF block is laid out: whether every IFD, value, sub-IFD and the thumbnail sit exactly where a metadata
rewriter (ExifTool, libexif-style writers) puts them, or where camera firmware left its own order and reserved
space. Camera firmware writes fixed layouts with spare bytes and its own ordering; a program that rewrites the EXIF
(to edit a date, GPS position, Orientation or Model, or to drop the thumbnail) serialises the tree afresh."""

from __future__ import annotations

import struct
from dataclasses import dataclass

from .tiff_ifd import MAX_IFD_ENTRIES, TYPE_SIZES, first_ifd_offset, tiff_byte_order

_SUB_IFDS = {0x8769: "ExifIFD", 0x8825: "GPS", 0xA005: "InteropIFD"}
_MAX_IFDS = 8
# Values start on even offsets in TIFF, so one byte between regions is alignment, not reserved space.
_ALIGNMENT = 1


@dataclass(frozen=True)
class ExifLayout:
    """`serialised` is True when the block is the tree written out depth-first with nothing in between: each IFD's
    entry table, then its values in entry order, then its sub-IFDs, then IFD1 and the thumbnail, no spare byte.
    `deviation` says where a block that is not so first departs from that order (for the finding's evidence)."""

    serialised: bool
    regions: int
    deviation: str | None


@dataclass(frozen=True)
class _Region:
    start: int
    end: int
    name: str


def exif_layout(block: bytes) -> ExifLayout | None:
    """The layout of a TIFF-structured EXIF block (the APP1 payload after "Exif\\0\\0"); None when it has no
    readable IFD0."""
    order = tiff_byte_order(block)
    if order is None:
        return None
    regions: list[_Region] = []
    visited: set[int] = set()
    ifd0_next = _walk(block, order, "IFD0", first_ifd_offset(block, order), regions, visited)
    if ifd0_next is None:
        return None
    if ifd0_next:
        _walk(block, order, "IFD1", ifd0_next, regions, visited)
    return _judge(block, regions)


def _walk(block: bytes, order: str, name: str, offset: int, regions: list[_Region], visited: set[int]) -> int | None:
    """Append the regions of the IFD at `offset` and its sub-IFDs in serialisation order; return its next-IFD
    offset, or None when there is no IFD there."""
    if offset < 8 or offset + 2 > len(block) or offset in visited or len(visited) >= _MAX_IFDS:
        return None
    visited.add(offset)
    (count,) = struct.unpack_from(order + "H", block, offset)
    count = min(count, MAX_IFD_ENTRIES)
    table_end = offset + 2 + 12 * count + 4
    if table_end > len(block):
        return None
    regions.append(_Region(offset, table_end, name))
    children: list[tuple[str, int]] = []
    thumbnail: list[int] = []
    for index in range(count):
        position = offset + 2 + 12 * index
        tag, kind, number = struct.unpack_from(order + "HHI", block, position)
        (value,) = struct.unpack_from(order + "I", block, position + 8)
        if tag in _SUB_IFDS:
            children.append((_SUB_IFDS[tag], value))
            continue
        if name == "IFD1" and tag in (0x0201, 0x0202):
            thumbnail.append(value)
        size = TYPE_SIZES.get(kind, 1) * number
        if size > 4:
            regions.append(_Region(value, value + size, f"{name}:0x{tag:04X}"))
    for child_name, child_offset in children:
        _walk(block, order, child_name, child_offset, regions, visited)
    if len(thumbnail) == 2 and thumbnail[1]:
        regions.append(_Region(thumbnail[0], thumbnail[0] + thumbnail[1], "ThumbnailImage"))
    (next_offset,) = struct.unpack_from(order + "I", block, table_end - 4)
    return next_offset


def _judge(block: bytes, regions: list[_Region]) -> ExifLayout:
    in_file_order = sorted(regions, key=lambda region: (region.start, region.end))
    for written, found in zip(regions, in_file_order, strict=True):
        if written != found:
            return ExifLayout(False, len(regions), f"{found.name} at {found.start} comes before {written.name}")
    position = 8
    for region in regions:
        if region.start - position > _ALIGNMENT:
            return ExifLayout(
                False, len(regions), f"{region.start - position} spare bytes before {region.name} at {region.start}"
            )
        if region.start < position:
            return ExifLayout(False, len(regions), f"{region.name} at {region.start} overlaps the region before it")
        position = region.end
    tail = block[position:]
    if position % 2 and tail[:1] == b"\x00":
        tail = tail[1:]  # the word alignment ExifTool puts before what it moves behind a tree ending on an odd offset
    if len(tail) > _ALIGNMENT and not _is_jpeg_stream(tail):
        return ExifLayout(False, len(regions), f"{len(block) - position} spare bytes after the last region")
    return ExifLayout(True, len(regions) + (len(tail) > _ALIGNMENT), None)


def _is_jpeg_stream(data: bytes) -> bool:
    """A whole JPEG image: ExifTool moves a maker note's preview image (Nikon's, Canon's) to the end of the EXIF
    block when it rewrites it, after the thumbnail, where no IFD of the main tree points. Minolta and Sony firmware
    write the preview's first byte as something other than 0xFF (ExifTool looks for "?\\xd8\\xff\\xdb" there) and
    may pad it with zero bytes."""
    starts = data.startswith(b"\xff\xd8\xff") or data[1:4] == b"\xd8\xff\xdb"
    return starts and (data.rstrip(b"\x00")[-2:] == b"\xff\xd9" or data[-3:-1] == b"\xff\xd9")
