"""Sealing and Django-free verification of a custody ledger: entry hashes, hash chain, signatures, checkpoints.

An entry is a mapping with at least ``sequence`` (1, 2, 3... without gaps), ``prev_hash`` (the previous
entry's ``entry_hash``, GENESIS for the first), ``key_id``, ``entry_hash`` (canonical.entry_hash of every
field except ``entry_hash`` and ``signature``) and ``signature``: Ed25519, standard base64, over
ENTRY_SIGNATURE_DOMAIN followed by the ASCII hex ``entry_hash``. The ledger's Merkle tree (RFC 6962) has one
leaf per entry, in ledger order, whose data is the 32 raw bytes of its ``entry_hash``; a checkpoint is that
tree's size and root, kept outside the database so that a rolled-back or rewritten history shows.
"""

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from custody import merkle
from custody.canonical import HASH_EXCLUDED_FIELDS, CanonicalError, canonical_bytes, entry_hash, entry_hashes
from custody.signing import SigningKey, verify

GENESIS = "0" * 64
# Keeps a ledger signature from being valid for anything else the same key might ever sign.
ENTRY_SIGNATURE_DOMAIN = b"evidence-media custody entry v1\n"
CHECKPOINT_SIGNATURE_DOMAIN = b"evidence-media custody checkpoint v1\n"
BUNDLE_MANIFEST_SIGNATURE_DOMAIN = b"evidence-media custody bundle manifest v1\n"
HIGH_WATER_SIGNATURE_DOMAIN = b"evidence-media custody high-water mark v1\n"
HIGH_WATER_SIGNED_FIELDS = ("organisation", "sequence", "entry_hash", "key_id")
BUNDLE_MANIFEST_SIGNED_FIELDS = (
    "organisation",
    "evidence",
    "checkpoint_tree_size",
    "checkpoint_root_hash",
    "events",
    "key_id",
)
REQUIRED_FIELDS = ("sequence", "prev_hash", "key_id", "entry_hash", "signature")
HEX_HASH_PATTERN = re.compile(r"[0-9a-f]{64}")


class ProblemKind(StrEnum):
    """What is wrong; the order here breaks ties between problems found at the same entry."""

    MALFORMED = "malformed"  # a required field is missing or mistyped, or a value has no canonical encoding
    MISSING = "missing"  # sequence numbers absent: entries were deleted
    INSERTED = "inserted"  # an entry that was not in the ledger when its successor was written
    REORDERED = "reordered"  # an entry appears after one with a higher sequence number
    CONTENT_CHANGED = "content_changed"  # the fields no longer hash to the stored entry_hash
    BROKEN_LINK = "broken_link"  # prev_hash does not name the previous entry
    UNKNOWN_KEY = "unknown_key"  # signed with a key the keyring never held
    BAD_SIGNATURE = "bad_signature"  # the signature does not match the entry_hash under that key
    ROLLBACK = "rollback"  # fewer entries than a checkpoint covers: the tail was removed
    CHECKPOINT_MISMATCH = "checkpoint_mismatch"  # the entries a checkpoint covers are not the ones it saw
    TREE_MISMATCH = "tree_mismatch"  # the stored subtree hashes are not those of the entries


_KIND_ORDER = {kind: index for index, kind in enumerate(ProblemKind)}

# The words reports and commands use, as an operator or a court would say them.
PROBLEM_LABELS = {
    ProblemKind.MALFORMED: "malformed",
    ProblemKind.MISSING: "deleted",
    ProblemKind.INSERTED: "inserted",
    ProblemKind.REORDERED: "reordered",
    ProblemKind.CONTENT_CHANGED: "modified",
    ProblemKind.BROKEN_LINK: "link broken",
    ProblemKind.UNKNOWN_KEY: "unknown key",
    ProblemKind.BAD_SIGNATURE: "bad signature",
    ProblemKind.ROLLBACK: "rolled back",
    ProblemKind.CHECKPOINT_MISMATCH: "inconsistent with a checkpoint",
    ProblemKind.TREE_MISMATCH: "Merkle tree store inconsistent",
}


