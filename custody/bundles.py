"""An evidence item's custody bundle: the item's ledger events, each with an RFC 6962 inclusion proof against a
signed checkpoint, the checkpoint's RFC 3161 time-stamp when a TSA gave one, a signed list of those events, and
the public keys, as one JSON document that
`python -m custody.verify` checks with no server, no database and no Django."""

from datetime import datetime
from typing import Any
from uuid import UUID

from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from cases.exceptions import Refused
from cases.models import EvidenceItem, Organisation

from . import merkle
from .canonical import datetime_text
from .chain import bundle_manifest_signing_payload
from .checkpoints import checkpoint_fields, checkpoint_make
from .keys import active_key_id, public_keys, signing_key
from .ledger import ledger_entries
from .merkle_store import TreeIncomplete, stored_inclusion_proof, stored_leaf_hashes, stored_root
from .models import Checkpoint, CustodyEvent
from .signing import public_key_b64, public_key_pem
from .timestamps import checkpoint_timestamp_document
from .verify import BUNDLE_FORMAT, BUNDLE_VERSION


class LedgerNotIntact(Refused):
    status_code = 409

    def __init__(self, organisation: Organisation):
        super().__init__(
            _(
                "The custody ledger of %(organisation)s does not hold the entries its latest checkpoint covers, so "
                "no honest proof can be exported; run custody verification to see what is wrong."
            )
            % {"organisation": organisation.name}
        )


def entry_as_json(fields: dict[str, Any]) -> dict[str, Any]:
    """Ledger fields with UUIDs and datetimes as their canonical strings, which hash exactly as the stored values
    (see custody.canonical), so that an exported entry verifies from plain JSON."""
    return {name: _json_value(value) for name, value in fields.items()}


def _json_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return datetime_text(value)
    if isinstance(value, UUID):
        return str(value)
    return value


def public_keys_document() -> list[dict[str, Any]]:
    """Every public key the keyring has held (old ones verify old entries), with its id, PEM and raw base64."""
    active = active_key_id()
    return [
        {
            "key_id": key_id,
            "algorithm": "Ed25519",
            "public_key_pem": public_key_pem(raw),
            "public_key_base64": public_key_b64(raw),
            "active": key_id == active,
        }
        for key_id, raw in sorted(public_keys().items())
    ]


def covering_checkpoint(item: EvidenceItem) -> Checkpoint:
    """The organisation's latest checkpoint, made now if it does not yet cover every event of the item."""
    organisation = item.case.organisation
    last_sequence = CustodyEvent.objects.filter(evidence=item).aggregate(last=Max("sequence"))["last"] or 0
    latest = _latest_checkpoint(organisation)
    if latest is None or latest.tree_size < last_sequence:
        checkpoint_make(organisation=organisation, reason="export")
        # Re-read rather than use the return value: a concurrent checkpoint may have covered the events first.
        latest = _latest_checkpoint(organisation)
    return latest


def _latest_checkpoint(organisation: Organisation) -> Checkpoint | None:
    return Checkpoint.objects.filter(organisation=organisation).order_by("-tree_size", "-made_at").first()


def ledger_inclusion_proofs(
    organisation: Organisation, checkpoint: Checkpoint, entries: list[dict]
) -> list[list[bytes]]:
    """Each entry's inclusion proof against the checkpoint, read from the stored subtrees (O(log n) rows each).

    Leaf i of the checkpoint's tree must be the entry with sequence i + 1 and the stored tree must still have the
    checkpoint's root; LedgerNotIntact otherwise, since proofs against a tree the ledger no longer holds would not
    verify (custody verification says what is wrong).
    """
    leaves = stored_leaf_hashes(organisation.pk, [entry["sequence"] - 1 for entry in entries])
    try:
        intact = stored_root(organisation.pk, checkpoint.tree_size).hex() == checkpoint.root_hash and all(
            leaves.get(entry["sequence"] - 1) == merkle.leaf_hash(bytes.fromhex(entry["entry_hash"]))
            for entry in entries
        )
        if not intact:
            raise LedgerNotIntact(organisation)
        return [stored_inclusion_proof(organisation.pk, e["sequence"] - 1, checkpoint.tree_size) for e in entries]
    except TreeIncomplete:
        raise LedgerNotIntact(organisation) from None


def custody_bundle_build(*, item: EvidenceItem) -> dict[str, Any]:
    """Return the item's custody bundle as a JSON-ready dict."""
    organisation = item.case.organisation
    checkpoint = covering_checkpoint(item)
    entries = ledger_entries(CustodyEvent.objects.filter(evidence=item, sequence__lte=checkpoint.tree_size))
    events = [
        {
            "leaf_index": entry["sequence"] - 1,
            "entry": entry_as_json(entry),
            "inclusion_proof": [node.hex() for node in proof],
        }
        for entry, proof in zip(entries, ledger_inclusion_proofs(organisation, checkpoint, entries), strict=True)
    ]
    manifest: dict[str, Any] = {
        "organisation": str(organisation.public_id),
        "evidence": str(item.public_id),
        "checkpoint_tree_size": checkpoint.tree_size,
        "checkpoint_root_hash": checkpoint.root_hash,
        "events": [{"sequence": e["sequence"], "entry_hash": e["entry_hash"]} for e in entries],
    }
    key = signing_key()
    manifest["key_id"] = key.key_id
    _, manifest["signature"] = key.sign(bundle_manifest_signing_payload(manifest))
    return {
        "format": BUNDLE_FORMAT,
        "version": BUNDLE_VERSION,
        "organisation": str(organisation.public_id),
        "evidence": str(item.public_id),
        "exported_at": datetime_text(timezone.now()),
        "checkpoint": entry_as_json(checkpoint_fields(checkpoint, organisation)),
        "checkpoint_timestamp": checkpoint_timestamp_document(checkpoint),
        "events": events,
        "manifest": manifest,
        "public_keys": public_keys_document(),
    }
