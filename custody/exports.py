"""Sealed exports: a case, or one evidence item, as a zip someone else can check without this server.

The zip holds the media still held, each item's metadata and latest analysis (findings included) as JSON, the
generated report PDFs, each item's custody bundle (events with inclusion proofs against a signed checkpoint, see
custody.bundles), the public keys, and ``manifest.json``: the SHA-256 and size of every other file, signed with
the custody key over a domain-separated canonical encoding. `python -m custody.verify_export` checks it all.
The export is recorded in the ledger (`export.created`) with the SHA-256 of the manifest.

The media in an export are decrypted copies, for a recipient who holds none of this installation's keys; the
signed manifest says so (`media_encryption`), so whoever receives or stores the zip knows to protect it.
"""

import hashlib
import json
import zipfile
from dataclasses import dataclass
from typing import Any, BinaryIO

from django.core.files.storage import storages
from django.db.models import Prefetch
from django.utils import timezone
from django.utils.translation import gettext as _

from cases.exceptions import Refused
from cases.media_types import ACCEPTED
from cases.models import Case, EvidenceDigest, EvidenceItem
from cases.upload import CHUNK_SIZE
from encryption.hierarchy import CiphertextDamaged, DataKeyDestroyed
from forensics.models import Analysis
from reports.models import Report, ReportStatus

from .bundles import custody_bundle_build, public_keys_document
from .canonical import datetime_text
from .fixity import StoredFile, fixity_check
from .keys import signing_key
from .ledger import custody_event_record
from .models import Action, CustodyEvent, FixityStore
from .verify_export import EXPORT_FORMAT, EXPORT_VERSION, KEYS_PATH, MANIFEST_PATH, export_manifest_signing_payload

MEDIA_ENCRYPTION = {
    "encrypted": False,
    "statement": (
        "The media and reports in this export are plaintext copies, decrypted from the encrypted store for the "
        "recipient: anyone holding this file can read them. Keep it encrypted in transit and at rest."
    ),
}


class StoredCopyDamaged(Refused):
    status_code = 409

    def __init__(self, what: str, finding: str):
        super().__init__(
            _(
                "No export was made: the stored copy of %(what)s is damaged (%(finding)s). An integrity alarm is "
                "raised in the custody ledger; restore the file from a backup and export again."
            )
            % {"what": what, "finding": finding}
        )


@dataclass(frozen=True)
class SealedExport:
    manifest: dict[str, Any]
    manifest_sha256: str
    event: CustodyEvent
    filename: str


def export_filename(*, case: Case, item: EvidenceItem | None = None) -> str:
    return f"export-{item.public_id}.zip" if item is not None else f"export-{case.reference}.zip"


