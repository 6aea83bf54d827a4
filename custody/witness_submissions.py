"""Pushing the organisation's checkpoints to the witnesses it named with a URL (c2sp.org/tlog-witness), and
storing the cosignatures they answer with once each verifies with that witness's key.

After each checkpoint, and on a schedule for whatever an outage left behind, a django-q2 task submits the
organisation's newest checkpoint to each such witness, with the consistency proof from the size the witness last
cosigned. Only the newest matters: a cosignature of it vouches, through the proof the witness checked, for every
smaller tree too. A witness that cannot be reached, refuses, or answers with a cosignature that does not verify
never holds up a checkpoint: the failure is kept on the witness's row and shown on the audit page until a later
push succeeds. Failures are not ledger events: an event would call for a new checkpoint, which would be pushed to
the failing witness again, for ever; the cosignatures themselves are (custody.witnesses).
"""

import logging

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django_q.tasks import async_task

from cases.exceptions import Refused

from .merkle_store import stored_consistency_proof
from .models import Checkpoint, CheckpointCosignature, Witness
from .notes import (
    ED25519_COSIGNATURE,
    SIGNATURE_PREFIX,
    NoteError,
    NoteKey,
    SignatureLine,
    cosignature_verify,
    note_split,
    signature_line_parse,
)
from .tlog_witness import Submission, WitnessRefused, WitnessSizeConflict, WitnessUnreachable, add_checkpoint
from .witnesses import checkpoint_cosignatures_add, latest_noted_checkpoint

logger = logging.getLogger(__name__)

SUBMIT_TASK = "custody.witness_submissions.witness_submit_task"


class WitnessMisbehaved(Exception):
    """The witness answered 200 with something that is not a valid cosignature of the checkpoint by its key."""


def witnesses_submit_after_commit(checkpoint: Checkpoint) -> None:
    """Queue a push of the organisation's newest checkpoint to each of its witnesses that has a URL, once the
    checkpoint is committed."""
    for witness_id in (
        Witness.objects.filter(organisation_id=checkpoint.organisation_id).exclude(url="").values_list("pk", flat=True)
    ):
        transaction.on_commit(lambda pk=witness_id: async_task(SUBMIT_TASK, pk, group="witnesses"))


def witness_submit_task(witness_id: int) -> str:
    """django-q2 task: push the newest checkpoint to one witness; safe to run twice (a checkpoint the witness
    already cosigned is not sent again)."""
    witness = Witness.objects.select_related("organisation").exclude(url="").filter(pk=witness_id).first()
    return "the witness has no URL any more" if witness is None else witness_submit(witness=witness)


def witnesses_submit_pending() -> str:
    """The schedule: queue a push for every witness with a URL that has not cosigned its organisation's newest
    checkpoint (those that were down, or missed by a lost task). Each push is a task of its own, so a slow witness
    holds up no other witness and no other organisation."""
    witnesses = list(Witness.objects.select_related("organisation").exclude(url=""))
    # Read once per organisation and once in all, not per witness: the schedule runs every minute.
    organisations = {w.organisation_id: w.organisation for w in witnesses}
    newest = {pk: latest_noted_checkpoint(organisation) for pk, organisation in organisations.items()}
    cosigned = set(
        CheckpointCosignature.objects.filter(checkpoint__in=[c for c in newest.values() if c]).values_list(
            "checkpoint_id", "witness_id"
        )
    )
    pending = [
        w.pk
        for w in witnesses
        if newest[w.organisation_id] is not None and (newest[w.organisation_id].pk, w.pk) not in cosigned
    ]
    for witness_id in pending:
        async_task(SUBMIT_TASK, witness_id, group="witnesses")
    return f"witness pushes queued: {len(pending)}"


def _uncosigned(witness: Witness) -> Checkpoint | None:
    """The organisation's newest checkpoint when the witness has not cosigned it yet."""
    checkpoint = latest_noted_checkpoint(witness.organisation)
    if checkpoint is None or CheckpointCosignature.objects.filter(checkpoint=checkpoint, witness=witness).exists():
        return None
    return checkpoint


