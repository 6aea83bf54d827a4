"""Verifying an organisation's stored ledger: every entry, link and signature, every signed checkpoint, and the
high-water mark kept outside the database; and recording in the ledger that a person (or the operator's
command) did so."""

from dataclasses import dataclass
from typing import Any

from cases.models import Organisation

from . import merkle
from .chain import (
    ChainReport,
    Problem,
    ProblemKind,
    chain_verify,
    checkpoint_signing_payload,
    entry_leaf_hashes,
)
from .checkpoints import checkpoint_fields, checkpoint_origin
from .high_water import HighWaterError, high_water_read
from .keys import public_keys
from .ledger import custody_event_record, ledger_entries
from .models import Action, Checkpoint, CustodyEvent, MerkleNode
from .notes import ED25519_NOTE, NoteError, NoteKey, note_verify
from .signing import verify
from .timestamps import timestamp_problems


@dataclass(frozen=True)
class CustodyVerification:
    organisation: Organisation
    report: ChainReport
    checkpoints_checked: int
    latest_checkpoint: Checkpoint | None

    @property
    def ok(self) -> bool:
        return self.report.ok

    def summary(self) -> str:
        if self.ok:
            return (
                f"{self.organisation.slug}: intact — {self.report.entries_checked} entries, "
                f"{self.checkpoints_checked} checkpoints verified."
            )
        first = self.report.first_problem
        where = f"sequence {first.sequence}" if first.sequence is not None else "the ledger"
        return f"{self.organisation.slug}: BROKEN at {where}: {first.label} — {first.detail}"

    def as_details(self) -> dict[str, Any]:
        """The outcome as ledger event details (and API fields): counts, and the first problem if any."""
        first = self.report.first_problem
        return {
            "ok": self.ok,
            "entries_checked": self.report.entries_checked,
            "checkpoints_checked": self.checkpoints_checked,
            "problems": len(self.report.problems),
            "first_problem": None
            if first is None
            else {"kind": str(first.kind), "label": first.label, "sequence": first.sequence, "detail": first.detail},
            "summary": self.summary(),
        }


def custody_verify(organisation: Organisation) -> CustodyVerification:
    """Verify the organisation's whole chain and all its checkpoints; records nothing."""
    entries = ledger_entries(CustodyEvent.objects.filter(organisation=organisation))
    keys = public_keys()
    report = chain_verify(entries, keys)
    checkpoints = list(Checkpoint.objects.filter(organisation=organisation).order_by("tree_size", "made_at"))
    problems = [
        *report.problems,
        *_checkpoint_problems(organisation, entries, checkpoints, keys),
        *_high_water_problems(organisation, entries),
        *timestamp_problems(checkpoints),
        *_tree_problems(organisation, entries),
    ]
    problems.sort(key=lambda p: (p.sequence is None, p.sequence or 0))
    return CustodyVerification(
        organisation=organisation,
        report=ChainReport(entries_checked=len(entries), problems=tuple(problems)),
        checkpoints_checked=len(checkpoints),
        latest_checkpoint=checkpoints[-1] if checkpoints else None,
    )


def custody_verification_run(
    *, organisation: Organisation, via: str, actor=None, system: str = ""
) -> tuple[CustodyVerification, CustodyEvent]:
    """Verify the organisation's ledger and record the outcome as a `custody.verified` event.

    The event is appended after the check, so it is itself covered by the next verification; a broken chain
    is recorded too, which is what makes a failed check visible later.
    """
    verification = custody_verify(organisation)
    event = custody_event_record(
        organisation=organisation,
        action=Action.CUSTODY_VERIFIED,
        actor=actor,
        system=system,
        details={"via": via} | verification.as_details(),
    )
    return verification, event


