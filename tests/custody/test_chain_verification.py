import json
import subprocess
import sys
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from custody.canonical import canonical_bytes, entry_hash
from custody.chain import (
    GENESIS,
    Checkpoint,
    ProblemKind,
    chain_verify,
    checkpoint_build,
    entry_seal,
    entry_signing_payload,
    verify_against_checkpoint,
)
from custody.signing import keyring_generate, keyring_public_keys, keyring_signing_key, verify

CASE_ID = uuid.UUID("2f1c7a52-0d4b-4e43-9d1e-7b6a5c4d3e2f")
ACTIONS = ["case.opened", "evidence.received", "evidence.analysed", "report.generated", "evidence.exported"]


def _fields(sequence: int, prev_hash: str) -> dict:
    return {
        "sequence": sequence,
        "prev_hash": prev_hash,
        "case_id": CASE_ID,
        "action": ACTIONS[(sequence - 1) % len(ACTIONS)],
        "actor_id": 10 + sequence,
        "occurred_at": datetime(2025, 6, 1, 9, 0, tzinfo=UTC) + timedelta(minutes=sequence, microseconds=sequence),
        "details": {"evidence_id": str(uuid.UUID(int=sequence)), "note": None, "tags": ["a", "b"]},
    }


def _append(ledger: list[dict], signing_key, **changes) -> dict:
    prev_hash = ledger[-1]["entry_hash"] if ledger else GENESIS
    entry = entry_seal({**_fields(len(ledger) + 1, prev_hash), **changes}, signing_key)
    ledger.append(entry)
    return entry


@pytest.fixture
def keyring(tmp_path):
    directory = tmp_path / "keys"
    keyring_generate(directory)
    return directory


@pytest.fixture
def ledger(keyring) -> list[dict]:
    signing_key = keyring_signing_key(keyring)
    entries: list[dict] = []
    for _ in range(6):
        _append(entries, signing_key)
    return entries


@pytest.fixture
def public_keys(keyring) -> dict[str, bytes]:
    return keyring_public_keys(keyring)


def _kinds_at(report, sequence: int) -> set[ProblemKind]:
    return {problem.kind for problem in report.problems if problem.sequence == sequence}


def test_intact_ledger_verifies(ledger, public_keys):
    # given a ledger sealed entry by entry
    # when it is verified
    report = chain_verify(ledger, public_keys)

    # then there is no problem
    assert report.ok and report.first_problem is None and report.entries_checked == 6


def test_sealed_entry_carries_key_id_hash_and_signature_that_verify(ledger, public_keys):
    # given the first sealed entry
    entry = ledger[0]

    # when its parts are checked independently
    # then it links to genesis, its hash covers its fields and its key id, and the signature covers the hash
    assert entry["prev_hash"] == GENESIS
    assert entry["entry_hash"] == entry_hash(entry)
    assert verify(public_keys, entry["key_id"], entry_signing_payload(entry["entry_hash"]), entry["signature"])


def test_ledger_exported_as_plain_json_still_verifies(ledger, public_keys):
    # given the ledger as a third party receives it: JSON text, datetimes and UUIDs as strings
    exported = json.loads("[" + ",".join(canonical_bytes(entry).decode() for entry in ledger) + "]")

    # when it is verified
    # then it verifies exactly like the original
    assert chain_verify(exported, public_keys).ok


def test_edited_field_is_pinpointed_as_changed_content(ledger, public_keys):
    # given a ledger in which entry 4's actor was changed afterwards
    ledger[3]["actor_id"] = 999

    # when it is verified
    report = chain_verify(ledger, public_keys)

    # then the first and only problem is changed content at entry 4
    assert report.first_problem.kind is ProblemKind.CONTENT_CHANGED
    assert report.first_problem.sequence == 4 and report.first_problem.position == 3
    assert len(report.problems) == 1


