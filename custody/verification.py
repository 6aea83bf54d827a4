"""Verifying an organisation's stored ledger: every entry, link and signature, and every signed checkpoint."""

from dataclasses import dataclass

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
from .checkpoints import checkpoint_fields
from .keys import public_keys
from .ledger import ledger_entries
from .models import Checkpoint, CustodyEvent
from .signing import verify


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
        return f"{self.organisation.slug}: BROKEN at {where}: {first.kind} — {first.detail}"


def custody_verify(organisation: Organisation) -> CustodyVerification:
    entries = ledger_entries(CustodyEvent.objects.filter(organisation=organisation))
    keys = public_keys()
    report = chain_verify(entries, keys)
    checkpoints = list(Checkpoint.objects.filter(organisation=organisation).order_by("tree_size", "made_at"))
    problems = list(report.problems) + _checkpoint_problems(organisation, entries, checkpoints, keys)
    problems.sort(key=lambda p: (p.sequence is None, p.sequence or 0))
    return CustodyVerification(
        organisation=organisation,
        report=ChainReport(entries_checked=len(entries), problems=tuple(problems)),
        checkpoints_checked=len(checkpoints),
        latest_checkpoint=checkpoints[-1] if checkpoints else None,
    )


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
        if checkpoint.tree_size > len(entries):
            detail = f"the ledger has {len(entries)} entries but {label} covers {checkpoint.tree_size}: rolled back"
            problems.append(Problem(ProblemKind.ROLLBACK, len(entries) + 1, None, detail))
        elif checkpoint.tree_size in roots and roots[checkpoint.tree_size].hex() != checkpoint.root_hash:
            detail = f"inconsistent with {label}: the entries it covers were rewritten"
            problems.append(Problem(ProblemKind.CHECKPOINT_MISMATCH, None, None, detail))
    return problems
