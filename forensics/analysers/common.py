"""Shared building blocks for the analysers: structural issues, bounded file reads and JSON conversion."""

from __future__ import annotations

import base64
import dataclasses
import enum
import time
from dataclasses import dataclass, field
from typing import Any, BinaryIO

# Long strings (ComfyUI workflows, base64 blobs) are kept but cut so a result stays storable.
MAX_TEXT_CHARS = 65_536


# Codes of the issues a walker records where it stopped at its own limit (units, seconds, nesting depth): the rest of
# the file was not examined, which says nothing of damage.
WALK_LIMIT_CODES = frozenset({"segment_limit", "chunk_limit", "box_limit", "depth_limit", "walk_limit"})


@dataclass(frozen=True)
class StructureIssue:
    """A structural problem a parser met, with the byte offset where it was seen (None if not tied to one)."""

    code: str
    message: str
    offset: int | None = None

    @property
    def walk_limit(self) -> bool:
        return self.code in WALK_LIMIT_CODES


@dataclass
class WalkBudget:
    """How many units (chunks, elements, blocks) and seconds a walker may spend on one file, so that a hostile
    file with millions of tiny units ends the walk with a note instead of stalling the analysis."""

    max_units: int
    seconds: float
    noun: str
    units: int = 0
    started: float = field(default_factory=time.monotonic)

    def spend(self) -> str | None:
        """Count one unit; the reason to stop once the count or the time is used up, else None."""
        self.units += 1
        if self.units > self.max_units:
            return f"Stopped after {self.max_units:,} {self.noun}."
        # The clock is read every 1024 units: cheap, and still well inside the deadline thread's limit.
        if self.units % 1024 == 0 and time.monotonic() - self.started > self.seconds:
            return f"Stopped after {self.seconds:g} s ({self.units:,} {self.noun} walked)."
        return None


def read_at(handle: BinaryIO, offset: int, length: int) -> bytes:
    """Read up to `length` bytes at `offset`; a short result means end of file."""
    handle.seek(offset)
    return handle.read(max(0, length))


def clip_text(value: str, limit: int = MAX_TEXT_CHARS) -> str:
    """Cut an over-long string, saying how long it was, so evidence output stays bounded."""
    if len(value) <= limit:
        return value
    return f"{value[:limit]}... [truncated, {len(value):,} characters in total]"


def decode_text(raw: bytes, encoding: str = "utf-8") -> str:
    """Decode bytes for display without ever failing on hostile input."""
    return raw.decode(encoding, errors="replace")


def jsonable(value: Any) -> Any:
    """Convert dataclasses, enums, bytes and tuples into JSON-serialisable structures.

    NUL characters in strings (a hostile text chunk can be nothing else) become U+FFFD: PostgreSQL's jsonb
    cannot store them, and the analysis of such a file could otherwise never be recorded."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {field.name: jsonable(getattr(value, field.name)) for field in dataclasses.fields(value)}
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, str):
        return value.replace("\x00", "\ufffd")
    if isinstance(value, dict):
        return {jsonable(str(key)): jsonable(item) for key, item in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        items = sorted(value, key=repr) if isinstance(value, (set, frozenset)) else value
        return [jsonable(item) for item in items]
    if isinstance(value, (bytes, bytearray, memoryview)):
        raw = bytes(value)
        return {"base64": base64.b64encode(raw[:4096]).decode("ascii"), "length": len(raw)}
    if isinstance(value, float) and value != value:  # NaN is not valid JSON
        return None
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)
