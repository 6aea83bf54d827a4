"""What a report says, gathered from the database into plain template context: the evidence identity, the latest
analysis with its findings, assessment, key facts, metadata and structure, the custody log with an inclusion proof
for every event, the result of verifying the ledger and the signed checkpoint the report is anchored to."""

import base64
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.core.files.storage import storages

from cases.models import AnalysisStatus, Case, EvidenceItem
from cases.previews import PreviewUnavailable, thumbnail_comparison_get_or_create
from cases.sizes import size_words
from custody import merkle
from custody.checkpoints import checkpoint_make
from custody.keys import public_keys
from custody.merkle_store import TreeIncomplete, stored_inclusion_proofs, stored_leaf_hashes, stored_root
from custody.models import Checkpoint, CustodyEvent
from custody.signing import public_key_b64
from custody.verification import custody_verify
from forensics.examination import examination_lines, incomplete_count
from forensics.models import Analysis
from forensics.presentation import assessment_lines, heif_item_units, key_facts, metadata_groups, stream_lines
from forensics.rules.thumbnail import COMPARISON_RULES

from .models import Report

# Boxes deeper than this are counted, not listed: the report shows the file's shape, the API has every box.
MP4_BOX_DEPTH_SHOWN = 1


@dataclass(frozen=True)
class ProvedEvent:
    """One custody event as the report prints it, with its RFC 6962 audit path (None when no proof can be made)."""

    sequence: int
    recorded_at: datetime
    actor: str
    action: str
    details: str
    entry_hash: str
    proof: list[str] | None

    @property
    def leaf_index(self) -> int:
        return self.sequence - 1


@dataclass(frozen=True)
class Anchor:
    """The checkpoint a report is anchored to, and whether the stored ledger tree still has its root (then each
    event's inclusion proof is read from the stored subtrees, O(log n) rows, custody.merkle_store)."""

    checkpoint: Checkpoint
    tree_intact: bool
    custody_public_key: str

    @property
    def proofs_available(self) -> bool:
        return self.tree_intact


def anchor_make(case: Case) -> Anchor:
    """Make a checkpoint covering every event recorded so far (unless the latest already does) and check its tree."""
    organisation = case.organisation
    checkpoint_make(organisation=organisation, reason="report")
    # Re-read rather than use the return value: None means the latest one already covers everything, and a
    # concurrent checkpoint may have been made meanwhile.
    checkpoint = Checkpoint.objects.filter(organisation=organisation).order_by("-tree_size", "-made_at").first()
    try:
        intact = stored_root(organisation.pk, checkpoint.tree_size).hex() == checkpoint.root_hash
    except TreeIncomplete:
        intact = False
    raw_key = public_keys().get(checkpoint.key_id)
    return Anchor(
        checkpoint=checkpoint,
        # Proofs against a tree the ledger no longer holds would not verify; the report says so instead.
        tree_intact=intact,
        custody_public_key=public_key_b64(raw_key) if raw_key else "",
    )


def custody_log(events, anchor: Anchor) -> list[ProvedEvent]:
    """The given events up to the checkpoint, oldest first, each with its inclusion proof (None for an event whose
    entry hash is not the leaf the checkpoint's tree holds: it was changed since)."""
    rows = []
    checkpoint = anchor.checkpoint
    events = list(events.filter(sequence__lte=checkpoint.tree_size).order_by("sequence"))
    leaves = stored_leaf_hashes(checkpoint.organisation_id, [event.sequence - 1 for event in events])
    proved = [
        event.sequence - 1
        for event in events
        if anchor.tree_intact and leaves.get(event.sequence - 1) == merkle.leaf_hash(bytes.fromhex(event.entry_hash))
    ]
    proofs = stored_inclusion_proofs(checkpoint.organisation_id, proved, checkpoint.tree_size)
    for event in events:
        proof = proofs.get(event.sequence - 1)
        if proof is not None:
            proof = [node.hex() for node in proof]
        rows.append(
            ProvedEvent(
                sequence=event.sequence,
                recorded_at=event.recorded_at,
                actor=event.actor_label,
                action=event.get_action_display(),
                details=json.dumps(event.details, ensure_ascii=False, sort_keys=True, separators=(", ", ": ")),
                entry_hash=event.entry_hash,
                proof=proof,
            )
        )
    return rows


