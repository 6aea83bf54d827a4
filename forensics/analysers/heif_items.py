"""HEIF/AVIF item tables from our own walk of the file-level 'meta' box: the items 'iinf' declares, where 'iloc'
puts their data, how 'iref' links them (thumbnails, EXIF, auxiliary images, grid tiles), which properties 'ipma'
gives each from 'ipco', and which item 'pitm' makes primary.

Each damage issue names the offset of the box or entry and what was expected there. The walk reads only the
'meta' box and, for an EXIF item, the first bytes of its data; it is bounded in boxes, entries, extents and
references, and where it stops at one of those limits it says so (a `walk_limit` issue, not damage), and draws no
conclusion from what it did not read."""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from typing import BinaryIO

from .common import StructureIssue, clip_text, decode_text, read_at

# 2: the walk's limits reported as walk_limit issues (1 stopped silently, or called the rest damage).
HEIF_PARSER_VERSION = "heif-items/2"

MAX_META_READ = 8 << 20  # a camera's meta box is tens of KiB; one with 8 MiB of item tables is not read
MAX_ITEMS = 4096  # child boxes, item entries, property associations; a 48 MP grid image has a few hundred tiles
MAX_EXTENTS = 16_384
MAX_REFERENCES = 16_384
# Item types whose data is coded in the file and therefore needs a location in 'iloc'.
_CODED_TYPES = {"hvc1", "av01", "jpeg", "avc1", "grid", "iovl", "Exif", "mime", "unci", "j2k1", "vvc1"}
_IMAGE_TYPES = {"hvc1", "av01", "jpeg", "avc1", "grid", "iovl", "iden", "unci", "j2k1", "vvc1"}
_TIFF_HEADERS = (b"II*\x00", b"MM\x00*")


@dataclass
class HeifExtent:
    offset: int  # in the file (construction method 0), or inside 'idat' (method 1)
    length: int  # 0 means "to the end of the source", as ISO/IEC 14496-12 allows


@dataclass
class HeifItem:
    item_id: int
    item_type: str
    name: str = ""
    content_type: str | None = None
    hidden: bool = False
    construction_method: int | None = None
    extents: list[HeifExtent] = field(default_factory=list)
    properties: list[str] = field(default_factory=list)
    width: int | None = None
    height: int | None = None
    role: str | None = None  # primary, thumbnail, exif, xmp, auxiliary, tile, derived
    references: dict[str, list[int]] = field(default_factory=dict)  # reference type -> item ids this item points to

    @property
    def data_length(self) -> int:
        return sum(extent.length for extent in self.extents)


@dataclass
class HeifItems:
    meta_offset: int
    handler: str | None = None
    primary_item_id: int | None = None
    items: list[HeifItem] = field(default_factory=list)
    property_types: list[str] = field(default_factory=list)
    idat_offset: int | None = None
    idat_size: int | None = None
    exif_header_offset: int | None = None  # where the EXIF item's TIFF header starts, when found
    issues: list[StructureIssue] = field(default_factory=list)

    @property
    def damage(self) -> list[StructureIssue]:
        return [issue for issue in self.issues if not issue.walk_limit]

    def item(self, item_id: int | None) -> HeifItem | None:
        return next((item for item in self.items if item.item_id == item_id), None)

    @property
    def thumbnail_item_ids(self) -> list[int]:
        return [item.item_id for item in self.items if item.role == "thumbnail"]

    @property
    def exif_item_id(self) -> int | None:
        return next((item.item_id for item in self.items if item.role == "exif"), None)


class _Short(Exception):
    """A field runs past the end of its box."""


class _Reader:
    """Big-endian fields from one box body, raising _Short instead of reading past it."""

    def __init__(self, data: bytes, position: int = 0) -> None:
        self.data = data
        self.position = position

    def uint(self, size: int) -> int:
        if size == 0:
            return 0
        if self.position + size > len(self.data):
            raise _Short
        value = int.from_bytes(self.data[self.position : self.position + size], "big")
        self.position += size
        return value

    def text(self) -> str:
        end = self.data.find(b"\x00", self.position)
        if end < 0:
            end = len(self.data)
        value = decode_text(self.data[self.position : end])
        self.position = min(end + 1, len(self.data))
        return clip_text(value, 256)

    @property
    def remaining(self) -> int:
        return len(self.data) - self.position


