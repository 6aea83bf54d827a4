"""Fixity checks: stored evidence media and report PDFs re-hashed against the SHA-256 recorded when they were
stored, least recently checked first, a configurable share of all files per scheduled run.

Stored files are encrypted, so a check decrypts as it hashes and two things are verified: the ciphertext's
integrity (every segment's AEAD tag: a flipped, cut or swapped byte on disk) and the plaintext's SHA-256 against
the digest recorded at ingest. The outcome says which failed (`failed`: "ciphertext", "plaintext", "size",
"missing" or "data key").

Every check is recorded in the ledger (`fixity.checked`); a missing file or a mismatch also raises an integrity
alarm (`integrity.alarm`) on each item concerned and stays shown until a later check of the file passes. A check
never deletes or repairs anything: what to do about a damaged copy is for people to decide.
"""

import hashlib
import math
from dataclasses import dataclass, field
from datetime import UTC, datetime

from django.conf import settings
from django.core.files.storage import storages
from django.db import transaction

from cases.models import DigestAlgorithm, EvidenceDigest, EvidenceItem, Organisation
from cases.upload import CHUNK_SIZE
from encryption.hierarchy import CiphertextDamaged, DataKeyDestroyed
from reports.models import Report, ReportStatus

from .ledger import custody_event_record
from .models import Action, FixityState, FixityStore

SCHEDULE_SYSTEM = "fixity schedule"


@dataclass(frozen=True)
class StoredFile:
    """One file a store must hold: where, what it must hash to, and the rows that rely on it."""

    organisation_id: int
    store: FixityStore
    key: str
    sha256: str
    size: int
    evidence_ids: tuple[int, ...] = ()  # the items holding media in this file (identical bytes share it)
    report_id: int | None = None


@dataclass(frozen=True)
class FixityOutcome:
    file: StoredFile
    ok: bool
    finding: str
    failed: str = ""  # what failed: "ciphertext", "plaintext", "size", "missing" or "data key"; "" when ok


@dataclass
class FixityRun:
    total_files: int
    outcomes: list[FixityOutcome] = field(default_factory=list)

    @property
    def failures(self) -> list[FixityOutcome]:
        return [outcome for outcome in self.outcomes if not outcome.ok]


def stored_files() -> list[StoredFile]:
    """Every file the stores must hold now: the media of items not deleted, and every generated report."""
    by_key: dict[str, dict] = {}
    digests = (
        EvidenceDigest.objects.filter(algorithm=DigestAlgorithm.SHA256, item__media_deleted_at__isnull=True)
        .order_by("item__received_at", "item_id")
        .values_list("item__case__organisation_id", "item__storage_key", "value", "item__size", "item_id")
    )
    for organisation_id, key, sha256, size, item_id in digests:
        entry = by_key.setdefault(key, {"organisation_id": organisation_id, "sha256": sha256, "size": size, "ids": []})
        entry["ids"].append(item_id)
    files = [
        StoredFile(e["organisation_id"], FixityStore.EVIDENCE, key, e["sha256"], e["size"], tuple(e["ids"]))
        for key, e in by_key.items()
    ]
    reports = Report.objects.filter(status=ReportStatus.DONE).exclude(storage_key="")
    files += [
        StoredFile(organisation_id, FixityStore.REPORTS, key, sha256, size, report_id=report_id)
        for organisation_id, key, sha256, size, report_id in reports.values_list(
            "case__organisation_id", "storage_key", "sha256", "size", "pk"
        )
    ]
    return files


def least_recently_checked(files: list[StoredFile], share: float) -> list[StoredFile]:
    """The ceil(share × all) files checked longest ago, never-checked ones first, so that every file is checked
    at least once every ceil(1 / share) runs."""
    last: dict[tuple[str, str], datetime] = {
        (store, key): checked_at
        for store, key, checked_at in FixityState.objects.values_list("store", "key", "checked_at")
    }
    never = datetime.min.replace(tzinfo=UTC)
    ordered = sorted(files, key=lambda f: last.get((f.store, f.key), never))
    return ordered[: math.ceil(len(files) * share)]