@dataclass(frozen=True)
class Problem:
    """One finding: its kind, where it is (sequence number and list position, None where unknown), why."""

    kind: ProblemKind
    sequence: int | None
    position: int | None
    detail: str

    @property
    def label(self) -> str:
        return PROBLEM_LABELS[self.kind]


@dataclass(frozen=True)
class Checkpoint:
    """A Merkle tree head recorded outside the ledger: the number of entries and the root as hex."""

    tree_size: int
    root_hash: str


@dataclass(frozen=True)
class ChainReport:
    """The outcome of a verification: every problem, earliest in the ledger first."""

    entries_checked: int
    problems: tuple[Problem, ...]

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def first_problem(self) -> Problem | None:
        return self.problems[0] if self.problems else None


def entry_signing_payload(hash_hex: str) -> bytes:
    """Return the bytes that an entry's signature covers."""
    return ENTRY_SIGNATURE_DOMAIN + hash_hex.encode("ascii")


def checkpoint_signing_payload(fields: Mapping[str, Any]) -> bytes:
    """Return the bytes a checkpoint signature covers: the canonical encoding of its organisation, tree size,
    root hash, time and key id, so the size is bound to the root (RFC 6962 roots alone do not commit to it)."""
    signed = {name: fields[name] for name in ("organisation", "tree_size", "root_hash", "made_at", "key_id")}
    return CHECKPOINT_SIGNATURE_DOMAIN + canonical_bytes(signed)


def high_water_signing_payload(fields: Mapping[str, Any]) -> bytes:
    """Return the bytes a high-water mark's signature covers: the organisation, the sequence number and entry
    hash of the newest entry ever committed to its ledger, and the key id."""
    return HIGH_WATER_SIGNATURE_DOMAIN + canonical_bytes({name: fields[name] for name in HIGH_WATER_SIGNED_FIELDS})


def bundle_manifest_signing_payload(manifest: Mapping[str, Any]) -> bytes:
    """Return the bytes a custody bundle's manifest signature covers: the organisation, the evidence item, the
    checkpoint and the (sequence, entry_hash) of every event of the item it covers.

    Inclusion proofs show that each exported event is in the ledger but cannot show that none was left out;
    the signed list of the item's events does.
    """
    signed = {name: manifest[name] for name in BUNDLE_MANIFEST_SIGNED_FIELDS}
    return BUNDLE_MANIFEST_SIGNATURE_DOMAIN + canonical_bytes(signed)


def entry_seal(fields: Mapping[str, Any], signing_key: SigningKey) -> dict[str, Any]:
    """Return ``fields`` with key_id, entry_hash and signature added, ready to store.

    ``fields`` must already hold ``sequence`` and ``prev_hash``; the key id is set before hashing so that the
    signature also commits to which key made it.
    """
    sealed = {key: value for key, value in fields.items() if key not in HASH_EXCLUDED_FIELDS}
    sealed["key_id"] = signing_key.key_id
    sealed["entry_hash"] = entry_hash(sealed)
    _, sealed["signature"] = signing_key.sign(entry_signing_payload(sealed["entry_hash"]))
    return sealed


def entry_leaf_hashes(entries: Sequence[Mapping[str, Any]]) -> list[bytes]:
    """Return the Merkle leaf hashes of entries, in the order given."""
    return [merkle.leaf_hash(bytes.fromhex(entry["entry_hash"])) for entry in entries]


def checkpoint_build(entries: Sequence[Mapping[str, Any]]) -> Checkpoint:
    """Return the checkpoint (size and Merkle root) of the ledger made of ``entries``."""
    return Checkpoint(tree_size=len(entries), root_hash=merkle.root(entry_leaf_hashes(entries)).hex())