def heif_items_read(handle: BinaryIO, meta_offset: int, meta_size: int, file_size: int) -> HeifItems:
    """The item tables of the 'meta' box at `meta_offset`; never raises on malformed input."""
    result = HeifItems(meta_offset=meta_offset)
    header = read_at(handle, meta_offset, 16)
    header_size = 16 if header[:4] == b"\x00\x00\x00\x01" else 8
    if meta_size > MAX_META_READ:
        _stopped(result, f"Not read: the 'meta' box is {meta_size:,} bytes, over {MAX_META_READ:,}.", meta_offset)
        return result
    body = read_at(handle, meta_offset + header_size, meta_size - header_size)
    # Children start after the full-box version and flags; their offsets are kept absolute for the findings.
    children = _children(body, 4, meta_offset + header_size, result)
    if _limit_reached(result, 0):
        return result  # a box the walk did not reach may hold any table: no table can be said missing
    by_type: dict[str, list[tuple[int, bytes]]] = {}
    for box_type, offset, box_body in children:
        by_type.setdefault(box_type, []).append((offset, box_body))
    _read_handler(result, by_type)
    if "iinf" not in by_type and "iloc" not in by_type and "pitm" not in by_type:
        return result  # a 'meta' box without items (a QuickTime-style metadata box, say): nothing to check
    _read_items(result, by_type)
    _read_primary(result, by_type)
    _read_locations(result, by_type, file_size)
    _read_references(result, by_type)
    _read_properties(result, by_type)
    _check_items(result)
    _check_exif(result, handle)
    return result


def _children(body: bytes, start: int, base: int, result: HeifItems) -> list[tuple[str, int, bytes]]:
    """Child boxes of a box body as (type, absolute offset, body); a size that does not fit is reported, and so is
    the walk's stop after MAX_ITEMS boxes."""
    children = []
    position = start
    while position + 8 <= len(body):
        if len(children) == MAX_ITEMS:
            _stopped(result, f"Stopped after {MAX_ITEMS:,} boxes.", base + position)
            break
        size, raw_type = struct.unpack_from(">I4s", body, position)
        header = 8
        if size == 1 and position + 16 <= len(body):
            size = struct.unpack_from(">Q", body, position + 8)[0]
            header = 16
        elif size == 0:
            size = len(body) - position
        box_type = raw_type.decode("latin-1")
        if size < header or position + size > len(body):
            result.issues.append(
                StructureIssue(
                    "heif_box_overrun",
                    f"Box '{box_type}' at offset {base + position:,} declares {size:,} bytes; at most "
                    f"{len(body) - position:,} were expected, the rest of its parent.",
                    base + position,
                )
            )
            break
        children.append((box_type, base + position, body[position + header : position + size]))
        position += size
    return children


def _stopped(result: HeifItems, message: str, offset: int) -> None:
    result.issues.append(StructureIssue("walk_limit", f"Item tables: {message}", offset))


def _limit_reached(result: HeifItems, since: int) -> bool:
    """Whether the walk stopped at a limit after the first `since` issues were recorded."""
    return any(issue.walk_limit for issue in result.issues[since:])


def _single(result: HeifItems, by_type: dict, box_type: str) -> tuple[int, bytes] | None:
    boxes = by_type.get(box_type) or []
    if len(boxes) > 1:
        result.issues.append(
            StructureIssue(
                "heif_duplicate_box",
                f"The 'meta' box holds {len(boxes)} '{box_type}' boxes (at offsets "
                f"{', '.join(f'{offset:,}' for offset, _ in boxes[:4])}); exactly one was expected.",
                boxes[1][0],
            )
        )
    return boxes[0] if boxes else None


def _read_handler(result: HeifItems, by_type: dict) -> None:
    if found := _single(result, by_type, "hdlr"):
        result.handler = found[1][8:12].decode("latin-1") if len(found[1]) >= 12 else None


