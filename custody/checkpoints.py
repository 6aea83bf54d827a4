"""Signed checkpoints: the organisation's Merkle tree head, made on a schedule and whenever a report is made."""

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from cases.models import Organisation

from .chain import checkpoint_signing_payload
from .keys import signing_key
from .ledger import custody_event_record
from .merkle_store import stored_root, tree_size
from .models import Action, Checkpoint, CustodyEvent
from .notes import CheckpointNote, checkpoint_note_sign


def checkpoint_origin(organisation: Organisation) -> str:
    """The organisation's log name in signed notes: the installation's origin prefix and the organisation's
    public id (also the name of the key that signs its notes)."""
    return f"{settings.EVIDENCEMEDIA_CHECKPOINT_ORIGIN}/{organisation.public_id}"


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

    Reads the root from the stored subtrees (O(log n) rows). The head is signed twice with the custody key: as
    the canonical JSON fields (custody.chain) and as a C2SP signed note (custody.notes). The checkpoint is then
    itself recorded as an event, which the next checkpoint will cover.
    """
    Organisation.objects.lock(organisation.pk)
    size = tree_size(organisation.pk)
    latest = Checkpoint.objects.filter(organisation=organisation).order_by("-tree_size", "-made_at").first()
    if not size or (latest and not force and not _appended_since(organisation, latest)):
        return None
    key = signing_key()
    root = stored_root(organisation.pk, size)
    fields = {
        "organisation": organisation.public_id,
        "tree_size": size,
        "root_hash": root.hex(),
        "made_at": timezone.now(),
        "key_id": key.key_id,
    }
    _, signature = key.sign(checkpoint_signing_payload(fields))
    origin = checkpoint_origin(organisation)
    checkpoint = Checkpoint(
        organisation=organisation,
        tree_size=fields["tree_size"],
        root_hash=fields["root_hash"],
        made_at=fields["made_at"],
        key_id=key.key_id,
        signature=signature,
        note=checkpoint_note_sign(CheckpointNote(origin, size, root), origin, key.private_key),
    )
    checkpoint.save()
    # Imported here: both modules read this one.
    from .timestamps import checkpoint_timestamp_after_commit
    from .witness_submissions import witnesses_submit_after_commit

    checkpoint_timestamp_after_commit(checkpoint)
    witnesses_submit_after_commit(checkpoint)
    custody_event_record(
        organisation=organisation,
        action=Action.CHECKPOINT_MADE,
        system="checkpoint",
        details={"tree_size": checkpoint.tree_size, "root_hash": checkpoint.root_hash, "reason": reason},
    )
    return checkpoint


def _appended_since(organisation: Organisation, checkpoint: Checkpoint) -> bool:
    # A checkpoint's own "checkpoint made" event (and its witnesses' "checkpoint cosigned") does not call for
    # another checkpoint: otherwise the schedule would sign a new one on every run for ever, each covering nothing
    # but the previous one's events.
    return (
        CustodyEvent.objects.filter(organisation=organisation, sequence__gt=checkpoint.tree_size)
        .exclude(action__in=[Action.CHECKPOINT_MADE, Action.CHECKPOINT_COSIGNED])
        .exists()
    )


def checkpoints_make_all() -> int:
    """The scheduled job: a checkpoint for every organisation with entries since its last one."""
    return sum(
        checkpoint_make(organisation=organisation, reason="schedule") is not None
        for organisation in Organisation.objects.all()
    )