def test_edited_field_with_recomputed_hash_fails_its_signature_and_breaks_the_next_link(ledger, public_keys):
    # given a forger without the key who edited entry 3 and recomputed its hash
    ledger[2]["details"] = {**ledger[2]["details"], "note": "nothing to see"}
    ledger[2]["entry_hash"] = entry_hash(ledger[2])

    # when it is verified
    report = chain_verify(ledger, public_keys)

    # then entry 3's signature fails and entry 4 no longer links to it
    assert report.first_problem.sequence == 3 and report.first_problem.kind is ProblemKind.BAD_SIGNATURE
    assert _kinds_at(report, 3) == {ProblemKind.BAD_SIGNATURE}
    assert _kinds_at(report, 4) == {ProblemKind.BROKEN_LINK}


def test_deleted_entry_is_pinpointed_as_missing(ledger, public_keys):
    # given a ledger from which entry 3 was deleted
    del ledger[2]

    # when it is verified
    report = chain_verify(ledger, public_keys)

    # then the gap at 3 is the only problem
    assert [(p.kind, p.sequence) for p in report.problems] == [(ProblemKind.MISSING, 3)]


def test_deleted_first_entry_is_pinpointed_as_missing(ledger, public_keys):
    # given a ledger whose first entry was deleted
    del ledger[0]

    # when it is verified
    report = chain_verify(ledger, public_keys)

    # then entry 1 is reported missing
    assert (report.first_problem.kind, report.first_problem.sequence) == (ProblemKind.MISSING, 1)


def test_deleted_entry_with_renumbered_successors_is_pinpointed_at_the_gap(ledger, public_keys):
    # given a ledger from which entry 3 was deleted and the later entries renumbered to close the gap
    del ledger[2]
    for entry in ledger[2:]:
        entry["sequence"] -= 1

    # when it is verified
    report = chain_verify(ledger, public_keys)

    # then the first problem is at 3, whose predecessor link no longer holds
    assert report.first_problem.sequence == 3
    assert ProblemKind.BROKEN_LINK in _kinds_at(report, 3)
    assert ProblemKind.CONTENT_CHANGED in _kinds_at(report, 3)


def test_inserted_entry_with_a_duplicate_number_is_pinpointed(ledger, public_keys, tmp_path):
    # given a forged entry claiming number 3, chained to entry 2 and signed by a foreign key
    foreign_keys = tmp_path / "foreign"
    keyring_generate(foreign_keys)
    forged = entry_seal(
        {**_fields(3, ledger[1]["entry_hash"]), "action": "evidence.deleted"}, keyring_signing_key(foreign_keys)
    )
    ledger.insert(2, forged)

    # when it is verified
    report = chain_verify(ledger, public_keys)

    # then the forged entry at position 2 is the inserted one, signed by an unknown key; the genuine 3 is fine
    assert report.first_problem.kind is ProblemKind.INSERTED
    assert (report.first_problem.sequence, report.first_problem.position) == (3, 2)
    assert {(p.kind, p.position) for p in report.problems} == {
        (ProblemKind.INSERTED, 2),
        (ProblemKind.UNKNOWN_KEY, 2),
    }


def test_inserted_entry_with_renumbered_successors_is_pinpointed(ledger, public_keys):
    # given an entry inserted as number 3 and the later entries renumbered to make room
    forged = {**ledger[2], "action": "evidence.deleted"}
    for entry in ledger[2:]:
        entry["sequence"] += 1
    ledger.insert(2, forged)

    # when it is verified
    report = chain_verify(ledger, public_keys)

    # then entry 4 (formerly 3) still links to entry 2, which exposes 3 as inserted
    assert report.first_problem.sequence == 3
    assert ProblemKind.INSERTED in _kinds_at(report, 3)


def test_replayed_copy_of_an_entry_is_reported_as_inserted(ledger, public_keys):
    # given the last entry stored a second time
    ledger.append(dict(ledger[-1]))

    # when it is verified
    report = chain_verify(ledger, public_keys)

    # then both copies of number 6 are flagged, since nothing tells which one is the original
    assert [(p.kind, p.sequence, p.position) for p in report.problems] == [
        (ProblemKind.INSERTED, 6, 5),
        (ProblemKind.INSERTED, 6, 6),
    ]


