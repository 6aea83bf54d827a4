"""How a custody ledger entry reads to a person: one sentence saying who did what to which item, the key facts of
its details (digests marked so the page can shorten them and offer a copy button), and the signed entry exactly as
the offline verifier sees it. Used by the case custody page and the evidence page; the ledger itself is never
changed by it.

A timeline's entries are made in Python once a page, each with its list item's HTML (`timeline_entries`): made by
the template, each entry cost a dozen variable lookups and escapes, a translated label per digest and the labels and
sentences translated again for every entry; the page's 50 entries were most of the evidence page's rendering."""

import json
import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, tzinfo
from html import escape
from json.encoder import encode_basestring
from typing import Any, NamedTuple

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cases.evidence_rows import link_parts
from cases.models import Verdict
from cases.sizes import size_words

from .canonical import datetime_text
from .ledger import SYSTEM_ACTOR_PREFIX, event_fields
from .models import Action

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
    Action.ANALYSIS_FAILED: gettext_lazy("%(actor)s recorded that the analysis of %(evidence)s failed."),
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
    "result_sha256": gettext_lazy("Result SHA-256"),
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


class TimelineEvent(NamedTuple):
    """What a timeline shows of a ledger entry (`timeline_rows` reads it): the fields its hash covers, its public
    ids named as the verifier names them, and its item's file name."""

    organisation: uuid.UUID
    sequence: int
    recorded_at: datetime
    actor_label: str
    action: str
    case: uuid.UUID | None
    evidence: uuid.UUID | None
    details: dict[str, Any]
    prev_hash: str
    key_id: str
    entry_hash: str
    signature: str
    evidence_filename: str | None


@dataclass(frozen=True)
class TimelineEntry:
    event: TimelineEvent
    sentence: str
    facts: list[Fact]
    signed_entry: str
    # The entry as the timeline's list shows it (custody/_timeline.html places them).
    html: SafeString


def actor_words(actor_label: str) -> str:
    """The actor as a person reads it: a username as recorded, or "The system (analysis)" for a background task."""
    if actor_label.startswith(SYSTEM_ACTOR_PREFIX):
        return _("The system (%(task)s)") % {"task": actor_label.removeprefix(SYSTEM_ACTOR_PREFIX)}
    return actor_label


def event_sentence(event: TimelineEvent) -> str:
    template = SENTENCES.get(event.action, gettext_lazy("%(actor)s: %(action)s."))
    evidence = event.evidence_filename if event.evidence else _("an item of the case")
    return str(template) % {"actor": actor_words(event.actor_label), "evidence": evidence, "action": event.action}


def _label(key: str) -> str:
    return str(FACT_LABELS.get(key, key.replace("_", " ").capitalize()))


def _is_digest(value: Any) -> bool:
    return isinstance(value, str) and HEX_DIGEST.fullmatch(value) is not None


def _text(key: str, value: Any) -> str:
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if key == "verdict" and value in Verdict.values:
        # The verdict's sentence, as the item's page states it, not its code ("attention").
        return str(Verdict(value).label)
    if key in SIZE_KEYS and isinstance(value, int):
        return size_words(value)
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


def _json_member(value: Any) -> str:
    """A value of the signed entry's top level as json.dumps(ensure_ascii=False, indent=2, sort_keys=True) writes it
    there: a text escaped by the encoder's own function; a list or a dict written alone, each of its lines but the
    first indented one level more (JSON escapes every line break inside a text, so each one is between values)."""
    if isinstance(value, (uuid.UUID, datetime)):
        value = _json_value(value)
    if isinstance(value, str):
        return encode_basestring(value)
    if isinstance(value, (list, dict)) and value:
        alone = json.dumps(value, ensure_ascii=False, indent=2, sort_keys=True, default=_json_value)
        return alone.replace("\n", "\n  ")
    return json.dumps(value, ensure_ascii=False)  # a number, null, or an empty list or dict


def signed_entry(event: TimelineEvent) -> str:
    """The entry's hashed fields with its key id, hash and signature, as exports and the verifier name them, in
    the text json.dumps(fields, ensure_ascii=False, indent=2, sort_keys=True) gives: written a field at a time, since
    that encoder writes indented text in Python, several times slower than it writes a text or a number."""
    fields = event_fields(
        organisation_id=event.organisation,
        sequence=event.sequence,
        recorded_at=event.recorded_at,
        actor=event.actor_label,
        action=event.action,
        case_id=event.case,
        evidence_id=event.evidence,
        details=event.details,
        prev_hash=event.prev_hash,
    ) | {"key_id": event.key_id, "entry_hash": event.entry_hash, "signature": event.signature}
    members = ",\n".join(f"  {encode_basestring(key)}: {_json_member(fields[key])}" for key in sorted(fields))
    return f"{{\n{members}\n}}"