def _short(result: HeifItems, box_type: str, offset: int, what: str) -> None:
    result.issues.append(
        StructureIssue(
            "heif_short_box",
            f"The '{box_type}' box at offset {offset:,} ends inside {what}; the box was expected to hold it.",
            offset,
        )
    )


def _read_items(result: HeifItems, by_type: dict) -> None:
    found = _single(result, by_type, "iinf")
    if found is None:
        result.issues.append(
            StructureIssue(
                "heif_no_iinf",
                f"The 'meta' box at offset {result.meta_offset:,} has item locations or a primary item but no "
                "item information box ('iinf') declaring the items.",
                result.meta_offset,
            )
        )
        return
    offset, body = found
    reader = _Reader(body)
    try:
        version = reader.uint(1)
        reader.uint(3)
        declared = reader.uint(2 if version == 0 else 4)
    except _Short:
        _short(result, "iinf", offset, "its entry count")
        return
    before = len(result.issues)
    entries = [child for child in _children(body, reader.position, offset + 8, result) if child[0] == "infe"]
    if declared != len(entries) and not _limit_reached(result, before):
        result.issues.append(
            StructureIssue(
                "heif_item_count",
                f"The 'iinf' box at offset {offset:,} declares {declared:,} items but holds {len(entries):,} "
                "'infe' entries.",
                offset,
            )
        )
    seen: set[int] = set()
    for _, entry_offset, entry in entries:
        item = _item_entry(result, entry_offset, entry)
        if item is None:
            continue
        if item.item_id in seen:
            result.issues.append(
                StructureIssue(
                    "heif_duplicate_item",
                    f"Item {item.item_id} is declared again by the 'infe' at offset {entry_offset:,}; item IDs "
                    "were expected to be unique.",
                    entry_offset,
                )
            )
            continue
        seen.add(item.item_id)
        result.items.append(item)


def _item_entry(result: HeifItems, offset: int, body: bytes) -> HeifItem | None:
    reader = _Reader(body)
    try:
        version = reader.uint(1)
        flags = reader.uint(3)
        if version >= 2:
            item_id = reader.uint(2 if version == 2 else 4)
            reader.uint(2)  # protection index
            item_type = reader.data[reader.position : reader.position + 4].decode("latin-1")
            reader.uint(4)
            item = HeifItem(item_id, item_type, name=reader.text(), hidden=bool(flags & 1))
            if item_type == "mime" and reader.remaining:
                item.content_type = reader.text()
            return item
        item_id = reader.uint(2)
        reader.uint(2)
        item = HeifItem(item_id, "", name=reader.text())
        if reader.remaining:
            item.content_type = reader.text()
            item.item_type = "mime"
        return item
    except _Short:
        _short(result, "infe", offset, "its item ID and type")
        return None


def _read_primary(result: HeifItems, by_type: dict) -> None:
    found = _single(result, by_type, "pitm")
    if found is None:
        result.issues.append(
            StructureIssue(
                "heif_no_primary",
                f"The 'meta' box at offset {result.meta_offset:,} names no primary item: a 'pitm' box was expected.",
                result.meta_offset,
            )
        )
        return
    offset, body = found
    reader = _Reader(body)
    try:
        version = reader.uint(1)
        reader.uint(3)
        result.primary_item_id = reader.uint(2 if version == 0 else 4)
    except _Short:
        _short(result, "pitm", offset, "the primary item ID")
        return
    if reader.remaining:
        result.issues.append(
            StructureIssue(
                "heif_box_length",
                f"The 'pitm' box at offset {offset:,} has {reader.remaining} bytes after the primary item ID; "
                "it was expected to end there.",
                offset,
            )
        )
    primary = result.item(result.primary_item_id)
    if primary is None:
        result.issues.append(
            StructureIssue(
                "heif_unknown_primary",
                f"The primary item named at offset {offset:,} is item {result.primary_item_id}, which 'iinf' "
                "does not declare.",
                offset,
            )
        )
    else:
        primary.role = "primary"


