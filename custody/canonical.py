"""Canonical byte encoding of custody entries and the entry hash computed from it.

The encoding must give the same bytes for the same entry whether it was read from SQLite, PostgreSQL or an
exported JSON file, so that a third party can recompute every entry hash with the standard library alone.

Rules (the output is the RFC 8785 "JSON Canonicalization Scheme" serialisation of the mapped value, so any
JCS implementation reproduces it):

- ``dict``: keys must be ``str``; members sorted by the UTF-16 code units of their keys (RFC 8785 §3.2.3),
  written as ``{"key":value,...}`` with no whitespace.
- ``list``: ``[value,...]`` in the given order, no whitespace.
- ``str``: a JSON string in UTF-8. Only ``"``, ``\\`` and U+0000–U+001F are escaped (``\\b \\t \\n \\f \\r``
  in short form, the rest as ``\\u00xx`` with lower-case hex); every other character is written as itself.
  Strings are not Unicode-normalised. Lone surrogates are rejected.
- ``int``: decimal digits, optional leading ``-``, no leading zeros; limited to ±(2**53 - 1) so that every
  JSON implementation reads it exactly.
- ``bool``: ``true`` / ``false``; ``None``: ``null``.
- ``datetime``: must be timezone-aware; converted to UTC and written as the JSON string
  ``"YYYY-MM-DDTHH:MM:SS.ffffffZ"`` (always six fractional digits, the precision both databases keep).
- ``uuid.UUID``: the JSON string of its lower-case hyphenated form.
- Anything else, floats included (their decimal form is not stable across databases and drivers), raises
  :class:`CanonicalError`.

A datetime or UUID therefore encodes exactly like its canonical string, which is what lets an exported entry
be verified from plain JSON.
"""

import hashlib
import json
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

# These two fields are derived from the hash itself, so they cannot be part of it. Everything else,
# prev_hash and key_id included, is covered.
HASH_EXCLUDED_FIELDS = frozenset({"entry_hash", "signature"})

MAX_SAFE_INTEGER = 2**53 - 1


class CanonicalError(ValueError):
    """A value cannot be encoded canonically (unsupported type, naive datetime, out-of-range int...)."""


def canonical_bytes(value: Any) -> bytes:
    """Return the canonical UTF-8 encoding of ``value``; raise CanonicalError for anything unsupported."""
    parts: list[str] = []
    _encode(value, parts, "$")
    try:
        return "".join(parts).encode("utf-8")
    except UnicodeEncodeError as error:
        raise CanonicalError(f"string contains a lone surrogate: {error}") from None


def entry_hash(fields: Mapping[str, Any]) -> str:
    """Return the SHA-256 (lower-case hex) of the canonical encoding of an entry's hashed fields."""
    if not isinstance(fields, Mapping):
        raise CanonicalError(f"an entry must be a mapping, not {type(fields).__name__}")
    hashed = {key: value for key, value in fields.items() if key not in HASH_EXCLUDED_FIELDS}
    return hashlib.sha256(canonical_bytes(hashed)).hexdigest()


def datetime_text(value: datetime) -> str:
    """Return the canonical UTC text of an aware datetime, e.g. ``2025-01-31T12:00:00.000000Z``."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise CanonicalError(f"naive datetime {value.isoformat()} is ambiguous; use an aware datetime")
    utc = value.astimezone(UTC)
    return (
        f"{utc.year:04d}-{utc.month:02d}-{utc.day:02d}"
        f"T{utc.hour:02d}:{utc.minute:02d}:{utc.second:02d}.{utc.microsecond:06d}Z"
    )


def _encode(value: Any, parts: list[str], path: str) -> None:
    # bool before int (bool is an int subclass), datetime before anything date-like.
    if value is None:
        parts.append("null")
    elif value is True:
        parts.append("true")
    elif value is False:
        parts.append("false")
    elif isinstance(value, int):
        if not -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER:
            raise CanonicalError(f"{path}: integer {value} is outside ±(2**53 - 1)")
        parts.append(str(int(value)))
    elif isinstance(value, str):
        parts.append(_string(value))
    elif isinstance(value, datetime):
        try:
            parts.append(_string(datetime_text(value)))
        except CanonicalError as error:
            raise CanonicalError(f"{path}: {error}") from None
    elif isinstance(value, uuid.UUID):
        parts.append(_string(str(value)))
    elif isinstance(value, list):
        parts.append("[")
        for index, item in enumerate(value):
            if index:
                parts.append(",")
            _encode(item, parts, f"{path}[{index}]")
        parts.append("]")
    elif isinstance(value, dict):
        for key in value:
            if not isinstance(key, str):
                raise CanonicalError(f"{path}: dict key {key!r} is not a string")
        parts.append("{")
        for index, key in enumerate(sorted(value, key=_utf16_order)):
            if index:
                parts.append(",")
            parts.append(_string(key))
            parts.append(":")
            _encode(value[key], parts, f"{path}.{key}")
        parts.append("}")
    elif isinstance(value, float):
        raise CanonicalError(f"{path}: floats are not allowed ({value!r}); store an integer or a string")
    else:
        raise CanonicalError(f"{path}: unsupported type {type(value).__name__}")


def _string(text: str) -> str:
    # With ensure_ascii=False, json.dumps escapes exactly what RFC 8785 escapes, in the same spelling.
    return json.dumps(text, ensure_ascii=False)


def _utf16_order(key: str) -> bytes:
    # Big-endian UTF-16 bytes compare like UTF-16 code units; "surrogatepass" lets lone surrogates reach
    # the UTF-8 step, which rejects them with a clear message.
    return key.encode("utf-16-be", "surrogatepass")