def chain_verify(
    entries: Sequence[Mapping[str, Any]],
    public_keys: Mapping[str, bytes],
    checkpoint: Checkpoint | None = None,
) -> ChainReport:
    """Verify a whole ledger, given in sequence order, and report every problem, earliest first.

    Checks each entry's shape, hash and signature, that sequence numbers run 1, 2, 3... in order without
    gaps or duplicates, that each prev_hash names the previous entry, and, if a checkpoint is given, that the
    ledger still holds exactly the history the checkpoint saw. Never raises on malformed entries.
    """
    problems: list[Problem] = []
    numbered: list[_Numbered] = []
    # Each entry_hash decoded once, for the shape check and for the checkpoint's Merkle leaves alike.
    hash_bytes: list[bytes | None] = []
    # Every entry's hash in one call, the JSON encoding at C speed (custody.canonical).
    recomputed = entry_hashes(entries)
    for position, entry in enumerate(entries):
        sequence, raw_hash, shape_error = _entry_shape(entry)
        hash_bytes.append(raw_hash)
        if shape_error:
            problems.append(Problem(ProblemKind.MALFORMED, sequence, position, shape_error))
        else:
            problems.extend(_entry_problems(position, entry, recomputed[position], public_keys))
        if sequence is not None:
            # A malformed entry still holds its place, so it is not reported missing as well.
            numbered.append((position, sequence, shape_error is None))
    problems.extend(_order_problems(entries, numbered))
    if checkpoint is not None:
        problem = _checkpoint_size_problem(len(entries), checkpoint) or _checkpoint_root_problem(
            entries, hash_bytes, checkpoint
        )
        if problem is not None:
            problems.append(problem)
    return ChainReport(entries_checked=len(entries), problems=_sorted(problems))


def verify_against_checkpoint(entries: Sequence[Mapping[str, Any]], checkpoint: Checkpoint) -> ChainReport:
    """Check that the first ``checkpoint.tree_size`` entries still have the checkpoint's Merkle root.

    Detects a truncated tail (rollback) and any rewrite of covered history, even one re-signed with the
    ledger's own key. Entries appended after the checkpoint are allowed. Never raises.
    """
    problem = _checkpoint_size_problem(len(entries), checkpoint)
    if problem is None:
        covered = entries[: checkpoint.tree_size]
        problem = _checkpoint_root_problem(covered, [_entry_hash_bytes(entry) for entry in covered], checkpoint)
    return ChainReport(entries_checked=len(entries), problems=() if problem is None else (problem,))


def _checkpoint_size_problem(entry_count: int, checkpoint: Checkpoint) -> Problem | None:
    size, root_hash = checkpoint.tree_size, checkpoint.root_hash
    if not (isinstance(size, int) and not isinstance(size, bool) and size >= 0 and isinstance(root_hash, str)):
        return Problem(ProblemKind.CHECKPOINT_MISMATCH, None, None, "the checkpoint is malformed")
    if entry_count < size:
        return Problem(
            ProblemKind.ROLLBACK,
            entry_count + 1,
            None,
            f"the ledger has {entry_count} entries but a checkpoint covers {size}: "
            f"{_span(entry_count + 1, size)} removed (rolled back)",
        )
    return None


def _checkpoint_root_problem(
    entries: Sequence[object], hash_bytes: Sequence[bytes | None], checkpoint: Checkpoint
) -> Problem | None:
    """The problem with a well-formed checkpoint that the ledger reaches, given each entry's decoded entry_hash."""
    covered = hash_bytes[: checkpoint.tree_size]
    if None in covered:
        position = covered.index(None)
        return Problem(
            ProblemKind.CHECKPOINT_MISMATCH,
            _sequence_or_none(entries[position]),
            position,
            "the checkpoint root cannot be recomputed: this entry has no valid entry_hash",
        )
    if merkle.root([merkle.leaf_hash(raw) for raw in covered]).hex() != checkpoint.root_hash:
        return Problem(
            ProblemKind.CHECKPOINT_MISMATCH,
            None,
            None,
            f"the first {checkpoint.tree_size} entries are not the ones the checkpoint recorded: history was rewritten",
        )
    return None


def _entry_shape(entry: object) -> tuple[int | None, bytes | None, str | None]:
    """An entry's sequence number and the 32 bytes its entry_hash spells, each None where unreadable, and why
    the entry is malformed, if it is."""
    if not isinstance(entry, Mapping):
        return None, None, f"an entry must be a mapping, not {type(entry).__name__}"
    sequence = _sequence(entry.get("sequence"))
    raw_hash = _hash_bytes(entry.get("entry_hash"))
    return sequence, raw_hash, _shape_error(entry, sequence, raw_hash)