def _read_locations(result: HeifItems, by_type: dict, file_size: int) -> None:
    if idat := _single(result, by_type, "idat"):
        result.idat_offset, result.idat_size = idat[0], len(idat[1])
    found = _single(result, by_type, "iloc")
    if found is None:
        if result.items:
            result.issues.append(
                StructureIssue(
                    "heif_no_iloc",
                    f"The 'meta' box at offset {result.meta_offset:,} declares {len(result.items)} items but no "
                    "item location box ('iloc') saying where their data is.",
                    result.meta_offset,
                )
            )
        return
    offset, body = found
    reader = _Reader(body)
    located: set[int] = set()
    extents = 0
    try:
        version = reader.uint(1)
        reader.uint(3)
        sizes = reader.uint(2)
        offset_size, length_size = sizes >> 12, (sizes >> 8) & 0xF
        base_offset_size, index_size = (sizes >> 4) & 0xF, sizes & 0xF if version in (1, 2) else 0
        for name, value in (("offset", offset_size), ("length", length_size), ("base offset", base_offset_size)):
            if value not in (0, 4, 8):
                result.issues.append(
                    StructureIssue(
                        "heif_iloc_field_size",
                        f"The 'iloc' box at offset {offset:,} gives its {name} fields {value} bytes; 0, 4 or 8 "
                        "were expected.",
                        offset,
                    )
                )
                return
        count = reader.uint(2 if version < 2 else 4)
        for number in range(count):
            entry_at = offset + 8 + reader.position
            if number == MAX_ITEMS:
                _stopped(result, f"Stopped after {MAX_ITEMS:,} 'iloc' entries.", entry_at)
                return
            item_id = reader.uint(2 if version < 2 else 4)
            method = reader.uint(2) & 0xF if version in (1, 2) else 0
            data_reference = reader.uint(2)
            base = reader.uint(base_offset_size)
            item_extents = []
            for _ in range(reader.uint(2)):
                extents += 1
                if extents > MAX_EXTENTS:
                    _stopped(result, f"Stopped after {MAX_EXTENTS:,} 'iloc' extents.", entry_at)
                    return
                reader.uint(index_size)
                item_extents.append(HeifExtent(base + reader.uint(offset_size), reader.uint(length_size)))
            _place(result, item_id, method, data_reference, item_extents, entry_at, file_size)
            located.add(item_id)
    except _Short:
        _short(result, "iloc", offset, "an item's location entry")
        return
    if reader.remaining:
        result.issues.append(
            StructureIssue(
                "heif_box_length",
                f"The 'iloc' box at offset {offset:,} has {reader.remaining:,} bytes after its last entry; it "
                f"was expected to end at offset {offset + 8 + reader.position:,}.",
                offset + 8 + reader.position,
            )
        )
    for item in result.items:
        if item.item_id not in located and item.item_type in _CODED_TYPES:
            result.issues.append(
                StructureIssue(
                    "heif_item_without_data",
                    f"Item {item.item_id} ('{item.item_type}') has no entry in the 'iloc' box at offset "
                    f"{offset:,}; a location for its data was expected.",
                    offset,
                )
            )


