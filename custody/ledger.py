"""Appending to the ledger. Every recorded action goes through `custody_event_record`, inside the transaction of
the action itself, with the organisation's chain head locked so concurrent appends never fork or leave a gap."""

import logging
from functools import partial
from typing import Any
from uuid import UUID

from django.db import transaction
from django.utils import timezone

from cases.models import Case, EvidenceItem, Organisation

from .chain import GENESIS, entry_seal
from .high_water import HighWaterError, high_water_load, high_water_raise, high_water_read
from .keys import signing_key
from .merkle_store import tree_append
from .models import Action, CustodyEvent

logger = logging.getLogger(__name__)

SYSTEM_ACTOR_PREFIX = "system:"


def event_fields(
    *,
    organisation_id: UUID,
    sequence: int,
    recorded_at,
    actor: str,
    action: str,
    case_id: UUID | None,
    evidence_id: UUID | None,
    details: dict[str, Any],
    prev_hash: str,
) -> dict[str, Any]:
    """The fields an entry hash covers, named as they appear in exports and to the offline verifier."""
    return {
        "organisation": organisation_id,
        "sequence": sequence,
        "recorded_at": recorded_at,
        "actor": actor,
        "action": action,
        "case": case_id,
        "evidence": evidence_id,
        "details": details,
        "prev_hash": prev_hash,
    }


def ledger_entries(events) -> list[dict[str, Any]]:
    """Stored events as the chain verifier and exports see them: hashed fields plus key id, hash and signature."""
    rows = events.order_by("sequence").values_list(
        "organisation__public_id",
        "sequence",
        "recorded_at",
        "actor_label",
        "action",
        "case__public_id",
        "evidence__public_id",
        "details",
        "prev_hash",
        "key_id",
        "entry_hash",
        "signature",
    )
    return [
        event_fields(
            organisation_id=org,
            sequence=seq,
            recorded_at=at,
            actor=actor,
            action=action,
            case_id=case,
            evidence_id=evidence,
            details=details,
            prev_hash=prev,
        )
        | {"key_id": key_id, "entry_hash": entry_hash, "signature": signature}
        for org, seq, at, actor, action, case, evidence, details, prev, key_id, entry_hash, signature in rows
    ]


@transaction.atomic
def custody_event_record(
    *,
    organisation: Organisation,
    action: Action,
    actor=None,
    system: str = "",
    case: Case | None = None,
    evidence: EvidenceItem | None = None,
    details: dict[str, Any] | None = None,
) -> CustodyEvent:
    """Append one signed event to the organisation's chain. `actor` is a user, or pass `system="task name"`."""
    if evidence is not None and case is None:
        case = evidence.case
    if (actor is None) == (not system):
        raise ValueError("A custody event has either a user actor or a system actor, not both or neither.")
    # Locking the organisation row serialises appends per organisation on PostgreSQL; SQLite runs every
    # transaction as IMMEDIATE (settings), which serialises writers anyway.
    Organisation.objects.lock(organisation.pk)
    head = CustodyEvent.objects.filter(organisation=organisation).order_by("-sequence").only("sequence", "entry_hash")
    last = head.first()
    sequence, prev_hash = _chain_head(organisation, last)
    fields = event_fields(
        organisation_id=organisation.public_id,
        sequence=sequence + 1,
        recorded_at=timezone.now(),
        actor=actor.get_username() if actor is not None else SYSTEM_ACTOR_PREFIX + system,
        action=str(action),
        case_id=case.public_id if case else None,
        evidence_id=evidence.public_id if evidence else None,
        details=details or {},
        prev_hash=prev_hash,
    )
    sealed = entry_seal(fields, signing_key())
    event = CustodyEvent(
        organisation=organisation,
        sequence=sealed["sequence"],
        recorded_at=sealed["recorded_at"],
        actor=actor,
        actor_label=sealed["actor"],
        action=sealed["action"],
        case=case,
        evidence=evidence,
        details=sealed["details"],
        prev_hash=sealed["prev_hash"],
        entry_hash=sealed["entry_hash"],
        key_id=sealed["key_id"],
        signature=sealed["signature"],
    )
    event.save()
    tree_append(organisation_id=organisation.pk, entry_hash=event.entry_hash)
    # robust: the entry is committed whatever happens to the file; a failed write is logged and only leaves
    # the mark lagging, which the next append's commit repairs.
    transaction.on_commit(
        partial(
            high_water_raise,
            organisation_id=organisation.public_id,
            sequence=event.sequence,
            entry_hash=event.entry_hash,
        ),
        robust=True,
    )
    return event


def _chain_head(organisation: Organisation, last: CustodyEvent | None) -> tuple[int, str]:
    """The (sequence, entry hash) the next entry follows: the database's newest entry, unless the high-water
    mark shows that newer ones were committed and are gone. Then the chain goes on from the mark, so that no
    sequence number is used twice and the gap stays in the ledger for every later verification to report."""
    head = (last.sequence, last.entry_hash) if last else (0, GENESIS)
    try:
        mark = high_water_load(organisation.public_id)
        if mark is None or mark.sequence <= head[0]:
            return head
        mark = high_water_read(organisation.public_id)  # ahead of the database: trusted only if validly signed
    except HighWaterError as error:
        logger.error("Custody ledger of %s: high-water mark ignored: %s", organisation.slug, error)
        return head
    logger.error(
        "Custody ledger of %s ends at sequence %s but its high-water mark is sequence %s: entries were removed; "
        "appending after the mark",
        organisation.slug,
        head[0],
        mark.sequence,
    )
    return mark.sequence, mark.entry_hash