def _shape_error(entry: Mapping[str, Any], sequence: int | None, raw_hash: bytes | None) -> str | None:
    missing = [name for name in REQUIRED_FIELDS if name not in entry]
    if missing:
        return f"missing field(s): {', '.join(missing)}"
    if sequence is None:
        return f"sequence must be an integer of at least 1, not {entry['sequence']!r}"
    if not _is_hex_hash(entry["prev_hash"]):
        return "prev_hash must be 64 lower-case hex characters"
    if raw_hash is None:
        return "entry_hash must be 64 lower-case hex characters"
    for name in ("key_id", "signature"):
        if not isinstance(entry[name], str):
            return f"{name} must be a string"
    return None


def _entry_problems(
    position: int, entry: Mapping[str, Any], recomputed: str | CanonicalError, public_keys: Mapping[str, bytes]
) -> list[Problem]:
    sequence = entry["sequence"]
    problems = []
    if isinstance(recomputed, CanonicalError):
        problems.append(Problem(ProblemKind.MALFORMED, sequence, position, f"cannot be hashed: {recomputed}"))
    else:
        if recomputed != entry["entry_hash"]:
            problems.append(
                Problem(
                    ProblemKind.CONTENT_CHANGED,
                    sequence,
                    position,
                    "the entry's fields do not hash to its stored entry_hash: its content was changed",
                )
            )
    # The signature is checked over the stored hash, so a content change and a forged hash are told apart.
    key_id = entry["key_id"]
    if key_id not in public_keys:
        problems.append(
            Problem(ProblemKind.UNKNOWN_KEY, sequence, position, f"signed with unknown key id {key_id[:40]!r}")
        )
    elif not verify(public_keys, key_id, entry_signing_payload(entry["entry_hash"]), entry["signature"]):
        problems.append(
            Problem(ProblemKind.BAD_SIGNATURE, sequence, position, f"the signature is not valid under key {key_id}")
        )
    return problems


# (position, sequence, well_formed) of an entry with a readable sequence number. Plain tuples of numbers: the
# garbage collector stops tracking them, where a named tuple per entry of a long ledger kept it busy.
_Numbered = tuple[int, int, bool]


def _order_problems(entries: Sequence[Mapping[str, Any]], numbered: list[_Numbered]) -> list[Problem]:
    problems: list[Problem] = []
    first: dict[int, _Numbered] = {}  # the first entry with each sequence number
    repeated: dict[int, list[_Numbered]] = {}  # all the entries of a number that appears more than once
    highest = 0
    for item in numbered:
        position, sequence, _ = item
        if sequence < highest:
            problems.append(
                Problem(ProblemKind.REORDERED, sequence, position, f"entry {sequence} comes after entry {highest}")
            )
        else:
            highest = sequence
        earlier = first.setdefault(sequence, item)
        if earlier is not item:
            repeated.setdefault(sequence, [earlier]).append(item)

    expected = 1
    for sequence in sorted(first):
        if sequence > expected:
            problems.append(
                Problem(
                    ProblemKind.MISSING,
                    expected,
                    first[sequence][0],
                    f"{_span(expected, sequence - 1)} not found: deleted, or renumbered",
                )
            )
        expected = sequence + 1

    chosen = dict(first)
    for sequence, candidates in repeated.items():
        # Of several entries claiming one number, the genuine one is the one its successor links to.
        successors = repeated.get(sequence + 1) or ([first[sequence + 1]] if sequence + 1 in first else [])
        linked = {entries[position]["prev_hash"] for position, _, well_formed in successors if well_formed}
        genuine = [item for item in candidates if item[2] and entries[item[0]]["entry_hash"] in linked]
        if len(genuine) == 1:
            chosen[sequence] = genuine[0]
        else:
            del chosen[sequence]
        reason = (
            f"it is not the one entry {sequence + 1} links to"
            if len(genuine) == 1
            else "which one is genuine cannot be told"
        )
        for item in candidates:
            if len(genuine) != 1 or item is not genuine[0]:
                problems.append(
                    Problem(
                        ProblemKind.INSERTED,
                        sequence,
                        item[0],
                        f"sequence {sequence} appears {len(candidates)} times and {reason}",
                    )
                )

    # Which entry each hash belongs to is only needed to explain a broken link: worked out at the first one.
    owner_of_hash: dict[str, int] | None = None
    for sequence in sorted(chosen):
        position, _, well_formed = chosen[sequence]
        if not well_formed:
            continue
        prev_hash = entries[position]["prev_hash"]
        if sequence == 1:
            if prev_hash != GENESIS:
                problems.append(
                    Problem(ProblemKind.BROKEN_LINK, 1, position, "the first entry's prev_hash is not GENESIS")
                )
            continue
        previous = chosen.get(sequence - 1)
        if previous is None or not previous[2]:
            continue  # the predecessor is missing, ambiguous or malformed, which is already reported
        if prev_hash != entries[previous[0]]["entry_hash"]:
            if owner_of_hash is None:
                owner_of_hash = _hash_owners(entries, first, repeated)
            problems.append(_link_problem(sequence, position, owner_of_hash.get(prev_hash), chosen))
    return problems