def test_swapped_entries_are_pinpointed_as_reordered(ledger, public_keys):
    # given a ledger in which entries 3 and 4 swapped places
    ledger[2], ledger[3] = ledger[3], ledger[2]

    # when it is verified
    report = chain_verify(ledger, public_keys)

    # then the only problem is entry 3 appearing after entry 4
    assert [(p.kind, p.sequence, p.position) for p in report.problems] == [(ProblemKind.REORDERED, 3, 3)]


def test_swapped_sequence_numbers_are_detected(ledger, public_keys):
    # given a ledger in which entries 3 and 4 exchanged their numbers, then were sorted again
    ledger[2]["sequence"], ledger[3]["sequence"] = 4, 3
    ledger[2], ledger[3] = ledger[3], ledger[2]

    # when it is verified
    report = chain_verify(ledger, public_keys)

    # then both entries' content no longer matches their hash
    assert report.first_problem.sequence == 3
    assert ProblemKind.CONTENT_CHANGED in _kinds_at(report, 3)
    assert ProblemKind.CONTENT_CHANGED in _kinds_at(report, 4)


def test_entry_re_signed_with_a_foreign_key_is_pinpointed(ledger, public_keys, tmp_path):
    # given an attacker who edited entry 5 and re-sealed it with their own key
    foreign_keys = tmp_path / "foreign"
    keyring_generate(foreign_keys)
    edited = {**ledger[4], "actor_id": 1}
    ledger[4] = entry_seal(edited, keyring_signing_key(foreign_keys))

    # when it is verified
    report = chain_verify(ledger, public_keys)

    # then entry 5 was signed by an unknown key, and entry 6 no longer links to it
    assert report.first_problem.sequence == 5 and report.first_problem.kind is ProblemKind.UNKNOWN_KEY
    assert _kinds_at(report, 6) == {ProblemKind.BROKEN_LINK}


def test_foreign_signature_claiming_our_key_id_is_a_bad_signature(ledger, public_keys, tmp_path):
    # given entry 2 re-signed by a foreign key but still carrying our key id
    foreign_keys = tmp_path / "foreign"
    keyring_generate(foreign_keys)
    _, ledger[1]["signature"] = keyring_signing_key(foreign_keys).sign(entry_signing_payload(ledger[1]["entry_hash"]))

    # when it is verified
    report = chain_verify(ledger, public_keys)

    # then entry 2's signature is reported bad
    assert [(p.kind, p.sequence) for p in report.problems] == [(ProblemKind.BAD_SIGNATURE, 2)]


def test_first_entry_not_chained_to_genesis_is_a_broken_link(keyring, public_keys):
    # given a ledger whose first entry claims a predecessor
    entries = [entry_seal(_fields(1, "ab" * 32), keyring_signing_key(keyring))]

    # when it is verified
    report = chain_verify(entries, public_keys)

    # then the first entry's link is reported
    assert [(p.kind, p.sequence) for p in report.problems] == [(ProblemKind.BROKEN_LINK, 1)]


def test_malformed_entries_are_reported_not_raised(ledger, public_keys):
    # given entries with a missing field, a float, a non-integer sequence, a bad hash and no mapping at all
    del ledger[1]["signature"]
    ledger[2]["details"] = {"ratio": 0.5}
    ledger[3]["sequence"] = "4"
    ledger[4]["entry_hash"] = "XYZ"
    ledger.append("garbage")

    # when it is verified
    report = chain_verify(ledger, public_keys)

    # then each is reported as malformed where it is, and only the unreadable number counts as missing
    malformed = {p.position for p in report.problems if p.kind is ProblemKind.MALFORMED}
    assert malformed == {1, 2, 3, 4, 6}
    assert [p.sequence for p in report.problems if p.kind is ProblemKind.MISSING] == [4]
    assert report.first_problem.sequence == 2 and report.first_problem.kind is ProblemKind.MALFORMED