def _place(
    result: HeifItems,
    item_id: int,
    method: int,
    data_reference: int,
    extents: list[HeifExtent],
    entry_at: int,
    file_size: int,
) -> None:
    item = result.item(item_id)
    if item is None:
        result.issues.append(
            StructureIssue(
                "heif_unknown_item",
                f"The location entry at offset {entry_at:,} is for item {item_id}, which 'iinf' does not declare.",
                entry_at,
            )
        )
        return
    item.construction_method, item.extents = method, extents
    if data_reference != 0:
        # Index 0 means "this file"; HEIF images do not point into other files.
        result.issues.append(
            StructureIssue(
                "heif_external_data",
                f"Item {item_id}'s location at offset {entry_at:,} uses data reference {data_reference}; 0 (this "
                "file) was expected.",
                entry_at,
            )
        )
        return
    if method == 0:
        source, source_end = "the file", file_size
    elif method == 1:
        source, source_end = "the 'idat' box", result.idat_size
        if source_end is None:
            result.issues.append(
                StructureIssue(
                    "heif_no_idat",
                    f"Item {item_id}'s location at offset {entry_at:,} points into an 'idat' box, which the 'meta' "
                    "box does not have.",
                    entry_at,
                )
            )
            return
    elif method == 2:
        return  # data taken from another item: its own extents are checked
    else:
        result.issues.append(
            StructureIssue(
                "heif_construction_method",
                f"Item {item_id}'s location at offset {entry_at:,} uses construction method {method}; 0, 1 or 2 "
                "was expected.",
                entry_at,
            )
        )
        return
    for extent in extents:
        if extent.offset + extent.length > source_end or (extent.length == 0 and extent.offset >= source_end):
            result.issues.append(
                StructureIssue(
                    "heif_extent_outside",
                    f"Item {item_id} ('{item.item_type}') has {extent.length:,} bytes at offset "
                    f"{extent.offset:,} of {source}, which is {source_end:,} bytes long; the data was expected "
                    "to lie inside it.",
                    entry_at,
                )
            )
            return


def _read_references(result: HeifItems, by_type: dict) -> None:
    found = _single(result, by_type, "iref")
    if found is None:
        return
    offset, body = found
    if not body:
        _short(result, "iref", offset, "its version")
        return
    id_size = 2 if body[0] == 0 else 4
    references = 0
    for kind, entry_at, entry in _children(body, 4, offset + 8, result):
        reader = _Reader(entry)
        try:
            source = reader.uint(id_size)
            targets = [reader.uint(id_size) for _ in range(reader.uint(2))]
        except _Short:
            _short(result, kind, entry_at, "its item IDs")
            continue
        references += len(targets)
        if references > MAX_REFERENCES:
            _stopped(result, f"Stopped after {MAX_REFERENCES:,} 'iref' references.", entry_at)
            return
        unknown = [item_id for item_id in (source, *targets) if result.item(item_id) is None]
        if unknown:
            result.issues.append(
                StructureIssue(
                    "heif_reference_unknown",
                    f"The '{kind}' reference at offset {entry_at:,} links item {source} to "
                    f"{', '.join(map(str, targets[:8]))}; item {unknown[0]} is not declared in 'iinf'.",
                    entry_at,
                )
            )
            continue
        item = result.item(source)
        item.references.setdefault(kind, []).extend(targets)
        _assign_role(result, item, kind, targets)


def _assign_role(result: HeifItems, item: HeifItem, kind: str, targets: list[int]) -> None:
    if item.role == "primary":
        if kind == "dimg":
            for target in targets:
                result.item(target).role = result.item(target).role or "tile"
        return
    if kind == "thmb":
        item.role = "thumbnail"
    elif kind == "auxl":
        item.role = "auxiliary"
    elif kind == "cdsc":
        item.role = "exif" if item.item_type == "Exif" else "xmp" if "xmp" in (item.content_type or "") else "metadata"
    elif kind == "dimg":
        item.role = item.role or "derived"


def _read_properties(result: HeifItems, by_type: dict) -> None:
    found = _single(result, by_type, "iprp")
    if found is None:
        if any(item.item_type in _IMAGE_TYPES for item in result.items):
            result.issues.append(
                StructureIssue(
                    "heif_no_properties",
                    f"The 'meta' box at offset {result.meta_offset:,} declares image items but no item property "
                    "box ('iprp') with their sizes and decoder configurations.",
                    result.meta_offset,
                )
            )
        return
    offset, body = found
    groups = {kind: (at, child) for kind, at, child in _children(body, 0, offset + 8, result)}
    container = groups.get("ipco")
    before = len(result.issues)
    properties = _children(container[1], 0, container[0] + 8, result) if container else []
    all_read = not _limit_reached(result, before)
    result.property_types = [kind for kind, _, _ in properties]
    if "ipma" not in groups:
        return
    ipma_at, ipma = groups["ipma"]
    reader = _Reader(ipma)
    try:
        version = reader.uint(1)
        flags = reader.uint(3)
        for number in range(reader.uint(4)):
            entry_at = ipma_at + 8 + reader.position
            if number == MAX_ITEMS:
                _stopped(result, f"Stopped after {MAX_ITEMS:,} 'ipma' entries.", entry_at)
                return
            item_id = reader.uint(2 if version < 1 else 4)
            indexes = [
                reader.uint(2 if flags & 1 else 1) & (0x7FFF if flags & 1 else 0x7F) for _ in range(reader.uint(1))
            ]
            _associate(result, item_id, indexes, properties, entry_at, all_read=all_read)
    except _Short:
        _short(result, "ipma", ipma_at, "an item's property associations")