def recorded_at_texts(moment: datetime, zone: tzinfo | None = None) -> tuple[str, str]:
    """(ISO 8601, "2026-11-30 13:20:05 UTC") in `zone`, by default the current time zone: what the date filters
    `date:'c'` and `date:"Y-m-d H:i:s e"` give, formatted directly (the filter costs some 25 microseconds a call, and
    a timeline page shows up to 50 entries)."""
    local = timezone.localtime(moment, zone)
    return local.isoformat(), local.strftime("%Y-%m-%d %H:%M:%S ") + (local.tzname() or "")


def timeline_rows(events: QuerySet) -> QuerySet:
    """`events` as the rows `timeline_entries` reads, the fields of TimelineEvent: read as tuples, not as events
    with their organisation, case and item (four model instances an entry cost more than the rest of the query)."""
    return events.values_list(
        *("organisation__public_id", "sequence", "recorded_at", "actor_label", "action", "case__public_id"),
        *("evidence__public_id", "details", "prev_hash", "key_id", "entry_hash", "signature"),
        "evidence__original_filename",
    )


def timeline_entries(rows: Iterable[tuple], *, show_evidence: bool) -> list[TimelineEntry]:
    """Ledger entries read by `timeline_rows` as timeline entries in the active language and time zone, each with
    its list item; `show_evidence` links each entry to its item.

    The labels the same in every entry are translated once, and the entries' sentences and details, which repeat
    (the same people viewing the same item), are put into words once each. Texts are escaped by html.escape, which
    Django's escape calls after checking for a lazy text (none here)."""
    zone = timezone.get_current_timezone()
    open_item = escape(_("Open the item"))
    copy_label = escape(_("Copy"))
    signed_ledger_entry = escape(_("Signed ledger entry"))
    copy_from = _("Copy from ledger entry %(sequence)s: %(label)s")
    link_start, link_end = link_parts("cases:evidence-detail")
    sentences: dict[tuple[str, str, str | None], str] = {}
    facts_of: dict[str, list[Fact]] = {}
    entries = []
    for row in rows:
        event = TimelineEvent._make(row)
        sequence = str(event.sequence)
        recorded_at_iso, recorded_at_text = recorded_at_texts(event.recorded_at, zone)
        said = (event.action, event.actor_label, event.evidence_filename)
        if said not in sentences:
            sentences[said] = event_sentence(event)
        sentence = sentences[said]
        link = ""
        if show_evidence and event.evidence:
            link = (
                f' <a href="{link_start}{event.evidence}{link_end}" class="small">{open_item}'
                f'<span class="sr-only"> {escape(event.evidence_filename)}</span></a>'
            )
        details = repr(event.details)
        if details not in facts_of:
            facts_of[details] = event_facts(event.details)
        facts = facts_of[details]
        signed = signed_entry(event)
        alarm = " alarm" if event.action == Action.INTEGRITY_ALARM else ""
        html = (
            f'\n  <li class="entry{alarm}" id="entry-{sequence}">\n'
            f'    <p class="sentence"><span class="muted small">#{sequence} · <time datetime="{recorded_at_iso}">'
            f"{escape(recorded_at_text)}</time></span><br>{escape(sentence)}{link}</p>\n"
            f"    {_facts_list(facts, sequence, copy_from, copy_label)}\n"
            f'    <details class="signed-entry"><summary>{signed_ledger_entry}</summary>'
            f'<pre class="mono small">{escape(signed)}</pre></details>\n'
            "  </li>\n"
        )
        entries.append(TimelineEntry(event, sentence, facts, signed, mark_safe(html)))
    return entries


def _facts_list(facts: list[Fact], sequence: str, copy_from: str, copy_label: str) -> str:
    """An entry's facts as its list shows them: a digest shortened, with a button copying it whole."""
    if not facts:
        return ""
    terms = []
    for fact in facts:
        label = escape(fact.label)
        if fact.digest:
            value = escape(fact.value)
            copy = copy_from % {"sequence": sequence, "label": label}
            shown = (
                f'<code class="mono" title="{value}">{escape(fact.short)}</code> <button type="button" class="copy" '
                f'hidden data-copy-text="{value}" data-copy-label="{label}" aria-label="{copy}">{copy_label}</button>'
            )
        else:
            shown = escape(fact.value)
        terms.append(f"\n      <dt>{label}</dt><dd>{shown}</dd>")
    return f'<dl class="entry-facts">{"".join(terms)}\n    </dl>'