def _hash_owners(
    entries: Sequence[Mapping[str, Any]], first: dict[int, _Numbered], repeated: dict[int, list[_Numbered]]
) -> dict[str, int]:
    """The lowest sequence number under which each entry_hash of a well-formed entry appears."""
    owner_of_hash: dict[str, int] = {}
    for sequence in sorted(first):
        for position, _, well_formed in repeated.get(sequence) or [first[sequence]]:
            if well_formed:
                owner_of_hash.setdefault(entries[position]["entry_hash"], sequence)
    return owner_of_hash


def _link_problem(
    sequence: int,
    position: int,
    linked_sequence: int | None,
    chosen: dict[int, _Numbered],
) -> Problem:
    if linked_sequence is not None and linked_sequence < sequence - 1:
        first_inserted = linked_sequence + 1
        return Problem(
            ProblemKind.INSERTED,
            first_inserted,
            chosen[first_inserted][0] if first_inserted in chosen else position,
            f"entry {sequence} links to entry {linked_sequence}: "
            f"{_span(first_inserted, sequence - 1)} did not exist when entry {sequence} was written: inserted",
        )
    if linked_sequence is not None and linked_sequence >= sequence:
        return Problem(
            ProblemKind.REORDERED,
            sequence,
            position,
            f"entry {sequence} links to entry {linked_sequence}, which comes after it",
        )
    return Problem(
        ProblemKind.BROKEN_LINK,
        sequence,
        position,
        f"prev_hash does not match entry {sequence - 1}'s entry_hash: that entry was replaced or re-hashed",
    )


def _span(first: int, last: int) -> str:
    return f"entry {first}" if first == last else f"entries {first}..{last}"


def _sequence_or_none(entry: object) -> int | None:
    return _sequence(entry.get("sequence")) if isinstance(entry, Mapping) else None


def _sequence(value: object) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool) and value >= 1:
        return value
    return None


def _is_hex_hash(value: object) -> bool:
    return isinstance(value, str) and HEX_HASH_PATTERN.fullmatch(value) is not None


def _entry_hash_bytes(entry: object) -> bytes | None:
    return _hash_bytes(entry.get("entry_hash")) if isinstance(entry, Mapping) else None


def _hash_bytes(value: object) -> bytes | None:
    """The 32 bytes a hash spells, or None if it is not 64 lower-case hex."""
    return bytes.fromhex(value) if _is_hex_hash(value) else None


def _sorted(problems: list[Problem]) -> tuple[Problem, ...]:
    def order(problem: Problem) -> tuple[bool, int, bool, int, int]:
        return (
            problem.sequence is None,
            problem.sequence or 0,
            problem.position is None,
            problem.position or 0,
            _KIND_ORDER[problem.kind],
        )

    return tuple(sorted(problems, key=order))
