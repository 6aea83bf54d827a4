"""How a custody ledger entry reads to a person: one sentence saying who did what to which item, the key facts of
its details (digests marked so the page can shorten them and offer a copy button), and the signed entry exactly as
the offline verifier sees it. Used by the case custody page; the ledger itself is never changed by it."""

import json
import re
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .canonical import datetime_text
from .ledger import SYSTEM_ACTOR_PREFIX, event_fields
from .models import Action, CustodyEvent

# What happened, as a sentence; %(actor)s is who (a person or the system), %(evidence)s the item's file name.
SENTENCES = {
    Action.CASE_CREATED: gettext_lazy("%(actor)s created the case."),
    Action.CASE_UPDATED: gettext_lazy("%(actor)s changed the case's details."),
    Action.CASE_ASSIGNED: gettext_lazy("%(actor)s assigned investigators to the case."),
    Action.CASE_STATUS_CHANGED: gettext_lazy("%(actor)s changed the case's status."),
    Action.CASE_CLOSED: gettext_lazy("%(actor)s closed the case."),
    Action.NOTE_ADDED: gettext_lazy("%(actor)s added a note."),
    Action.EVIDENCE_RECEIVED: gettext_lazy("%(actor)s received %(evidence)s."),
    Action.EVIDENCE_VIEWED: gettext_lazy("%(actor)s viewed the findings and metadata of %(evidence)s."),
    Action.MEDIA_VIEWED: gettext_lazy("%(actor)s viewed a preview of %(evidence)s."),
    Action.MEDIA_DOWNLOADED: gettext_lazy("%(actor)s downloaded the original of %(evidence)s."),
    Action.INTEGRITY_ALARM: gettext_lazy("Integrity alarm: the stored copy of %(evidence)s did not match (%(actor)s)."),
    Action.EVIDENCE_TRANSFERRED: gettext_lazy("%(actor)s transferred %(evidence)s to another case."),
    Action.MEDIA_DELETED: gettext_lazy("%(actor)s deleted the stored media of %(evidence)s."),
    Action.ANALYSIS_QUEUED: gettext_lazy("%(actor)s queued the analysis of %(evidence)s."),
    Action.ANALYSIS_STARTED: gettext_lazy("%(actor)s started the analysis of %(evidence)s."),
    Action.ANALYSIS_COMPLETED: gettext_lazy("%(actor)s completed the analysis of %(evidence)s."),
    Action.ANALYSIS_FAILED: gettext_lazy("The analysis of %(evidence)s failed (%(actor)s)."),
    Action.REPORT_GENERATED: gettext_lazy("%(actor)s generated a signed report on %(evidence)s."),
    Action.REPORT_DOWNLOADED: gettext_lazy("%(actor)s downloaded a report on %(evidence)s."),
    Action.CHECKPOINT_MADE: gettext_lazy("%(actor)s signed a checkpoint of the ledger."),
    Action.CUSTODY_VERIFIED: gettext_lazy("%(actor)s verified the ledger."),
    Action.REVIEW_SIGNED_OFF: gettext_lazy("%(actor)s signed off the review of the case."),
    Action.LEGAL_HOLD_SET: gettext_lazy("%(actor)s placed a legal hold on the case."),
    Action.LEGAL_HOLD_RELEASED: gettext_lazy("%(actor)s lifted the legal hold on the case."),
    Action.FIXITY_CHECKED: gettext_lazy("%(actor)s re-hashed the stored copy of %(evidence)s (fixity check)."),
    Action.EXPORT_CREATED: gettext_lazy("%(actor)s created a sealed export."),
}

# Labels of the detail keys the writers record; any other key is shown with its name in words.
FACT_LABELS = {
    "sha256": gettext_lazy("SHA-256"),
    "sha1": gettext_lazy("SHA-1"),
    "md5": gettext_lazy("MD5"),
    "comment_sha256": gettext_lazy("Comment SHA-256"),
    "note_sha256": gettext_lazy("Note SHA-256"),
    "manifest_sha256": gettext_lazy("Manifest SHA-256"),
    "expected_sha256": gettext_lazy("Expected SHA-256"),
    "found_sha256": gettext_lazy("Found SHA-256"),
    "root_hash": gettext_lazy("Root hash"),
    "size": gettext_lazy("Size"),
    "expected_size": gettext_lazy("Expected size"),
    "length": gettext_lazy("Length (characters)"),
    "from": gettext_lazy("From"),
    "to": gettext_lazy("To"),
    "via": gettext_lazy("Through"),
    "detected_mime_type": gettext_lazy("Detected type"),
    "declared_mime_type": gettext_lazy("Declared type"),
    "original_filename": gettext_lazy("File name as sent"),
    "type_mismatches": gettext_lazy("Type mismatches"),
    "duplicate_of": gettext_lazy("Duplicate of item"),
    "found_at": gettext_lazy("Found at"),
    "collected_by": gettext_lazy("Collected by"),
    "collected_at": gettext_lazy("Collected at"),
    "tree_size": gettext_lazy("Entries covered"),
}
SIZE_KEYS = frozenset({"size", "expected_size"})
HEX_DIGEST = re.compile(r"[0-9a-f]{32,128}")
# A group of more values than this, none a digest, is one fact: "Tool versions: exiftool 12.57, mediainfo 24.12, …".
GROUP_ON_ONE_LINE = 4
# Digests are shown as their first characters; the copy button and the raw entry give the whole value.
DIGEST_SHOWN = 12