def test_ledger_matching_its_checkpoint_verifies_and_may_have_grown(ledger, public_keys, keyring):
    # given a checkpoint taken at 4 entries and a ledger that has grown since
    checkpoint = checkpoint_build(ledger[:4])
    _append(ledger, keyring_signing_key(keyring))

    # when it is verified against the checkpoint
    # then it passes
    assert verify_against_checkpoint(ledger, checkpoint).ok
    assert chain_verify(ledger, public_keys, checkpoint).ok


def test_truncated_tail_is_detected_against_a_checkpoint(ledger, public_keys):
    # given a checkpoint of all 6 entries, then the last two deleted
    checkpoint = checkpoint_build(ledger)
    del ledger[4:]

    # when it is verified
    report = chain_verify(ledger, public_keys, checkpoint)
    alone = chain_verify(ledger, public_keys)

    # then the chain alone cannot tell, but the checkpoint shows a rollback from entry 5
    assert alone.ok
    assert [(p.kind, p.sequence) for p in report.problems] == [(ProblemKind.ROLLBACK, 5)]


def test_history_rewritten_with_the_stolen_key_is_detected_against_a_checkpoint(ledger, public_keys, keyring):
    # given a checkpoint, then an attacker holding our key who re-sealed the ledger from entry 3 onwards
    checkpoint = checkpoint_build(ledger)
    signing_key = keyring_signing_key(keyring)
    rewritten = ledger[:2]
    for _ in range(4):
        _append(rewritten, signing_key, action="evidence.reviewed")

    # when it is verified
    report = chain_verify(rewritten, public_keys, checkpoint)

    # then every entry is individually valid, but the checkpoint no longer matches
    assert [p.kind for p in report.problems] == [ProblemKind.CHECKPOINT_MISMATCH]


def test_checkpoint_with_a_different_size_does_not_match(ledger):
    # given the root of 6 entries recorded with the wrong size
    checkpoint = checkpoint_build(ledger)
    wrong_size = Checkpoint(tree_size=5, root_hash=checkpoint.root_hash)

    # when the ledger is verified against it
    report = verify_against_checkpoint(ledger, wrong_size)

    # then it does not match
    assert [p.kind for p in report.problems] == [ProblemKind.CHECKPOINT_MISMATCH]


def test_empty_ledger_matches_only_the_empty_checkpoint(ledger):
    # given an empty ledger
    # when it is verified against the empty checkpoint and against a real one
    # then only the first passes
    assert verify_against_checkpoint([], checkpoint_build([])).ok
    assert not verify_against_checkpoint([], checkpoint_build(ledger)).ok


def test_malformed_checkpoint_is_reported_not_raised(ledger):
    # given checkpoints with impossible values
    for checkpoint in (Checkpoint(-1, "00" * 32), Checkpoint(True, "00" * 32), Checkpoint(2, None)):
        # when the ledger is verified against them
        report = verify_against_checkpoint(ledger, checkpoint)

        # then a mismatch is reported
        assert [p.kind for p in report.problems] == [ProblemKind.CHECKPOINT_MISMATCH]


def test_ledger_core_imports_without_django():
    # given an interpreter in which Django cannot be imported, as on a third party's machine
    program = (
        "import sys; sys.modules['django'] = None\n"
        "import custody.canonical, custody.merkle, custody.signing, custody.chain\n"
    )

    # when the ledger core is imported
    result = subprocess.run(
        [sys.executable, "-c", program], cwd=Path(__file__).resolve().parents[2], capture_output=True, text=True
    )

    # then it loads, needing only the standard library and cryptography
    assert result.returncode == 0, result.stderr