def fixity_run(*, share: float, system: str) -> FixityRun:
    """Re-hash the given share (0 < share ≤ 1) of all stored files and record every check."""
    if not 0 < share <= 1:
        raise ValueError(f"The share of files per fixity run must be in (0, 1], not {share}.")
    files = stored_files()
    run = FixityRun(total_files=len(files))
    for stored in least_recently_checked(files, share):
        outcome = fixity_check(stored=stored, system=system)
        if outcome is not None:
            run.outcomes.append(outcome)
    return run


def fixity_run_scheduled() -> str:
    """The django-q2 schedule's entry point; the share comes from FIXITY_SHARE_PER_RUN."""
    run = fixity_run(share=settings.FIXITY_SHARE_PER_RUN, system=SCHEDULE_SYSTEM)
    return f"{len(run.outcomes)} of {run.total_files} files checked, {len(run.failures)} failed"


def fixity_check(*, stored: StoredFile, system: str) -> FixityOutcome | None:
    """Re-hash one file (outside any transaction: it may be large) and record the outcome; None when the file
    stopped being needed while it was hashed (its media was deleted meanwhile), which is nothing to record."""
    failed, finding = _finding(stored)
    return _outcome_record(stored=stored, failed=failed, finding=finding, system=system)


def _finding(stored: StoredFile) -> tuple[str, str]:
    """(what failed, what is wrong with the stored copy), or ("", "") when its ciphertext authenticates and its
    plaintext has the recorded size and SHA-256."""
    storage = storages[stored.store]
    hasher, size = hashlib.sha256(), 0
    try:
        with storage.open(stored.key, "rb") as handle:
            for chunk in handle.chunks(CHUNK_SIZE):
                hasher.update(chunk)
                size += len(chunk)
    except FileNotFoundError:
        return "missing", "the stored file is missing"
    except CiphertextDamaged as damage:
        return "ciphertext", f"the stored ciphertext is damaged: {damage}"
    except DataKeyDestroyed as destroyed:
        return "data key", str(destroyed)
    if size != stored.size:
        return "size", f"the stored file has {size} bytes, not the {stored.size} recorded"
    if hasher.hexdigest() != stored.sha256:
        return "plaintext", f"the stored bytes hash to SHA-256 {hasher.hexdigest()}, not {stored.sha256} as recorded"
    return "", ""


@transaction.atomic
def _outcome_record(*, stored: StoredFile, failed: str, finding: str, system: str) -> FixityOutcome | None:
    organisation = Organisation.objects.lock(stored.organisation_id)
    # Under the lock every deletion of media also takes: only items still holding media in this file count.
    items = list(
        EvidenceItem.objects.media_held()
        .filter(pk__in=stored.evidence_ids)
        .select_related("case")
        .order_by("received_at", "id")
    )
    report = Report.objects.select_related("case", "evidence").get(pk=stored.report_id) if stored.report_id else None
    if stored.store == FixityStore.EVIDENCE and not items:
        return None
    # (case, evidence) of each row the file serves: every item sharing the media, or the one report.
    subjects = [(item.case, item) for item in items] or [(report.case, report.evidence)]
    concerns = {"evidence": [str(item.public_id) for item in items]} if items else {"report": str(report.public_id)}
    details = {"store": str(stored.store), "file": stored.key, "expected_sha256": stored.sha256, "ok": not finding}
    if failed:
        details["failed"] = failed
    event = custody_event_record(
        organisation=organisation,
        action=Action.FIXITY_CHECKED,
        system=system,
        case=subjects[0][0],
        evidence=subjects[0][1],
        details=details | concerns | ({"finding": finding} if finding else {}),
    )
    if finding:
        for case, evidence in subjects:
            event = custody_event_record(
                organisation=organisation,
                action=Action.INTEGRITY_ALARM,
                system=system,
                case=case,
                evidence=evidence,
                details={"during": "fixity check", "finding": finding, "expected_size": stored.size}
                | details
                | concerns,
            )
    FixityState.objects.update_or_create(
        store=stored.store,
        key=stored.key,
        defaults={
            "organisation": organisation,
            "checked_at": event.recorded_at,
            "ok": not finding,
            "finding": finding[:500],
            "event": event,
        },
    )
    return FixityOutcome(file=stored, ok=not finding, finding=finding, failed=failed)


def open_fixity_alarms(organisation: Organisation):
    """The organisation's files whose latest fixity check failed, newest first."""
    return (
        FixityState.objects.filter(organisation=organisation, ok=False).select_related("event").order_by("-checked_at")
    )
