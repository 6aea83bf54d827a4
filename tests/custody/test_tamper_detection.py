"""An attacker with database access (append-only triggers dropped) changes the stored ledger with raw SQL; the
verification pinpoints the damage at the exact sequence number, and a chain re-sealed without the private key
fails the signature check."""

import base64
import random
from datetime import timedelta

from django.db import transaction

from cases import services
from cases.models import Case, EvidenceItem, Organisation
from custody.chain import ProblemKind, chain_verify, entry_seal
from custody.checkpoints import checkpoint_make
from custody.keys import public_keys, signing_key
from custody.ledger import ledger_entries
from custody.models import Action, CustodyEvent
from custody.signing import SigningKey, keyring_generate, keyring_signing_key
from custody.verification import custody_verify
from tests.custody.conftest import raw_delete, raw_renumber, raw_tree_rebuild, raw_update

MUTATIONS = 1000
SEED = 20261128


def _flip_hex(text: str, rng: random.Random) -> str:
    index = rng.randrange(len(text))
    return text[:index] + ("0" if text[index] != "0" else "1") + text[index + 1 :]


def _mutation(event: CustodyEvent, rng: random.Random, others: dict) -> tuple[str, object]:
    """One random single-column change of a stored row, as (column, new value)."""
    column = rng.choice(
        [
            "recorded_at",
            "actor_label",
            "action",
            "details",
            "prev_hash",
            "entry_hash",
            "key_id",
            "signature",
            "sequence",
            "case_id",
            "evidence_id",
            "organisation_id",
        ]
    )
    if column == "recorded_at":
        return column, event.recorded_at + timedelta(microseconds=rng.choice([1, -1, 1000, 3_600_000_000]))
    if column == "actor_label":
        return column, rng.choice(["alpha-admin", "system:cleanup", event.actor_label + " "])
    if column == "action":
        return column, rng.choice([a for a in Action.values if a != event.action])
    if column == "details":
        details = dict(event.details)
        key = rng.choice([*details, "added"]) if details else "added"
        details[key] = rng.choice(["", 0, 1, "tampered", None, [1]])
        if details == event.details:
            details["added"] = True
        return column, details
    if column in ("prev_hash", "entry_hash", "key_id"):
        return column, _flip_hex(getattr(event, column), rng)
    if column == "signature":
        return column, base64.b64encode(rng.randbytes(64)).decode("ascii")
    if column == "sequence":
        return column, event.sequence + 100_000
    if column == "case_id":
        return column, others["case"].pk if event.case_id != others["case"].pk else None
    if column == "evidence_id":
        return column, others["item"].pk if event.evidence_id != others["item"].pk else None
    return column, others["organisation"].pk


def test_random_single_field_mutations_are_each_detected_at_their_sequence_number(chain, triggers_dropped):
    # Given a ledger of real events, signed and checkpointed, and an attacker who can write raw SQL
    rng = random.Random(SEED)
    checkpoint_make(organisation=chain.organisation, reason="test")
    events = list(CustodyEvent.objects.filter(organisation=chain.organisation).order_by("sequence"))
    others = {
        "case": services.case_create(organisation=chain.organisation, title="other", actor=chain.supervisor),
        "item": EvidenceItem.objects.exclude(case=chain.case).first()
        or EvidenceItem.objects.filter(case=chain.case).last(),
        "organisation": Organisation.objects.create(name="Elsewhere", slug="elsewhere"),
    }
    assert custody_verify(chain.organisation).ok
    # The last entry is left alone: removing a tail that no checkpoint covers is what checkpoints are for.
    targets = events[:-1]

    for attempt in range(MUTATIONS):
        event = rng.choice(targets)
        column, value = _mutation(event, rng, others)
        # When one column of one row is changed (and rolled back before the next attempt)
        with transaction.atomic():
            raw_update(event, column, value)
            report = custody_verify(chain.organisation).report
            transaction.set_rollback(True)

        # Then the first problem found is at that row's sequence number
        assert report.first_problem is not None, f"attempt {attempt}: {column} of {event.sequence} undetected"
        assert report.first_problem.sequence == event.sequence, (attempt, column, report.first_problem)
    assert custody_verify(chain.organisation).ok


def test_deleted_entry_is_reported_as_deleted_at_its_sequence(chain, triggers_dropped):
    victim = CustodyEvent.objects.get(organisation=chain.organisation, sequence=17)
    raw_delete(victim)

    verification = custody_verify(chain.organisation)

    assert verification.report.first_problem.kind is ProblemKind.MISSING
    assert verification.report.first_problem.sequence == 17
    assert "BROKEN at sequence 17: deleted" in verification.summary()