def witness_submit(*, witness: Witness) -> str:
    """Submit the organisation's newest checkpoint to the witness and store its verified cosignature.

    Returns what happened in a word ("cosigned", "nothing to submit", "failed"); never raises for what the witness
    does, which is recorded on its row instead.
    """
    checkpoint = _uncosigned(witness)
    if checkpoint is None:
        return "nothing to submit"
    try:
        if witness.acknowledged_size > checkpoint.tree_size:
            raise WitnessRefused(409, _larger_than_ours(witness.acknowledged_size, checkpoint.tree_size))
        line = _verified_cosignature(witness, checkpoint, _add_checkpoint(witness, checkpoint))
    except WitnessUnreachable as error:
        return _failed(witness, f"Unreachable: {error}")
    except (WitnessRefused, WitnessSizeConflict) as error:
        return _failed(witness, f"Refused the checkpoint of {checkpoint.tree_size} entries: {error}")
    except WitnessMisbehaved as error:
        return _failed(witness, f"Misbehaving: {error}; nothing was stored")
    try:
        checkpoint_cosignatures_add(
            organisation=witness.organisation, note=checkpoint.note + line.line(), system="witness"
        )
    except Refused:
        # Another run stored this witness's cosignature meanwhile (the only refusal left once it verified).
        if not CheckpointCosignature.objects.filter(checkpoint=checkpoint, witness=witness).exists():
            raise
    _state_record(witness, acknowledged_size=checkpoint.tree_size, failure="")
    return "cosigned"


def _add_checkpoint(witness: Witness, checkpoint: Checkpoint) -> str:
    """Submit from the size the witness last acknowledged; on a size conflict, once more from the size the
    witness says it holds (kept as acknowledged, whatever comes of the retry)."""
    old_size = witness.acknowledged_size
    try:
        return _post(witness, _submission(checkpoint, old_size))
    except WitnessSizeConflict as conflict:
        known = conflict.known_size
        if known is None or known == old_size:
            raise
        _state_record(witness, acknowledged_size=known, failure=None)
        if known > checkpoint.tree_size:
            raise WitnessRefused(409, _larger_than_ours(known, checkpoint.tree_size)) from None
    return _post(witness, _submission(checkpoint, known))


def _post(witness: Witness, submission: Submission) -> str:
    return add_checkpoint(
        witness.url,
        submission,
        timeout=settings.EVIDENCEMEDIA_WITNESS_TIMEOUT_SECONDS,
        allow_private_addresses=settings.EVIDENCEMEDIA_WITNESS_ALLOW_PRIVATE_ADDRESSES,
    )


def _submission(checkpoint: Checkpoint, old_size: int) -> Submission:
    proof = stored_consistency_proof(checkpoint.organisation_id, old_size, checkpoint.tree_size) if old_size else []
    return Submission(old_size=old_size, proof=proof, note=checkpoint.note)


def _verified_cosignature(witness: Witness, checkpoint: Checkpoint, answer: str) -> SignatureLine:
    """The witness's cosignature among the signature lines it answered with, verified with its configured key.

    Lines by other keys are ignored, as the protocol says; a malformed answer, none by this key, or one by this
    key that does not verify, is misbehaviour."""
    key = NoteKey(witness.name, ED25519_COSIGNATURE, bytes(witness.public_key))
    if not answer.endswith("\n") or not all(line.startswith(SIGNATURE_PREFIX) for line in answer[:-1].split("\n")):
        raise WitnessMisbehaved("it answered with something other than note signature lines")
    try:
        lines = [signature_line_parse(line) for line in answer[:-1].split("\n")]
    except NoteError as error:
        raise WitnessMisbehaved(f"it answered with a malformed signature line ({error})") from None
    own = [line for line in lines if line.name == key.name and line.key_id == key.key_id]
    if not own:
        raise WitnessMisbehaved(f"its answer carries no cosignature by its key {key.vkey()}")
    text, _ = note_split(checkpoint.note)
    try:
        for line in own:
            cosignature_verify(text, line, key)
    except NoteError as error:
        raise WitnessMisbehaved(f"its cosignature does not verify with its key ({error})") from None
    return own[0]


def _failed(witness: Witness, failure: str) -> str:
    logger.warning("Witness %s of organisation %s: %s", witness.name, witness.organisation_id, failure)
    _state_record(witness, acknowledged_size=witness.acknowledged_size, failure=failure)
    return "failed"


def _state_record(witness: Witness, *, acknowledged_size: int, failure: str | None) -> None:
    """Keep what the push found out on the witness's row: the size it acknowledged and the failure, if any
    (``failure=None`` leaves both failure fields as they are)."""
    now = timezone.now()
    fields = {"acknowledged_size": acknowledged_size, "submitted_at": now}
    if failure is not None:
        fields["failure"] = failure[: Witness._meta.get_field("failure").max_length]
        fields["failing_since"] = (witness.failing_since or now) if failure else None
    Witness.objects.filter(pk=witness.pk).update(**fields)
    for name, value in fields.items():
        setattr(witness, name, value)


def _larger_than_ours(known: int, ours: int) -> str:
    return (
        f"the witness holds a checkpoint of {known} entries, more than the {ours} of this log's newest checkpoint: "
        "it saw a tree this log no longer shows (a rollback here, or a witness that lies)"
    )
