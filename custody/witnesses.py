"""Witnessed history: the organisation's checkpoints as C2SP signed notes, the witnesses it names, and the
cosignatures they send back, each verified before it is stored and recorded in the ledger."""

from datetime import UTC, datetime
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cases.exceptions import Refused
from cases.models import Organisation

from .checkpoints import checkpoint_origin
from .keys import active_key_id, public_keys
from .ledger import custody_event_record
from .models import Action, Checkpoint, CheckpointCosignature, Witness
from .notes import (
    ED25519_COSIGNATURE,
    ED25519_NOTE,
    NoteError,
    NoteKey,
    checkpoint_parse,
    cosignature_verify,
    note_split,
    vkey_parse,
)
from .tlog_witness import host_refusal

# Each witness with a URL is pushed every new checkpoint by the task cluster that every organisation shares: a cap
# keeps one organisation's list (of slow or hung witnesses, say) from filling the queue ahead of the others' work.
MAX_WITNESSES = 16


def log_verifier_keys(organisation: Organisation) -> list[dict]:
    """The verifier keys (vkeys) of the organisation's checkpoint notes, one per custody key ever used."""
    origin, active = checkpoint_origin(organisation), active_key_id()
    return [
        {"key_id": key_id, "vkey": NoteKey(origin, ED25519_NOTE, raw).vkey(), "active": key_id == active}
        for key_id, raw in sorted(public_keys().items())
    ]


def checkpoint_note_published(checkpoint: Checkpoint) -> str:
    """The checkpoint's signed note with the server's signature and every stored witness cosignature."""
    return checkpoint.note + "".join(cosignature.line for cosignature in checkpoint.cosignatures.all())


def latest_noted_checkpoint(organisation: Organisation) -> Checkpoint | None:
    return (
        Checkpoint.objects.filter(organisation=organisation, note__isnull=False)
        .order_by("-tree_size", "-made_at")
        .first()
    )


@transaction.atomic
def witness_add(*, organisation: Organisation, vkey: str, actor, url: str = "") -> Witness:
    """Name an external witness by its cosignature verifier key (``name+keyid+base64(0x04 || key)``) and,
    optionally, the submission prefix (``url``) to which each new checkpoint is then pushed (c2sp.org/tlog-witness)."""
    try:
        key = vkey_parse(vkey)
    except NoteError as error:
        raise Refused(_("Not a witness key: %(error)s") % {"error": error}) from None
    if url:
        try:
            URLValidator(schemes=["http", "https"])(url)
        except ValidationError:
            raise Refused(_("A witness URL is an http or https URL (its submission prefix).")) from None
        refusal = host_refusal(urlsplit(url).hostname or "")
        if refusal and not settings.EVIDENCEMEDIA_WITNESS_ALLOW_PRIVATE_ADDRESSES:
            raise Refused(_("This server does not send checkpoints to that address: %(reason)s.") % {"reason": refusal})
    if key.kind != ED25519_COSIGNATURE:
        raise Refused(_("A witness key is an Ed25519 cosignature key (c2sp.org/tlog-cosignature, type 0x04)."))
    Organisation.objects.lock(organisation.pk)
    named = Witness.objects.filter(organisation=organisation)
    if named.filter(name=key.name).exists():
        raise Refused(_("A witness named %(name)s is already registered.") % {"name": key.name})
    if named.count() >= MAX_WITNESSES:
        raise Refused(
            _("The organisation already names %(limit)d witnesses, the most it can; no witness was added.")
            % {"limit": MAX_WITNESSES}
        )
    witness = Witness(
        organisation=organisation,
        name=key.name,
        public_key=key.public_key,
        url=url,
        added_at=timezone.now(),
        added_by=actor,
    )
    witness.save()
    custody_event_record(
        organisation=organisation,
        action=Action.WITNESS_ADDED,
        actor=actor,
        details={"name": key.name, "vkey": key.vkey(), "url": url},
    )
    return witness


@transaction.atomic
def checkpoint_cosignatures_add(
    *, organisation: Organisation, note: str, actor=None, system: str = ""
) -> list[CheckpointCosignature]:
    """Store the cosignatures, by the organisation's witnesses, that a cosigned checkpoint note carries: sent
    back by a member (``actor``) or by a witness the server pushed the checkpoint to (``system``).

    The note must be one of the organisation's checkpoints (same text as stored); lines of keys the organisation
    did not name are ignored, as signed-note says, and a line of a named witness that does not verify refuses
    the whole note. A cosignature a witness already gave for that checkpoint is kept, not replaced.
    """
    try:
        text, lines = note_split(note)
        head = checkpoint_parse(text)
    except NoteError as error:
        raise Refused(_("Not a checkpoint note: %(error)s") % {"error": error}) from None
    Organisation.objects.lock(organisation.pk)
    checkpoint = next(
        (
            candidate
            for candidate in Checkpoint.objects.filter(
                organisation=organisation, tree_size=head.tree_size, note__isnull=False
            )
            if candidate.note.startswith(text + "\n")
        ),
        None,
    )
    if checkpoint is None:
        raise Refused(_("The note is not one of this organisation's checkpoints."))
    witnesses = {
        NoteKey(w.name, ED25519_COSIGNATURE, bytes(w.public_key)).key_id + w.name.encode(): w
        for w in Witness.objects.filter(organisation=organisation)
    }
    already = set(checkpoint.cosignatures.values_list("witness_id", flat=True))
    stored = []
    for line in lines:
        witness = witnesses.get(line.key_id + line.name.encode())
        if witness is None or witness.pk in already:
            continue
        try:
            signed_at = cosignature_verify(
                text, line, NoteKey(witness.name, ED25519_COSIGNATURE, bytes(witness.public_key))
            )
        except NoteError as error:
            raise Refused(str(error)) from None
        cosignature = CheckpointCosignature(
            checkpoint=checkpoint,
            witness=witness,
            signed_at=datetime.fromtimestamp(signed_at, tz=UTC),
            line=line.line(),
        )
        cosignature.save()
        already.add(witness.pk)
        stored.append(cosignature)
        custody_event_record(
            organisation=organisation,
            action=Action.CHECKPOINT_COSIGNED,
            actor=actor,
            system=system,
            details={"tree_size": checkpoint.tree_size, "root_hash": checkpoint.root_hash, "witness": witness.name},
        )
    if not stored:
        raise Refused(_("The note carries no new cosignature by a witness this organisation named."))
    return stored
