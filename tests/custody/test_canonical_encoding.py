import hashlib
import json
import uuid
import zoneinfo
from collections import OrderedDict
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from enum import IntEnum, StrEnum

import pytest

from custody import canonical
from custody.canonical import CanonicalError, canonical_bytes, entry_hash


def _entry() -> dict:
    return {
        "sequence": 7,
        "prev_hash": "ab" * 32,
        "key_id": "0123456789abcdef",
        "action": "evidence.received",
        "occurred_at": datetime(2025, 3, 9, 14, 5, 6, 789, tzinfo=UTC),
        "evidence_id": uuid.UUID("6F9619FF-8B86-D011-B42D-00C04FC964FF"),
        "actor_id": 42,
        "note": None,
        "details": {"sha256": "00" * 32, "size": 1024, "tags": ["jpeg", "exif"], "ok": True},
        "entry_hash": "ignored",
        "signature": "ignored",
    }


def test_entry_encoding_is_pinned_to_known_bytes_and_hash():
    # given an entry using every supported type
    entry = _entry()

    # when it is encoded and hashed
    encoded = canonical_bytes({k: v for k, v in entry.items() if k not in ("entry_hash", "signature")})
    digest = entry_hash(entry)

    # then the bytes are exactly the documented format, so stored hashes stay valid across releases
    assert encoded == (
        b'{"action":"evidence.received","actor_id":42,'
        b'"details":{"ok":true,"sha256":"' + b"0" * 64 + b'","size":1024,"tags":["jpeg","exif"]},'
        b'"evidence_id":"6f9619ff-8b86-d011-b42d-00c04fc964ff","key_id":"0123456789abcdef","note":null,'
        b'"occurred_at":"2025-03-09T14:05:06.000789Z","prev_hash":"' + b"ab" * 32 + b'","sequence":7}'
    )
    assert digest == "b5d4aaded5d6cf9495391f89e384ce85fbfeb39414608e14107109f7091553b7"


def test_key_order_of_the_input_does_not_change_the_bytes():
    # given the same fields inserted in opposite orders
    fields = _entry()
    reversed_fields = dict(reversed(list(fields.items())))

    # when both are hashed
    # then the hashes agree
    assert entry_hash(fields) == entry_hash(reversed_fields)


def test_same_instant_in_any_timezone_representation_encodes_identically():
    # given one instant as the drivers of different databases may return it
    instant = datetime(2025, 1, 31, 23, 30, tzinfo=UTC)
    variants = [
        instant,
        instant.replace(tzinfo=timezone.utc),  # noqa: UP017 - psycopg and older Django use this object
        instant.astimezone(zoneinfo.ZoneInfo("UTC")),
        instant.astimezone(zoneinfo.ZoneInfo("Europe/Berlin")),
        instant.astimezone(timezone(timedelta(hours=-5))),
    ]

    # when each is encoded
    encodings = {canonical_bytes(value) for value in variants}

    # then they are all the UTC text with six fractional digits
    assert encodings == {b'"2025-01-31T23:30:00.000000Z"'}


def test_datetime_and_uuid_encode_like_their_canonical_text_so_exported_json_verifies():
    # given an entry and its form after a JSON export of the canonical bytes
    entry = _entry()
    exported = json.loads(canonical_bytes(entry))

    # when the exported form is hashed
    # then it hashes like the original with its datetime and UUID objects
    assert exported["occurred_at"] == "2025-03-09T14:05:06.000789Z"
    assert entry_hash(exported) == entry_hash(entry)


def test_naive_datetime_is_rejected():
    # given a datetime without a timezone
    fields = {"occurred_at": datetime(2025, 1, 1, 12, 0)}

    # when it is encoded
    # then it is refused, because its instant is unknown
    with pytest.raises(CanonicalError, match="naive datetime"):
        canonical_bytes(fields)


@pytest.mark.parametrize("value", [1.5, 0.0, float("nan"), {"nested": [1, 2.0]}])
def test_floats_are_rejected_anywhere(value):
    # given a float at top level or nested
    # when it is encoded
    # then a CanonicalError names floats
    with pytest.raises(CanonicalError, match="floats are not allowed"):
        canonical_bytes(value)


@pytest.mark.parametrize(
    "value", [Decimal("1.5"), b"raw", {1, 2}, (1, 2), date(2025, 1, 1), object(), {"details": {"at": Decimal(1)}}]
)
def test_unknown_types_are_rejected(value):
    # given a type without a defined encoding
    # when it is encoded
    # then a CanonicalError names the type
    with pytest.raises(CanonicalError, match="unsupported type"):
        canonical_bytes(value)


def test_non_string_dict_keys_are_rejected():
    # given a mapping with an integer key
    # when it is encoded
    # then it is refused rather than silently stringified
    with pytest.raises(CanonicalError, match="not a string"):
        canonical_bytes({1: "one"})


def test_integers_beyond_the_json_safe_range_are_rejected():
    # given the largest integer every JSON reader holds exactly, and the next one
    # when each is encoded
    # then the first is written as digits and the second refused
    assert canonical_bytes(-(2**53 - 1)) == b"-9007199254740991"
    with pytest.raises(CanonicalError, match="outside"):
        canonical_bytes(2**53)