def export_create(
    *, case: Case, destination: BinaryIO, item: EvidenceItem | None = None, actor=None, system: str = ""
) -> SealedExport:
    """Write the sealed export of `case` (or of its one `item`) to `destination` and record `export.created`.

    Deliberately not one transaction: the custody bundles may make a checkpoint, whose organisation lock would
    otherwise be held while every media file is copied. The event is recorded only once the zip is complete.
    """
    items = _items(case, item)
    reports = Report.objects.filter(case=case, status=ReportStatus.DONE).order_by("generated_at", "id")
    if item is not None:
        reports = reports.filter(evidence=item)
    exported_at = timezone.now()
    # Who an integrity alarm found while copying is recorded as: the command, or the export a person asked for.
    checking = system or f"export by {actor.get_username()}"
    files: list[dict[str, Any]] = []
    listed_items: list[dict[str, Any]] = []
    with zipfile.ZipFile(destination, "w") as archive:
        writer = _Writer(archive, files)
        writer.json("case.json", _case_document(case))
        for exported in items:
            listed_items.append(_item_write(writer, exported, system=checking))
        for report in reports:
            writer.stored_copy(
                f"reports/{report.filename}",
                StoredFile(
                    case.organisation_id,
                    FixityStore.REPORTS,
                    report.storage_key,
                    report.sha256,
                    report.size,
                    report_id=report.pk,
                ),
                what=f"report {report.public_id}",
                system=checking,
            )
        writer.json(KEYS_PATH, public_keys_document())
        manifest = _manifest_sign(
            {
                "format": EXPORT_FORMAT,
                "version": EXPORT_VERSION,
                "organisation": str(case.organisation.public_id),
                "case": {"id": str(case.public_id), "reference": case.reference},
                "evidence": str(item.public_id) if item is not None else None,
                "exported_at": datetime_text(exported_at),
                "exported_by": actor.get_username() if actor is not None else f"system:{system}",
                "items": listed_items,
                "media_encryption": MEDIA_ENCRYPTION,
                "files": sorted(files, key=lambda f: f["path"]),
            }
        )
        manifest_bytes = json.dumps(manifest, indent=2, ensure_ascii=False).encode()
        archive.writestr(MANIFEST_PATH, manifest_bytes, compress_type=zipfile.ZIP_DEFLATED)
    manifest_sha256 = hashlib.sha256(manifest_bytes).hexdigest()
    event = custody_event_record(
        organisation=case.organisation,
        action=Action.EXPORT_CREATED,
        actor=actor,
        system=system,
        case=case,
        evidence=item,
        details={
            "scope": "evidence" if item is not None else "case",
            "manifest_sha256": manifest_sha256,
            "files": len(files),
            "items": [entry["id"] for entry in listed_items],
            "media_included": [entry["id"] for entry in listed_items if entry["media"]],
            "reports": [str(report.public_id) for report in reports],
        },
    )
    return SealedExport(
        manifest=manifest,
        manifest_sha256=manifest_sha256,
        event=event,
        filename=export_filename(case=case, item=item),
    )


def _items(case: Case, item: EvidenceItem | None) -> list[EvidenceItem]:
    items = EvidenceItem.objects.filter(case=case) if item is None else EvidenceItem.objects.filter(pk=item.pk)
    digests = Prefetch("digests", queryset=EvidenceDigest.objects.order_by("algorithm"))
    return list(
        items.select_related("case__organisation", "received_by", "duplicate_of")
        .prefetch_related(digests)
        .order_by("received_at", "id")
    )


class _Writer:
    """Adds files to the zip and lists each one's SHA-256 and size for the manifest."""

    def __init__(self, archive: zipfile.ZipFile, files: list[dict[str, Any]]):
        self.archive, self.files = archive, files

    def json(self, path: str, document: Any) -> None:
        data = json.dumps(document, indent=2, ensure_ascii=False, default=str).encode()
        self.archive.writestr(path, data, compress_type=zipfile.ZIP_DEFLATED)
        self.files.append({"path": path, "sha256": hashlib.sha256(data).hexdigest(), "size": len(data)})

    def stored_copy(self, path: str, stored: StoredFile, *, what: str, system: str) -> None:
        """Copy a stored file in, re-hashed on the way: a copy that no longer matches its recorded SHA-256 is
        raised as an integrity alarm (through the fixity check) and stops the export."""
        hasher, size = hashlib.sha256(), 0
        try:
            with (
                storages[stored.store].open(stored.key, "rb") as source,
                self.archive.open(path, "w", force_zip64=True) as entry,
            ):
                for chunk in source.chunks(CHUNK_SIZE):
                    hasher.update(chunk)
                    size += len(chunk)
                    entry.write(chunk)
        except (FileNotFoundError, CiphertextDamaged, DataKeyDestroyed):
            hasher = None
        if hasher is None or hasher.hexdigest() != stored.sha256 or size != stored.size:
            outcome = fixity_check(stored=stored, system=system)
            raise StoredCopyDamaged(what, outcome.finding if outcome else "the stored file is missing")
        self.files.append({"path": path, "sha256": stored.sha256, "size": size})