def _associate(
    result: HeifItems, item_id: int, indexes: list[int], properties: list, entry_at: int, *, all_read: bool
) -> None:
    """Give the item the properties its association names. When the walk stopped before the end of 'ipco'
    (`all_read` false), an index past what was read is no finding: the property may well be there."""
    item = result.item(item_id)
    if item is None:
        result.issues.append(
            StructureIssue(
                "heif_unknown_item",
                f"The property associations at offset {entry_at:,} are for item {item_id}, which 'iinf' does not "
                "declare.",
                entry_at,
            )
        )
        return
    for index in indexes:
        if index == 0:
            continue  # "no property"
        if index > len(properties):
            if not all_read:
                return
            result.issues.append(
                StructureIssue(
                    "heif_property_index",
                    f"Item {item_id}'s association at offset {entry_at:,} names property {index}; the 'ipco' box "
                    f"holds {len(properties)}.",
                    entry_at,
                )
            )
            return
        kind, _, body = properties[index - 1]
        item.properties.append(kind)
        if kind == "ispe" and len(body) >= 12:
            item.width, item.height = struct.unpack_from(">II", body, 4)


def _check_items(result: HeifItems) -> None:
    primary = result.item(result.primary_item_id)
    if (
        primary is not None
        and primary.item_type in _IMAGE_TYPES
        and result.property_types
        and "ispe" not in primary.properties
    ):
        result.issues.append(
            StructureIssue(
                "heif_primary_without_size",
                f"The primary item {primary.item_id} ('{primary.item_type}') has no image size property ('ispe'); "
                "every image item was expected to have one.",
                result.meta_offset,
            )
        )
    for item in result.items:
        if item.role is None and item.item_type == "Exif":
            item.role = "exif"  # an EXIF item not linked by 'cdsc' still holds the file's EXIF


def _check_exif(result: HeifItems, handle: BinaryIO) -> None:
    """The EXIF item starts with the offset of its TIFF header (ISO/IEC 23008-12 A.2.1); the header must be there."""
    item = result.item(result.exif_item_id)
    if item is None or item.construction_method != 0 or not item.extents:
        return
    extent = item.extents[0]
    if extent.length == 0 and len(item.extents) == 1:
        # Zero means "to the end of the file" in ISO/IEC 14496-12; ExifTool leaves this when it deletes the EXIF.
        result.issues.append(
            StructureIssue(
                "heif_exif_emptied",
                f"The EXIF item {item.item_id} has a zero-length extent at offset {extent.offset:,}, which means "
                "'to the end of the file', where an EXIF block with its length was expected (ExifTool leaves this "
                "when it deletes the EXIF data).",
                extent.offset,
            )
        )
        return
    head = read_at(handle, extent.offset, 4)
    if len(head) < 4:
        return  # already reported as outside the file
    skip = int.from_bytes(head, "big")
    header_at = extent.offset + 4 + skip
    if skip < max(extent.length, 4096) and read_at(handle, header_at, 4) in _TIFF_HEADERS:
        result.exif_header_offset = header_at
        return
    result.issues.append(
        StructureIssue(
            "heif_exif_header",
            f"The EXIF item {item.item_id} at offset {extent.offset:,} points to offset {header_at:,} for its TIFF "
            "header, where 'II*\\0' or 'MM\\0*' was expected.",
            extent.offset,
        )
    )
