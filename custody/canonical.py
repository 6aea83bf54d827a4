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
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from json.encoder import encode_basestring
from typing import Any

# These two fields are derived from the hash itself, so they cannot be part of it. Everything else,
# prev_hash and key_id included, is covered.
HASH_EXCLUDED_FIELDS = frozenset({"entry_hash", "signature"})

MAX_SAFE_INTEGER = 2**53 - 1


class CanonicalError(ValueError):
    """A value cannot be encoded canonically (unsupported type, naive datetime, out-of-range int...)."""


def canonical_bytes(value: Any) -> bytes:
    """Return the canonical UTF-8 encoding of ``value``; raise CanonicalError for anything unsupported."""
    fast = _json_fast_path(value)
    if fast is not None:
        return fast
    parts: list[str] = []
    try:
        _encode(value, parts, "$")
    except RecursionError:
        raise CanonicalError("value is nested too deeply, or holds itself") from None
    try:
        return "".join(parts).encode("utf-8")
    except UnicodeEncodeError as error:
        raise CanonicalError(f"string contains a lone surrogate: {error}") from None


# The C encoder of the json module, set to RFC 8785's spelling: no whitespace, keys sorted by code point. It only
# ever sees values _plain has walked to the end, so none is circular and it need not keep track.
_C_ENCODER = json.JSONEncoder(
    ensure_ascii=False, separators=(",", ":"), sort_keys=True, allow_nan=False, check_circular=False
)


def _json_fast_path(value: Any, excluded: frozenset[str] = frozenset()) -> bytes | None:
    """The canonical encoding of an entry-shaped dict (less its ``excluded`` keys) by the json module's C encoder,
    or None where that cannot be shown to equal the rules above: then the walk above decides (see _c_text)."""
    text = _c_text(_prepared(value, excluded, {}))
    return None if text is None else text.encode("ascii")


def _prepared(value: Any, excluded: frozenset[str], uuid_texts: dict[int, str]) -> dict | None:
    """``value`` less its ``excluded`` keys, its top-level datetimes and UUIDs as their canonical strings, if the
    rest is plain (see _plain); otherwise None, and the walk decides (and says why if it refuses the value).
    ``uuid_texts`` remembers UUIDs' texts across a ledger, whose entries name the same organisation, cases and
    items again and again."""
    if type(value) is not dict:
        return None
    prepared = value.copy()
    for key, item in value.items():
        if type(key) is not str:
            return None
        kind = type(item)
        if kind is str or item is None or kind is bool:
            continue
        if key in excluded:
            continue  # dropped below, whatever it holds
        if kind is int:
            if not -MAX_SAFE_INTEGER <= item <= MAX_SAFE_INTEGER:
                return None
        elif kind is datetime:
            try:
                prepared[key] = datetime_text(item)
            except CanonicalError:
                return None
        elif kind is uuid.UUID:
            # Keyed by the UUID's number: a UUID's own hash and equality are Python methods, its number's are not.
            text = uuid_texts.get(item.int)
            if text is None:
                text = uuid_texts[item.int] = str(item)
            prepared[key] = text
        elif not _plain(item):
            return None
    for key in excluded:
        prepared.pop(key, None)
    return prepared


def _c_text(prepared: dict | None) -> str | None:
    """A value _prepared returned, encoded by the C encoder; None where the text cannot be shown to be canonical.

    Shown when the text is ASCII: for a plain value (see _plain) the C encoder then writes exactly what the walk
    writes (strings through the same escaper, integers in decimal, keys in code-point order, which for ASCII
    keys is UTF-16 order). Verifying a ledger hashes every entry, so only the type check runs in Python.
    """
    if prepared is None:
        return None
    try:
        text = _C_ENCODER.encode(prepared)
    except RecursionError:  # _plain saw the end a few levels short of where the encoder, deeper in calls, gave up
        return None
    return text if text.isascii() else None


def _plain(value: object) -> bool:
    """Whether ``value`` is a dict or list holding, at any depth, only dicts with ``str`` keys, lists, ``str``,
    ``bool``, ``None`` and ``int`` within ±(2**53 - 1), each of exactly that type: what the C encoder and the
    walk write alike. Anything else (a float, a tuple, a subclass, a datetime below the top level...) goes to
    the walk."""
    if type(value) is dict:
        for key in value:
            if type(key) is not str:
                return False
        items = value.values()
    elif type(value) is list:
        items = value
    else:
        return False
    try:
        for item in items:
            kind = type(item)
            if kind is str or item is None or kind is bool:
                continue
            if kind is int:
                if not -MAX_SAFE_INTEGER <= item <= MAX_SAFE_INTEGER:
                    return False
            elif not _plain(item):
                return False
    except RecursionError:  # nested too deep, or circular: the walk says which
        return False
    return True


def entry_hashes(entries: Sequence[Any]) -> list[str | CanonicalError]:
    """entry_hash of each entry, or the CanonicalError it raises; what verifying a whole ledger calls."""
    uuid_texts: dict[int, str] = {}
    results: list[str | CanonicalError] = []
    for entry in entries:
        text = _c_text(_prepared(entry, HASH_EXCLUDED_FIELDS, uuid_texts))
        if text is not None:
            results.append(hashlib.sha256(text.encode("ascii")).hexdigest())
            continue
        try:
            results.append(entry_hash(entry))
        except CanonicalError as error:
            results.append(error)
    return results


def entry_hash(fields: Mapping[str, Any]) -> str:
    """Return the SHA-256 (lower-case hex) of the canonical encoding of an entry's hashed fields."""
    if not isinstance(fields, Mapping):
        raise CanonicalError(f"an entry must be a mapping, not {type(fields).__name__}")
    fast = _json_fast_path(fields, HASH_EXCLUDED_FIELDS)
    if fast is not None:
        return hashlib.sha256(fast).hexdigest()
    hashed = {key: value for key, value in fields.items() if key not in HASH_EXCLUDED_FIELDS}
    return hashlib.sha256(canonical_bytes(hashed)).hexdigest()


def datetime_text(value: datetime) -> str:
    """Return the canonical UTC text of an aware datetime, e.g. ``2025-01-31T12:00:00.000000Z``."""
    if value.tzinfo is not UTC:
        if value.tzinfo is None or value.utcoffset() is None:
            raise CanonicalError(f"naive datetime {value.isoformat()} is ambiguous; use an aware datetime")
        value = value.astimezone(UTC)
    # datetime's own isoformat (a subclass may override it): a four-digit year, "+00:00" at the end. Its
    # arguments given by position, which is parsed faster: verifying a ledger writes one time per entry.
    return datetime.isoformat(value, "T", "microseconds")[:-6] + "Z"


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
        keys = sorted(value)
        # Code-point order is UTF-16 order unless a key has a character beyond U+FFFF (checked only then).
        if not all(key.isascii() for key in keys):
            keys.sort(key=_utf16_order)
        parts.append("{")
        for index, key in enumerate(keys):
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


# json's C string encoder, the one json.dumps(..., ensure_ascii=False) uses: it escapes exactly what RFC 8785
# escapes, in the same spelling, without json.dumps's per-call set-up.
_string = encode_basestring


def _utf16_order(key: str) -> bytes:
    # Big-endian UTF-16 bytes compare like UTF-16 code units; "surrogatepass" lets lone surrogates reach
    # the UTF-8 step, which rejects them with a clear message.
    return key.encode("utf-16-be", "surrogatepass")