def test_booleans_are_not_confused_with_integers():
    # given True and 1
    # when each is encoded
    # then they differ
    assert canonical_bytes([True, 1, False, 0, None]) == b"[true,1,false,0,null]"


def test_string_and_integer_of_the_same_digits_hash_differently():
    # given two entries differing only in the type of one value
    # when both are hashed
    # then the hashes differ
    assert entry_hash({"actor_id": 42}) != entry_hash({"actor_id": "42"})


def test_keys_are_sorted_by_utf16_code_units_as_in_rfc8785():
    # given the key-sorting example of RFC 8785 section 3.2.3
    value = {
        "\u20ac": "Euro Sign",
        "\r": "Carriage Return",
        "\ufb33": "Hebrew Letter Dalet With Dagesh",
        "1": "One",
        "\U0001f600": "Emoji: Grinning Face",
        "\u0080": "Control",
        "\u00f6": "Latin Small Letter O With Diaeresis",
    }

    # when it is encoded
    encoded = canonical_bytes(value).decode("utf-8")

    # then the emoji (a surrogate pair in UTF-16) sorts before U+FB33, unlike code point order
    keys = list(json.loads(encoded))
    assert keys == ["\r", "1", "\u0080", "\u00f6", "\u20ac", "\U0001f600", "\ufb33"]


def test_strings_escape_only_quotes_backslashes_and_control_characters():
    # given a string with characters JSON encoders disagree on
    text = "€$\u000f\nA'B\"\\/\u007f\u2028é"

    # when it is encoded
    # then only the quote, backslash and C0 controls are escaped, in RFC 8785's spelling
    assert canonical_bytes(text) == '"€$\\u000f\\nA\'B\\"\\\\/\u007f\u2028é"'.encode()


def test_lone_surrogate_is_rejected():
    # given a string that is not valid Unicode text
    # when it is encoded
    # then it is refused instead of producing bytes other tools cannot read
    with pytest.raises(CanonicalError, match="surrogate"):
        canonical_bytes({"note": "\ud800"})


def test_entry_hash_covers_prev_hash_and_key_id_but_not_hash_or_signature():
    # given an entry
    entry = _entry()
    original = entry_hash(entry)

    # when the derived fields change, then the hash does not
    assert entry_hash({**entry, "entry_hash": "x", "signature": "y"}) == original
    # when a chained or signing field changes, then the hash does
    assert entry_hash({**entry, "prev_hash": "cd" * 32}) != original
    assert entry_hash({**entry, "key_id": "fedcba9876543210"}) != original


def test_entry_hash_is_lowercase_hex_sha256():
    # given any entry
    # when it is hashed
    digest = entry_hash({"sequence": 1})

    # then the hash is 64 lower-case hex characters
    assert len(digest) == 64 and digest == digest.lower() and int(digest, 16) >= 0


def _walked(value) -> bytes:
    parts: list[str] = []
    canonical._encode(value, parts, "$")
    return "".join(parts).encode("utf-8")


FAST_PATH_CASES = [
    {"organisation": uuid.UUID(int=7), "recorded_at": datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=UTC), "n": 1},
    {"details": {"b": [1, True, None, {"z": 'q\u0001"\\'}], "a": -(2**49)}, "case": None, "Z": "", "_": False},
    {"b": 1, "a": {"B": [], "A": {}}, "aa": "\t\n\r\x7f"},
    {"n": 2**53 - 1, "m": [-(2**53 - 1)], "digits": "12345678901234567890"},  # the safe range's very ends
]


class _Action(StrEnum):
    RECEIVED = "evidence.received"


class _Level(IntEnum):
    HIGH = 3


DECLINED_CASES = [
    {"text": "naïve"},  # non-ASCII: the walk's UTF-16 key order decides
    {"ratio": 0.5},  # a float at the top level: the walk refuses it
    {1: "one"},  # a key that is not a string at the top level: the walk refuses it
    {"action": _Action.RECEIVED},  # a subclass of str: the walk writes it
    {"details": {"level": _Level.HIGH}},  # a subclass of int: the walk writes it
    {"details": OrderedDict(a=1)},  # a subclass of dict: the walk writes it
    {"details": {"ratio": 0.5}},  # a float: the walk refuses it
    {"details": {"list": (1, 2)}},  # a tuple: the walk refuses it
    {"details": {1: "one"}},  # a key that is not a string: the walk refuses it
    {"n": 2**53},  # beyond ±(2**53 - 1): the walk refuses it
    {"details": {"n": [-(2**53)]}},  # the same, nested and negative
    {"details": {"when": datetime(2026, 1, 1, tzinfo=UTC)}},  # a datetime below the top level: the walk encodes it
    [1, 2],  # not an entry-shaped dict
]


@pytest.mark.parametrize("value", FAST_PATH_CASES)
def test_fast_path_gives_exactly_the_bytes_of_the_walk(value):
    assert canonical._json_fast_path(value) == _walked(value)
    assert canonical_bytes(value) == _walked(value)


