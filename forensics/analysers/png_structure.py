"""PNG structure from our own chunk walk: text chunks (generator parameters), eXIf, caBX, order, CRCs, trailers."""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass, field
from pathlib import Path

from .common import StructureIssue, clip_text, decode_text, read_at

PNG_PARSER_VERSION = "png-structure/1"

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
MAX_CHUNKS = 100_000
MAX_RECORDED_CHUNKS = 2000
MAX_TEXT_CHUNK_BYTES = 8 << 20  # text chunks larger than this are listed but not read
MAX_INFLATED_TEXT = 4 << 20  # cap on a zTXt/iTXt's decompressed size (zip-bomb guard)
CRC_CHECK_LIMIT = 64 << 20  # chunks larger than this are not read back for their CRC
_READ_BLOCK = 1 << 20


@dataclass
class PngChunk:
    type: str
    offset: int
    length: int
    crc_ok: bool | None


@dataclass
class PngText:
    keyword: str
    text: str
    chunk_type: str
    offset: int
    after_idat: bool
    truncated: bool = False


@dataclass
class PngStructure:
    file_size: int
    width: int | None = None
    height: int | None = None
    bit_depth: int | None = None
    color_type: int | None = None
    chunks: list[PngChunk] = field(default_factory=list)
    chunk_count: int = 0
    texts: list[PngText] = field(default_factory=list)
    exif_chunk_offset: int | None = None
    c2pa_chunk_offset: int | None = None
    chunks_after_idat: list[str] = field(default_factory=list)
    iend_end: int | None = None
    bytes_after_iend: int = 0
    crc_errors: list[int] = field(default_factory=list)
    issues: list[StructureIssue] = field(default_factory=list)
    complete: bool = False

    def text(self, keyword: str) -> str | None:
        """The first text chunk with this keyword (PNG keywords are case-sensitive)."""
        return next((item.text for item in self.texts if item.keyword == keyword), None)


def png_structure_read(path: str | Path) -> PngStructure:
    """Walk the PNG chunks without decoding pixels; never raises on malformed input."""
    path = Path(path)
    size = path.stat().st_size
    result = PngStructure(file_size=size)
    with path.open("rb") as handle:
        if read_at(handle, 0, 8) != PNG_SIGNATURE:
            result.issues.append(StructureIssue("not_png", "The file does not start with the PNG signature.", 0))
            return result
        _walk_chunks(handle, size, result)
    return result


def _walk_chunks(handle, size: int, result: PngStructure) -> None:
    position = 8
    seen_idat = False
    while position < size:
        if result.chunk_count >= MAX_CHUNKS:
            result.issues.append(StructureIssue("chunk_limit", f"Stopped after {MAX_CHUNKS} chunks.", position))
            return
        header = read_at(handle, position, 8)
        if len(header) < 8:
            result.issues.append(StructureIssue("truncated_chunk", "The file ends inside a chunk header.", position))
            return
        length, raw_type = struct.unpack(">I4s", header)
        chunk_type = raw_type.decode("latin-1")
        end = position + 12 + length
        if length > 0x7FFFFFFF or end > size:
            result.issues.append(
                StructureIssue(
                    "truncated_chunk",
                    f"Chunk '{chunk_type}' declares {length:,} bytes, beyond the end of the file.",
                    position,
                )
            )
            return
        crc_ok = _crc_matches(handle, position, length) if length <= CRC_CHECK_LIMIT else None
        if crc_ok is False:
            result.crc_errors.append(position)
        result.chunk_count += 1
        if len(result.chunks) < MAX_RECORDED_CHUNKS:
            result.chunks.append(PngChunk(chunk_type, position, length, crc_ok))
        if chunk_type == "IDAT":
            seen_idat = True
        elif seen_idat and chunk_type != "IEND" and chunk_type not in result.chunks_after_idat:
            result.chunks_after_idat.append(chunk_type)
        _interpret_chunk(handle, result, chunk_type, position, length, seen_idat)
        position = end
        if chunk_type == "IEND":
            result.iend_end = end
            result.bytes_after_iend = size - end
            result.complete = True
            return
    result.issues.append(StructureIssue("no_iend", "The file ends without an IEND chunk.", size))


def _crc_matches(handle, position: int, length: int) -> bool:
    crc = 0
    remaining = length + 4  # the CRC covers the type and the data
    handle.seek(position + 4)
    while remaining:
        block = handle.read(min(_READ_BLOCK, remaining))
        if not block:
            return False
        crc = zlib.crc32(block, crc)
        remaining -= len(block)
    stored = handle.read(4)
    return len(stored) == 4 and struct.unpack(">I", stored)[0] == crc


def _interpret_chunk(
    handle, result: PngStructure, chunk_type: str, position: int, length: int, after_idat: bool
) -> None:
    data_offset = position + 8
    if chunk_type == "IHDR" and length >= 13:
        result.width, result.height, result.bit_depth, result.color_type = struct.unpack(
            ">IIBB", read_at(handle, data_offset, 10)
        )
    elif chunk_type == "eXIf" and result.exif_chunk_offset is None:
        result.exif_chunk_offset = position
    elif chunk_type == "caBX" and result.c2pa_chunk_offset is None:
        result.c2pa_chunk_offset = position
    elif chunk_type in ("tEXt", "zTXt", "iTXt"):
        if length > MAX_TEXT_CHUNK_BYTES:
            result.issues.append(
                StructureIssue("text_chunk_too_large", f"{chunk_type} chunk of {length:,} bytes not read.", position)
            )
            return
        text = _decode_text_chunk(chunk_type, read_at(handle, data_offset, length), position, after_idat)
        if text is None:
            result.issues.append(StructureIssue("bad_text_chunk", f"A {chunk_type} chunk is malformed.", position))
            return
        result.texts.append(text)
        if text.truncated:
            result.issues.append(
                StructureIssue(
                    "decompression_bomb",
                    f"A {chunk_type} chunk of {length:,} bytes inflates to more than {MAX_INFLATED_TEXT:,} bytes; "
                    "only that much was read.",
                    position,
                )
            )


def _decode_text_chunk(chunk_type: str, data: bytes, position: int, after_idat: bool) -> PngText | None:
    keyword, separator, rest = data.partition(b"\x00")
    if not separator:
        return None
    truncated = False
    if chunk_type == "tEXt":
        raw, encoding = rest, "latin-1"
    elif chunk_type == "zTXt":
        raw, truncated = _inflate_bounded(rest[1:])
        encoding = "latin-1"
    else:
        if len(rest) < 2:
            return None
        compressed = rest[0] == 1
        # iTXt: compression flag, method, language tag\0, translated keyword\0, text
        _, _, after_language = rest[2:].partition(b"\x00")
        _, _, body = after_language.partition(b"\x00")
        raw, truncated = _inflate_bounded(body) if compressed else (body, False)
        encoding = "utf-8"
    if raw is None:
        return None
    return PngText(
        keyword=decode_text(keyword, "latin-1"),
        text=clip_text(decode_text(raw, encoding)),
        chunk_type=chunk_type,
        offset=position,
        after_idat=after_idat,
        truncated=truncated,
    )


def _inflate_bounded(compressed: bytes) -> tuple[bytes | None, bool]:
    """Decompress at most MAX_INFLATED_TEXT bytes; report whether output was cut."""
    inflater = zlib.decompressobj()
    try:
        output = inflater.decompress(compressed, MAX_INFLATED_TEXT)
    except zlib.error:
        return None, False
    return output, bool(inflater.unconsumed_tail)