def test_inserted_entry_is_reported_as_inserted_at_its_sequence(chain, triggers_dropped, tmp_path):
    # Given an attacker who renumbers entries 20.. to make room and writes a new entry 20 with their own key
    organisation = chain.organisation
    later = CustodyEvent.objects.filter(organisation=organisation, sequence__gte=20)
    raw_renumber({event.pk: event.sequence + 1 for event in later})
    keyring_generate(tmp_path / "attacker")
    previous = ledger_entries(CustodyEvent.objects.filter(organisation=organisation, sequence=19))[0]
    forged = entry_seal(
        previous | {"sequence": 20, "prev_hash": "f" * 64, "action": "note.added", "details": {"text": "planted"}},
        keyring_signing_key(tmp_path / "attacker"),
    )
    CustodyEvent(
        organisation=organisation,
        sequence=20,
        recorded_at=forged["recorded_at"],
        actor_label=forged["actor"],
        action=forged["action"],
        case=chain.case,
        details=forged["details"],
        prev_hash=forged["prev_hash"],
        entry_hash=forged["entry_hash"],
        key_id=forged["key_id"],
        signature=forged["signature"],
    ).save()

    # When the ledger is verified
    report = custody_verify(organisation).report

    # Then the damage starts at 20, and 20 is named as inserted (its successor links past it)
    assert report.first_problem.sequence == 20
    assert ProblemKind.INSERTED in {p.kind for p in report.problems if p.sequence == 20}


def test_swapped_entries_are_detected_at_the_first_of_them(chain, triggers_dropped):
    first, second = CustodyEvent.objects.filter(organisation=chain.organisation, sequence__in=[20, 21])
    raw_renumber({first.pk: second.sequence, second.pk: first.sequence})

    report = custody_verify(chain.organisation).report

    assert report.first_problem.sequence == 20


def test_truncated_tail_is_detected_against_a_checkpoint(chain, triggers_dropped):
    # Given a checkpoint over the ledger, then the last entries removed
    checkpoint = checkpoint_make(organisation=chain.organisation, reason="test")
    tail = CustodyEvent.objects.filter(organisation=chain.organisation, sequence__gt=checkpoint.tree_size - 3)
    raw_delete(*tail)

    # When verified: the remaining prefix is a perfectly valid chain on its own...
    entries = ledger_entries(CustodyEvent.objects.filter(organisation=chain.organisation))
    assert chain_verify(entries, public_keys()).ok
    verification = custody_verify(chain.organisation)

    # ...but the checkpoint shows the rollback, at the first removed entry
    first = verification.report.first_problem
    assert first.kind is ProblemKind.ROLLBACK
    assert first.sequence == checkpoint.tree_size - 2
    assert "checkpoint 1" in first.detail and "rolled back" in verification.summary()


def _reseal_from(organisation, sequence: int, key: SigningKey, change: dict) -> None:
    """Rewrite history from `sequence` on: change that entry, then recompute every later hash, link and signature
    with `key`, and store it all with raw SQL, as someone without the ledger's private key would have to."""
    entries = ledger_entries(CustodyEvent.objects.filter(organisation=organisation))
    previous_hash = entries[sequence - 2]["entry_hash"]
    rows = {event.sequence: event for event in CustodyEvent.objects.filter(organisation=organisation)}
    for entry in entries[sequence - 1 :]:
        fields = entry | {"prev_hash": previous_hash} | (change if entry["sequence"] == sequence else {})
        sealed = entry_seal(fields, key)
        row = rows[entry["sequence"]]
        for column in ("details", "prev_hash", "entry_hash", "key_id", "signature"):
            raw_update(row, column, sealed["details" if column == "details" else column])
        previous_hash = sealed["entry_hash"]
    raw_tree_rebuild(organisation.pk)


def test_chain_resealed_with_another_key_fails_the_signature_check(chain, triggers_dropped, tmp_path):
    keyring_generate(tmp_path / "attacker")
    _reseal_from(chain.organisation, 12, keyring_signing_key(tmp_path / "attacker"), {"details": {"text": "x"}})

    report = custody_verify(chain.organisation).report

    # Every hash and link is consistent again; only the signatures give it away, from entry 12 on
    assert report.first_problem.sequence == 12
    assert {p.kind for p in report.problems} == {ProblemKind.UNKNOWN_KEY}
    assert {p.sequence for p in report.problems} == set(range(12, report.entries_checked + 1))


def test_chain_resealed_under_our_key_id_with_another_key_is_a_bad_signature(chain, triggers_dropped, tmp_path):
    keyring_generate(tmp_path / "attacker")
    impostor = SigningKey(
        key_id=signing_key().key_id, private_key=keyring_signing_key(tmp_path / "attacker").private_key
    )
    _reseal_from(chain.organisation, 5, impostor, {"details": {"role": {"from": None, "to": "admin"}}})

    report = custody_verify(chain.organisation).report

    assert report.first_problem.sequence == 5
    assert {p.kind for p in report.problems} == {ProblemKind.BAD_SIGNATURE}


def test_untouched_ledger_of_another_case_is_unaffected(chain):
    # A control: the fixture chain itself verifies, so every detection above is caused by the tampering
    assert Case.objects.filter(organisation=chain.organisation).exists()
    assert custody_verify(chain.organisation).ok