@dataclass(frozen=True)
class Fact:
    label: str
    value: str
    digest: bool = False

    @property
    def short(self) -> str:
        return f"{self.value[:DIGEST_SHOWN]}…" if self.digest and len(self.value) > DIGEST_SHOWN else self.value


@dataclass(frozen=True)
class TimelineEntry:
    event: CustodyEvent
    sentence: str
    facts: list[Fact]
    signed_entry: str
    # When it was recorded, in the current time zone: ISO 8601 for the <time> element, and as people read it.
    recorded_at_iso: str
    recorded_at_text: str


def actor_words(actor_label: str) -> str:
    """The actor as a person reads it: a username as recorded, or "The system (analysis)" for a background task."""
    if actor_label.startswith(SYSTEM_ACTOR_PREFIX):
        return _("The system (%(task)s)") % {"task": actor_label.removeprefix(SYSTEM_ACTOR_PREFIX)}
    return actor_label


def event_sentence(event: CustodyEvent) -> str:
    template = SENTENCES.get(event.action, gettext_lazy("%(actor)s: %(action)s."))
    evidence = event.evidence.original_filename if event.evidence_id else _("an item of the case")
    return str(template) % {"actor": actor_words(event.actor_label), "evidence": evidence, "action": event.action}


def _label(key: str) -> str:
    return str(FACT_LABELS.get(key, key.replace("_", " ").capitalize()))


def _is_digest(value: Any) -> bool:
    return isinstance(value, str) and HEX_DIGEST.fullmatch(value) is not None


def _text(key: str, value: Any) -> str:
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if key in SIZE_KEYS and isinstance(value, int):
        return _("%(size)s (%(bytes)s bytes)") % {"size": filesizeformat(value), "bytes": f"{value:,}"}
    if isinstance(value, list):
        return ", ".join(str(part) for part in value)
    return str(value)


def event_facts(details: dict[str, Any], prefix: str = "") -> list[Fact]:
    """The details of an entry as labelled facts, nested groups flattened ("Acquisition: found at"), empty values
    left out; the raw entry keeps everything."""
    facts = []
    for key, value in details.items():
        if value is None or value == "" or value == [] or value == {}:
            continue
        label = _label(key)
        if isinstance(value, dict) and len(value) > GROUP_ON_ONE_LINE and not any(map(_is_digest, value.values())):
            # A long table of names and values (the tools and their versions) reads better as one line.
            parts = (f"{name} {_text(name, part)}" for name, part in value.items() if part not in (None, ""))
            facts.append(Fact(label=f"{prefix}{label}", value=", ".join(parts)))
            continue
        if isinstance(value, dict):
            # Digests are named by their algorithm alone ("SHA-256"), the group name adds nothing to them.
            nested_prefix = "" if key == "digests" else f"{prefix}{label}: "
            facts.extend(event_facts(value, nested_prefix))
            continue
        label = f"{prefix}{label.lower() if prefix else label}"
        facts.append(Fact(label=label, value=_text(key, value), digest=_is_digest(value)))
    return facts


def _json_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return datetime_text(value)
    if isinstance(value, uuid.UUID):
        return str(value)
    raise TypeError(type(value).__name__)


def signed_entry(event: CustodyEvent) -> str:
    """The entry's hashed fields with its key id, hash and signature, as exports and the verifier name them.

    Needs `organisation`, `case` and `evidence` selected with the event."""
    fields = event_fields(
        organisation_id=event.organisation.public_id,
        sequence=event.sequence,
        recorded_at=event.recorded_at,
        actor=event.actor_label,
        action=event.action,
        case_id=event.case.public_id if event.case_id else None,
        evidence_id=event.evidence.public_id if event.evidence_id else None,
        details=event.details,
        prev_hash=event.prev_hash,
    ) | {"key_id": event.key_id, "entry_hash": event.entry_hash, "signature": event.signature}
    return json.dumps(fields, ensure_ascii=False, indent=2, sort_keys=True, default=_json_value)


def recorded_at_texts(moment: datetime) -> tuple[str, str]:
    """(ISO 8601, "2026-11-30 13:20:05 UTC") in the current time zone: what the date filters `date:'c'` and
    `date:"Y-m-d H:i:s e"` give, formatted directly (the filter costs some 25 microseconds a call, and a timeline
    page shows up to 50 entries)."""
    local = timezone.localtime(moment)
    return local.isoformat(), local.strftime("%Y-%m-%d %H:%M:%S ") + (local.tzname() or "")


def timeline_entry(event: CustodyEvent) -> TimelineEntry:
    recorded_at_iso, recorded_at_text = recorded_at_texts(event.recorded_at)
    return TimelineEntry(
        event=event,
        sentence=event_sentence(event),
        facts=event_facts(event.details),
        signed_entry=signed_entry(event),
        recorded_at_iso=recorded_at_iso,
        recorded_at_text=recorded_at_text,
    )
