"""Signed checkpoints: the organisation's Merkle tree head, made on a schedule and whenever a report is made."""

from django.db import transaction
from django.utils import timezone

from cases.models import Organisation

from . import merkle
from .chain import checkpoint_signing_payload, entry_leaf_hashes
from .keys import signing_key
from .ledger import custody_event_record
from .models import Action, Checkpoint, CustodyEvent


def checkpoint_fields(checkpoint: Checkpoint, organisation: Organisation) -> dict:
    return {
        "organisation": organisation.public_id,
        "tree_size": checkpoint.tree_size,
        "root_hash": checkpoint.root_hash,
        "made_at": checkpoint.made_at,
        "key_id": checkpoint.key_id,
        "signature": checkpoint.signature,
    }


@transaction.atomic
def checkpoint_make(*, organisation: Organisation, reason: str, force: bool = False) -> Checkpoint | None:
    """Sign the current tree head; None when nothing but checkpoint events was appended since the last
    checkpoint (unless forced).

    The checkpoint is then itself recorded as an event, which the next checkpoint will cover.
    """
    Organisation.objects.lock(organisation.pk)
    hashes = list(
        CustodyEvent.objects.filter(organisation=organisation).order_by("sequence").values_list("entry_hash", flat=True)
    )
    latest = Checkpoint.objects.filter(organisation=organisation).order_by("-tree_size", "-made_at").first()
    if not hashes or (latest and not force and not _appended_since(organisation, latest)):
        return None
    key = signing_key()
    fields = {
        "organisation": organisation.public_id,
        "tree_size": len(hashes),
        "root_hash": merkle.root(entry_leaf_hashes([{"entry_hash": h} for h in hashes])).hex(),
        "made_at": timezone.now(),
        "key_id": key.key_id,
    }
    _, signature = key.sign(checkpoint_signing_payload(fields))
    checkpoint = Checkpoint(
        organisation=organisation,
        tree_size=fields["tree_size"],
        root_hash=fields["root_hash"],
        made_at=fields["made_at"],
        key_id=key.key_id,
        signature=signature,
    )
    checkpoint.save()
    from .timestamps import checkpoint_timestamp_after_commit  # imported here: timestamps reads this module

    checkpoint_timestamp_after_commit(checkpoint)
    custody_event_record(
        organisation=organisation,
        action=Action.CHECKPOINT_MADE,
        system="checkpoint",
        details={"tree_size": checkpoint.tree_size, "root_hash": checkpoint.root_hash, "reason": reason},
    )
    return checkpoint


def _appended_since(organisation: Organisation, checkpoint: Checkpoint) -> bool:
    # A checkpoint's own "checkpoint made" event does not call for another checkpoint: otherwise the schedule
    # would sign a new one on every run for ever, each covering nothing but the previous one's event.
    return (
        CustodyEvent.objects.filter(organisation=organisation, sequence__gt=checkpoint.tree_size)
        .exclude(action=Action.CHECKPOINT_MADE)
        .exists()
    )


def checkpoints_make_all() -> int:
    """The scheduled job: a checkpoint for every organisation with entries since its last one."""
    return sum(
        checkpoint_make(organisation=organisation, reason="schedule") is not None
        for organisation in Organisation.objects.all()
    )