def _item_write(writer: _Writer, item: EvidenceItem, *, system: str) -> dict[str, Any]:
    folder = f"evidence/{item.public_id}"
    writer.json(f"{folder}/item.json", _item_document(item))
    writer.json(f"{folder}/analysis.json", _analysis_document(item))
    media = None
    if item.media_held:
        media = f"{folder}/media{ACCEPTED[item.detected_mime_type].extensions[0]}"
        shared_by = tuple(
            EvidenceItem.objects.media_held().filter(storage_key=item.storage_key).values_list("pk", flat=True)
        )
        writer.stored_copy(
            media,
            StoredFile(
                item.case.organisation_id,
                FixityStore.EVIDENCE,
                item.storage_key,
                item.sha256,
                item.size,
                evidence_ids=shared_by,
            ),
            what=f"the media of evidence {item.public_id}",
            system=system,
        )
    bundle = f"{folder}/custody-bundle.json"
    writer.json(bundle, custody_bundle_build(item=item))
    return {"id": str(item.public_id), "sha256": item.sha256, "media": media, "custody_bundle": bundle}


def _manifest_sign(manifest: dict[str, Any]) -> dict[str, Any]:
    key = signing_key()
    manifest["key_id"] = key.key_id
    _, manifest["signature"] = key.sign(export_manifest_signing_payload(manifest))
    return manifest


def _case_document(case: Case) -> dict[str, Any]:
    return {
        "id": str(case.public_id),
        "reference": case.reference,
        "title": case.title,
        "description": case.description,
        "status": case.status,
        "created_at": case.created_at.isoformat(),
        "created_by": case.created_by.get_username(),
        "assignees": sorted(user.get_username() for user in case.assignees.all()),
        "legal_hold": case.legal_hold,
        "legal_hold_reason": case.legal_hold_reason,
        "organisation": {"id": str(case.organisation.public_id), "name": case.organisation.name},
    }


def _item_document(item: EvidenceItem) -> dict[str, Any]:
    return {
        "id": str(item.public_id),
        "case": str(item.case.public_id),
        "original_filename": item.original_filename,
        "declared_mime_type": item.declared_mime_type,
        "detected_mime_type": item.detected_mime_type,
        "type_mismatches": item.type_mismatches,
        "size": item.size,
        "digests": {digest.algorithm: digest.value for digest in item.digests.all()},
        "duplicate_of": str(item.duplicate_of.public_id) if item.duplicate_of else None,
        "received_at": item.received_at.isoformat(),
        "received_by": item.received_by.get_username(),
        "acquisition": {
            "found_at": item.acquired_from,
            "collected_by": item.acquired_by,
            "collected_at": item.acquired_at.isoformat() if item.acquired_at else None,
        },
        "analysis_status": item.analysis_status,
        "verdict": item.verdict,
        "media_deleted_at": item.media_deleted_at.isoformat() if item.media_deleted_at else None,
        "media_deleted_reason": item.media_deleted_reason,
    }


def _analysis_document(item: EvidenceItem) -> dict[str, Any] | None:
    """The item's latest analysis in full (findings, metadata, tool versions), or None when none was run."""
    analysis = Analysis.objects.filter(evidence=item).order_by("-queued_at", "-id").first()
    if analysis is None:
        return None
    return {
        "id": str(analysis.public_id),
        "status": analysis.status,
        "reason": analysis.reason,
        "queued_at": analysis.queued_at.isoformat(),
        "finished_at": analysis.finished_at.isoformat() if analysis.finished_at else None,
        "verdict": analysis.verdict,
        "verdict_sentence": analysis.verdict_sentence,
        "ruleset_version": analysis.ruleset_version,
        "engine_version": analysis.engine_version,
        "tool_versions": analysis.tool_versions,
        "findings": analysis.findings,
        "result": analysis.result,
        "result_sha256": analysis.result_sha256,
        "error": analysis.error,
    }