def _checkpoint_problems(organisation, entries, checkpoints, keys) -> list[Problem]:
    problems = []
    covered = [c.tree_size for c in checkpoints if c.tree_size <= len(entries)]
    try:
        roots = merkle.prefix_roots(entry_leaf_hashes(entries), covered)
    except ValueError:  # an entry hash that is not hex: the chain report already names that entry
        roots = {}
    for number, checkpoint in enumerate(checkpoints, start=1):
        label = f"checkpoint {number} (size {checkpoint.tree_size}, {checkpoint.made_at:%Y-%m-%d %H:%M:%S} UTC)"
        payload = checkpoint_signing_payload(checkpoint_fields(checkpoint, organisation))
        if not verify(keys, checkpoint.key_id, payload, checkpoint.signature):
            problems.append(Problem(ProblemKind.BAD_SIGNATURE, None, None, f"{label} has an invalid signature"))
        if checkpoint.note is not None and (note_problem := _note_problem(organisation, checkpoint, keys)):
            problems.append(Problem(ProblemKind.BAD_SIGNATURE, None, None, f"{label}: its signed note {note_problem}"))
        if checkpoint.tree_size > len(entries):
            detail = f"the ledger has {len(entries)} entries but {label} covers {checkpoint.tree_size}: rolled back"
            problems.append(Problem(ProblemKind.ROLLBACK, len(entries) + 1, None, detail))
        elif checkpoint.tree_size in roots and roots[checkpoint.tree_size].hex() != checkpoint.root_hash:
            detail = f"inconsistent with {label}: the entries it covers were rewritten"
            problems.append(Problem(ProblemKind.CHECKPOINT_MISMATCH, None, None, detail))
    return problems


def _high_water_problems(organisation, entries) -> list[Problem]:
    try:
        mark = high_water_read(organisation.public_id)
    except HighWaterError as error:
        return [Problem(ProblemKind.MALFORMED, None, None, f"the high-water mark cannot be trusted: {error}")]
    if mark is None:
        return []
    stored = {entry["sequence"]: entry["entry_hash"] for entry in entries}
    head = max(stored, default=0)
    if head < mark.sequence:
        removed = f"entry {mark.sequence}" if head + 1 == mark.sequence else f"entries {head + 1}..{mark.sequence}"
        detail = (
            f"the database's ledger ends at sequence {head}, but the high-water mark kept outside the database "
            f"records sequence {mark.sequence} (entry hash {mark.entry_hash}) as committed: {removed} removed"
        )
        return [Problem(ProblemKind.ROLLBACK, head + 1, None, detail)]
    if mark.sequence in stored and stored[mark.sequence] != mark.entry_hash:
        detail = (
            f"entry {mark.sequence} is not the one the high-water mark recorded as committed "
            f"(entry hash {mark.entry_hash}): it was replaced"
        )
        return [Problem(ProblemKind.CHECKPOINT_MISMATCH, mark.sequence, None, detail)]
    return []


def _note_problem(organisation, checkpoint, keys) -> str | None:
    origin = checkpoint_origin(organisation)
    raw = keys.get(checkpoint.key_id)
    if raw is None:
        return f"is signed with unknown key id {checkpoint.key_id}"
    try:
        head = note_verify(checkpoint.note, NoteKey(origin, ED25519_NOTE, raw))
    except NoteError as error:
        return f"does not verify: {error}"
    if (head.origin, head.tree_size, head.root.hex()) != (origin, checkpoint.tree_size, checkpoint.root_hash):
        return "names another origin, size or root than the checkpoint"
    return None


def _tree_problems(organisation, entries) -> list[Problem]:
    """Compare the stored subtree hashes with those recomputed from the entries, in ledger order."""
    try:
        leaves = entry_leaf_hashes(entries)
    except ValueError:  # an entry hash that is not hex: the chain report already names that entry
        return []
    stored = {
        (level, position): bytes(value)
        for level, position, value in MerkleNode.objects.filter(organisation=organisation).values_list(
            "level", "position", "hash"
        )
    }
    stored_leaves = sum(1 for level, _ in stored if level == 0)
    problems = []
    if stored_leaves != len(leaves):
        detail = f"the tree store holds {stored_leaves} leaves but the ledger {len(leaves)} entries"
        problems.append(Problem(ProblemKind.TREE_MISMATCH, min(stored_leaves, len(leaves)) + 1, None, detail))
    for node, value in merkle.tree_nodes(leaves):
        if stored.get((node.level, node.index)) != value:
            where = f"leaf {node.index}" if node.level == 0 else f"node at level {node.level}, position {node.index}"
            state = "is missing" if (node.level, node.index) not in stored else "differs from the entries'"
            sequence = node.index + 1 if node.level == 0 else None
            problems.append(Problem(ProblemKind.TREE_MISMATCH, sequence, None, f"the stored {where} {state}"))
            break
    return problems