def test_entry_hash_spelt_in_capitals_is_malformed_and_keeps_the_checkpoint_from_being_recomputed(ledger, public_keys):
    # given a checkpoint, then entry 3's hash rewritten in capitals: the same 32 bytes, another spelling
    checkpoint = checkpoint_build(ledger)
    ledger[2]["entry_hash"] = ledger[2]["entry_hash"].upper()

    # when the ledger is verified with the checkpoint, and against the checkpoint alone
    report = chain_verify(ledger, public_keys, checkpoint)
    alone = verify_against_checkpoint(ledger, checkpoint)

    # then entry 3 is malformed, and the checkpoint's root cannot be recomputed from it
    assert [(p.kind, p.sequence, p.position, p.detail) for p in report.problems if p.sequence == 3] == [
        (ProblemKind.MALFORMED, 3, 2, "entry_hash must be 64 lower-case hex characters"),
        (
            ProblemKind.CHECKPOINT_MISMATCH,
            3,
            2,
            "the checkpoint root cannot be recomputed: this entry has no valid entry_hash",
        ),
    ]
    assert [(p.kind, p.sequence, p.position) for p in alone.problems] == [(ProblemKind.CHECKPOINT_MISMATCH, 3, 2)]


def test_malformed_entry_whose_entry_hash_is_valid_still_counts_towards_the_checkpoint(ledger, public_keys):
    # given a checkpoint, then entry 2's signature deleted, which leaves its entry_hash intact
    checkpoint = checkpoint_build(ledger)
    del ledger[1]["signature"]

    # when the ledger is verified with the checkpoint
    report = chain_verify(ledger, public_keys, checkpoint)

    # then entry 2 is malformed, and the checkpoint still matches the entries it covers
    assert [(p.kind, p.sequence, p.detail) for p in report.problems] == [
        (ProblemKind.MALFORMED, 2, "missing field(s): signature")
    ]


def test_entry_that_is_no_mapping_keeps_the_checkpoint_from_being_recomputed(ledger, public_keys):
    # given a checkpoint, then entry 2 replaced by something that is not an entry at all
    checkpoint = checkpoint_build(ledger)
    ledger[1] = "garbage"

    # when the ledger is verified with the checkpoint
    report = chain_verify(ledger, public_keys, checkpoint)

    # then the entry is malformed where it stands, its number is missing, and the root cannot be recomputed
    assert [(p.kind, p.sequence, p.position) for p in report.problems] == [
        (ProblemKind.MISSING, 2, 2),
        (ProblemKind.MALFORMED, None, 1),
        (ProblemKind.CHECKPOINT_MISMATCH, None, 1),
    ]


def test_entry_re_linked_to_a_later_entry_is_reported_as_reordered(ledger, public_keys, keyring):
    # given an attacker holding our key who re-sealed entry 4 to name entry 5 as its predecessor
    ledger[3] = entry_seal({**ledger[3], "prev_hash": ledger[4]["entry_hash"]}, keyring_signing_key(keyring))

    # when it is verified
    report = chain_verify(ledger, public_keys)

    # then entry 4 links forwards, and entry 5 no longer links to the entry 4 it was written after
    replaced = "prev_hash does not match entry 4's entry_hash: that entry was replaced or re-hashed"
    assert [(p.kind, p.sequence, p.detail) for p in report.problems] == [
        (ProblemKind.REORDERED, 4, "entry 4 links to entry 5, which comes after it"),
        (ProblemKind.BROKEN_LINK, 5, replaced),
    ]


@pytest.mark.parametrize(
    "respell",
    [
        lambda signature: signature[:40] + "\n" + signature[40:],
        lambda signature: signature.rstrip("="),
        lambda signature: " " + signature,
        lambda signature: signature[:-3] + "é==",
    ],
    ids=["line break inside", "padding dropped", "leading space", "letter outside base64"],
)
def test_signature_re_spelt_for_a_lenient_decoder_is_a_bad_signature(ledger, public_keys, respell):
    # given entry 2's signature re-spelt in a way a lenient base64 decoder would still read
    ledger[1]["signature"] = respell(ledger[1]["signature"])

    # when it is verified
    report = chain_verify(ledger, public_keys)

    # then entry 2's signature is reported bad, and nothing else
    assert [(p.kind, p.sequence) for p in report.problems] == [(ProblemKind.BAD_SIGNATURE, 2)]