def item_section(item: EvidenceItem, anchor: Anchor, *, actor) -> dict[str, Any]:
    """Everything the report says about one evidence item."""
    analysis = Analysis.objects.filter(evidence=item).order_by("-queued_at", "-id").first()
    result = analysis.result if analysis else {}
    examination = examination_lines(result) if analysis and analysis.status == AnalysisStatus.DONE else []
    return {
        "item": item,
        "analysis": analysis,
        "assessment": assessment_lines(item.assessment),
        "key_facts": key_facts(result) if analysis and analysis.status == AnalysisStatus.DONE else [],
        "examination": examination,
        "examination_incomplete": incomplete_count(examination),
        "size_words": size_words(item.size),
        "thumbnail_comparison": thumbnail_comparison_embedded(item, analysis, actor=actor),
        "metadata": metadata_groups(result),
        "mediainfo_tracks": mediainfo_tracks(result),
        "structure": structure_summary(result),
        "c2pa": (result or {}).get("c2pa") or {},
        "custody_log": custody_log(CustodyEvent.objects.filter(evidence=item), anchor),
    }


def thumbnail_comparison_embedded(item: EvidenceItem, analysis: Analysis | None, *, actor) -> str | None:
    """The EXIF-thumbnail comparison picture as a data URI, when an EM-THUMB content finding fired and the media is
    still held (it is made from the media, like a preview, and shares its checks); None otherwise."""
    if analysis is None or not item.media_held:
        return None
    if not any(finding.get("rule_id") in COMPARISON_RULES for finding in analysis.findings or []):
        return None
    try:
        key = thumbnail_comparison_get_or_create(item, actor=actor)
    except PreviewUnavailable:
        return None
    with storages["derived"].open(key, "rb") as picture:
        return "data:image/png;base64," + base64.b64encode(picture.read()).decode("ascii")


def mediainfo_tracks(result: dict) -> list[tuple[str, list[tuple[str, str]]]]:
    """MediaInfo's tracks as (title, rows); list values are joined, every field is kept."""
    tracks = ((result or {}).get("mediainfo") or {}).get("tracks") or []
    titled = []
    for number, track in enumerate(tracks, start=1):
        rows = [(name, _text(value)) for name, value in track.items() if name != "track_type"]
        titled.append((f"{track.get('track_type', 'Track')} (track {number})", rows))
    return titled


def _text(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(str(part) for part in value)
    return str(value)


def structure_summary(result: dict) -> dict[str, Any]:
    """The file's structure as the walkers recorded it: JPEG segments, MP4 boxes, PNG chunks, or the RIFF chunks,
    Matroska elements, GIF blocks or TIFF IFDs of the other container walkers; and its video and audio streams."""
    result = result or {}
    summary: dict[str, Any] = {}
    if jpeg := result.get("jpeg"):
        summary["jpeg_segments"] = jpeg.get("segments") or []
    if isobmff := result.get("isobmff"):
        boxes = isobmff.get("boxes") or isobmff.get("top_level") or []
        summary["mp4_boxes"] = [box for box in boxes if box.get("depth", 0) <= MP4_BOX_DEPTH_SHOWN]
        summary["mp4_deeper_boxes"] = len(boxes) - len(summary["mp4_boxes"])
        summary["mp4_brands"] = {
            "major": isobmff.get("major_brand"),
            "compatible": ", ".join(isobmff.get("compatible_brands") or []),
        }
    if png := result.get("png"):
        summary["png_chunks"] = png.get("chunks") or []
        summary["png_chunk_count"] = png.get("chunk_count", len(summary["png_chunks"]))
    for analyser, listing, title in _CONTAINER_WALKS:
        if walk := result.get(analyser):
            units = walk.get(listing) or []
            shown = [unit for unit in units if unit.get("depth", 0) <= MP4_BOX_DEPTH_SHOWN]
            summary["container"] = {"title": title, "units": shown, "deeper": len(units) - len(shown)}
    if items := heif_item_units(result):
        summary["container"] = {"title": "HEIF/AVIF items (listed in the meta box)", "units": items, "deeper": 0}
    if streams := stream_lines(result):
        summary["streams"] = streams
    return summary


# The other container walkers, stored like the MP4 boxes: (result key, list, table title).
_CONTAINER_WALKS = (
    ("riff", "chunks", "RIFF chunks (AVI, WAV, WebP)"),
    ("ebml", "elements", "Matroska/WebM elements"),
    ("gif", "blocks", "GIF blocks"),
    ("tiff", "ifds", "TIFF IFDs"),
)


def report_context(report: Report, anchor: Anchor, generated_at: datetime) -> dict[str, Any]:
    """The template context of an evidence or a case report."""
    case = report.case
    context: dict[str, Any] = {
        "report": report,
        "case": case,
        "organisation": case.organisation,
        "generated_at": generated_at,
        "anchor": anchor,
        "custody_verification": custody_verify(case.organisation),
    }
    if report.evidence_id:
        context["sections"] = [item_section(report.evidence, anchor, actor=report.requested_by)]
        return context
    items = list(case.evidence.select_related("received_by").prefetch_related("digests").order_by("received_at", "id"))
    context["items"] = items
    context["sections"] = [item_section(item, anchor, actor=report.requested_by) for item in items]
    context["case_custody_log"] = custody_log(CustodyEvent.objects.filter(case=case, evidence=None), anchor)
    return context