@pytest.mark.parametrize("value", DECLINED_CASES)
def test_fast_path_declines_whatever_it_cannot_show_equal_to_the_walk(value):
    assert canonical._json_fast_path(value) is None


def test_circular_value_is_declined_by_the_fast_path_without_raising():
    # Given a value that holds itself, which the C encoder is not asked to look out for
    details: dict = {"items": []}
    details["items"].append(details)

    # When the fast path is offered it
    # Then it declines, leaving the walk to decide
    assert canonical._json_fast_path({"details": details}) is None


@pytest.mark.parametrize("depth", [990, 995, 5000])
def test_entry_nested_too_deeply_or_holding_itself_is_refused_not_raised(depth):
    # Given entries whose details nest lists that deep, and one whose details hold themselves
    nested: list = []
    for _ in range(depth):
        nested = [nested]
    circular: dict = {"items": []}
    circular["items"].append(circular)

    # When a ledger holding them is hashed
    hashes = canonical.entry_hashes([{"sequence": 1, "details": nested}, {"sequence": 2, "details": circular}])

    # Then each gets an entry hash or a CanonicalError to report, and verification is never cut short
    assert isinstance(hashes[0], str) or "nested too deeply" in str(hashes[0])
    assert isinstance(hashes[1], CanonicalError) and "nested too deeply, or holds itself" in str(hashes[1])
    if depth == 5000:
        assert isinstance(hashes[0], CanonicalError)


def test_subclasses_of_str_int_and_dict_encode_as_their_plain_values():
    # Given fields holding an enum member and an ordered dict, and the same fields as plain values
    subclassed = {"action": _Action.RECEIVED, "details": OrderedDict(level=_Level.HIGH)}
    plain = {"action": "evidence.received", "details": {"level": 3}}

    # When both are encoded
    # Then the bytes are the same, so how a caller typed a value never changes its hash
    assert canonical_bytes(subclassed) == canonical_bytes(plain)


def test_fields_outside_the_hash_do_not_matter_whatever_they_hold():
    # Given an entry whose entry_hash and signature hold values that cannot be encoded
    entry = _entry()
    odd = {**entry, "entry_hash": 1.5, "signature": datetime(2026, 1, 1)}

    # When it is hashed alone and as part of a ledger
    # Then both give the hash of the entry's other fields
    assert entry_hash(odd) == entry_hash(entry)
    assert canonical.entry_hashes([odd, {**entry, "entry_hash": 2**60, "signature": b"raw"}]) == [entry_hash(entry)] * 2


def test_batch_hashing_equals_hashing_each_entry_and_isolates_the_one_that_cannot_be_encoded():
    # Given plain entries, one with a non-ASCII actor (walked), one with a float (refused) and one that is no dict
    entries = [
        {"sequence": number, "recorded_at": datetime(2026, 1, 1, tzinfo=UTC), "details": {"n": number}}
        for number in range(1, 6)
    ]
    entries[1]["actor"] = "Zoë"
    entries[3]["details"] = {"ratio": 0.25}
    entries.append(["not", "an", "entry"])

    # When they are hashed as one batch
    hashes = canonical.entry_hashes(entries)

    # Then each result is what hashing it alone gives, and only the unencodable ones are errors
    for entry, result in zip(entries[:-1], hashes, strict=False):
        if entry is entries[3]:
            assert isinstance(result, CanonicalError) and "float" in str(result)
        else:
            assert result == entry_hash(entry)
    assert isinstance(hashes[-1], CanonicalError)


def test_a_long_ledger_hashed_at_once_gives_each_entry_the_hash_it_has_alone():
    # Given 600 entries sharing a few UUIDs (whose texts are remembered from one entry to the next), refused
    # ones scattered among them and last, and an entry in another time zone
    organisation, cases = uuid.UUID(int=1), [uuid.UUID(int=n) for n in range(2, 5)]
    entries = [
        {
            "organisation": organisation,
            "case": cases[number % 3],
            "sequence": number,
            "recorded_at": datetime(2026, 1, 1, microsecond=number, tzinfo=UTC),
            "details": {"n": number},
        }
        for number in range(1, 601)
    ]
    for position in (255, 256, 599):
        entries[position]["details"] = {"n": 2**53}
    entries[300]["recorded_at"] = datetime(2026, 1, 1, 5, tzinfo=timezone(timedelta(hours=5, minutes=30)))

    # When the whole ledger is hashed at once
    hashes = canonical.entry_hashes(entries)

    # Then every result is the one hashing that entry alone gives
    for position, (entry, result) in enumerate(zip(entries, hashes, strict=True)):
        if position in (255, 256, 599):
            assert isinstance(result, CanonicalError) and "2**53" in str(result)
        else:
            assert result == hashlib.sha256(_walked(entry)).hexdigest()
    assert canonical.entry_hash(entries[300]) == canonical.entry_hash(
        {**entries[300], "recorded_at": datetime(2025, 12, 31, 23, 30, tzinfo=UTC)}
    )
