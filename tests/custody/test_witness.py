"""`python -m custody.witness`: it keeps the last checkpoint seen per log, accepts only checkpoints that extend it,
and reports a rollback or a fork; first from files (no server, no Django needed), then against the running
server, whose witnesses' cosignatures are stored and published with the checkpoint."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.db import connection

from cases import services
from custody import merkle
from custody.checkpoints import checkpoint_make, checkpoint_origin
from custody.keys import signing_key
from custody.ledger import custody_event_record
from custody.models import Action, Checkpoint, CheckpointCosignature, CustodyEvent
from custody.notes import ED25519_COSIGNATURE, ED25519_NOTE, CheckpointNote, NoteKey, checkpoint_note_sign
from custody.triggers import triggers_install, triggers_remove
from custody.witness import Outcome, main
from tests.custody.conftest import raw_tree_rebuild, raw_update

ORIGIN = "witness.test/custody/3f1c"
PROJECT = Path(__file__).resolve().parents[2]


def _raw(key: Ed25519PrivateKey) -> bytes:
    return key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


@pytest.fixture
def log(tmp_path):
    """A log outside the server: its key, 40 leaves of history and another history that shares the first 6."""
    key = Ed25519PrivateKey.generate()
    leaves = [merkle.leaf_hash(f"entry {i}".encode()) for i in range(40)]
    other = leaves[:6] + [merkle.leaf_hash(f"rewritten {i}".encode()) for i in range(6, 40)]
    return {"key": key, "vkey": NoteKey(ORIGIN, ED25519_NOTE, _raw(key)).vkey(), "leaves": leaves, "other": other}


def _files(tmp_path, log, size, leaves=None, old_size=None, key=None):
    leaves = leaves or log["leaves"]
    note = checkpoint_note_sign(CheckpointNote(ORIGIN, size, merkle.root(leaves[:size])), ORIGIN, key or log["key"])
    note_file = tmp_path / f"checkpoint-{size}.txt"
    note_file.write_text(note, encoding="utf-8")
    arguments = [str(note_file)]
    if old_size is not None:
        proof = {
            "old_size": old_size,
            "new_size": size,
            "proof": [node.hex() for node in merkle.consistency_proof(leaves, old_size, size)],
        }
        proof_file = tmp_path / f"proof-{old_size}-{size}.json"
        proof_file.write_text(json.dumps(proof), encoding="utf-8")
        arguments += ["--proof", str(proof_file)]
    return arguments


def _witness(tmp_path, log, arguments) -> int:
    return main([*arguments, "--state", str(tmp_path / "state"), "--vkey", log["vkey"]])


def _state(tmp_path) -> dict:
    [path] = (tmp_path / "state").glob("*.json")
    return json.loads(path.read_text())


def test_witness_accepts_a_first_checkpoint_and_then_only_consistent_growth(tmp_path, log, capsys):
    assert _witness(tmp_path, log, _files(tmp_path, log, 10)) == Outcome.ACCEPTED
    assert _witness(tmp_path, log, _files(tmp_path, log, 23, old_size=10)) == Outcome.ACCEPTED
    assert _witness(tmp_path, log, _files(tmp_path, log, 23)) == Outcome.ACCEPTED  # unchanged

    assert "grew consistently from 10 to 23" in capsys.readouterr().out
    assert _state(tmp_path)["tree_size"] == 23


def test_witness_reports_a_rollback_and_keeps_what_it_saw(tmp_path, log, capsys):
    # Given a witness that saw the log at 23 entries
    _witness(tmp_path, log, _files(tmp_path, log, 23))

    # When the log later shows a validly signed checkpoint of 17 entries
    outcome = _witness(tmp_path, log, _files(tmp_path, log, 17))

    # Then it is a rollback, and the witness still holds the larger checkpoint
    assert outcome == Outcome.ROLLBACK
    out = capsys.readouterr().out
    assert "ROLLBACK" in out and "entries 18..23 were removed" in out
    assert _state(tmp_path)["tree_size"] == 23


def test_witness_reports_a_fork_at_the_same_size(tmp_path, log, capsys):
    _witness(tmp_path, log, _files(tmp_path, log, 23))

    outcome = _witness(tmp_path, log, _files(tmp_path, log, 23, leaves=log["other"]))

    assert outcome == Outcome.FORK
    assert "two different trees of 23 entries" in capsys.readouterr().out
    assert _state(tmp_path)["tree_size"] == 23


def test_witness_reports_a_fork_when_a_larger_tree_does_not_extend_the_one_seen(tmp_path, log, capsys):
    # Given a witness that saw 23 entries of one history
    _witness(tmp_path, log, _files(tmp_path, log, 23))

    # When the log shows 30 entries of a rewritten history, with a proof that holds within that history only
    outcome = _witness(tmp_path, log, _files(tmp_path, log, 30, leaves=log["other"], old_size=23))

    # Then it is a fork, and nothing is accepted
    assert outcome == Outcome.FORK
    assert "does not extend" in capsys.readouterr().out
    assert _state(tmp_path)["tree_size"] == 23


def test_witness_refuses_a_checkpoint_not_signed_by_the_logs_key(tmp_path, log, capsys):
    outcome = _witness(tmp_path, log, _files(tmp_path, log, 10, key=Ed25519PrivateKey.generate()))

    assert outcome == Outcome.UNUSABLE
    assert "not validly signed" in capsys.readouterr().out
    assert not (tmp_path / "state").exists()


def test_witness_needs_the_proof_when_the_log_grew(tmp_path, log, capsys):
    _witness(tmp_path, log, _files(tmp_path, log, 10))

    assert _witness(tmp_path, log, _files(tmp_path, log, 12)) == Outcome.UNUSABLE
    assert "--proof must give the proof" in capsys.readouterr().err


def test_witness_runs_without_django(tmp_path, log):
    # Given only the witness's own modules on the path (no settings, no Django import allowed)
    arguments = _files(tmp_path, log, 10)
    code = (
        "import sys, builtins\n"
        "real = builtins.__import__\n"
        "def guard(name, *a, **k):\n"
        "    if name == 'django' or name.startswith('django.'): raise ImportError('django imported')\n"
        "    return real(name, *a, **k)\n"
        "builtins.__import__ = guard\n"
        "from custody.witness import main\n"
        "sys.exit(main(sys.argv[1:]))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, *arguments, "--state", str(tmp_path / "s"), "--vkey", log["vkey"]],
        cwd=PROJECT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "first checkpoint" in result.stdout


# Against the running server: the witness reads the organisation's API with a member's token.


@pytest.fixture
def served(committed_db, alpha, live_server, tmp_path):
    """alpha's ledger checkpointed, an auditor's API token, a witness key named by alpha's administrator."""
    checkpoint_make(organisation=alpha.organisation, reason="test")
    _, token = services.api_token_create(user=alpha.auditor, name="witness", organisation=alpha.organisation)
    witness_key = Ed25519PrivateKey.generate()
    key_file = tmp_path / "witness.pem"
    key_file.write_bytes(
        witness_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    witness_vkey = NoteKey("witness.test/w1", ED25519_COSIGNATURE, _raw(witness_key)).vkey()
    origin = checkpoint_origin(alpha.organisation)
    server_vkey = NoteKey(origin, ED25519_NOTE, _raw(signing_key().private_key)).vkey()
    return {
        "alpha": alpha,
        "api": f"{live_server.url}/api/v1/custody/",
        "token": token,
        "vkey": server_vkey,
        "witness_vkey": witness_vkey,
        "key_file": key_file,
        "state": tmp_path / "state",
    }


def _watch(served, *extra) -> int:
    arguments = [served["api"], "--state", str(served["state"]), "--vkey", served["vkey"], "--token", served["token"]]
    return main([*arguments, *extra])


def _grow(alpha, count: int) -> Checkpoint:
    for number in range(count):
        custody_event_record(
            organisation=alpha.organisation, action=Action.NOTE_ADDED, system="test", details={"n": number}
        )
    return checkpoint_make(organisation=alpha.organisation, reason="test")


def test_named_witness_cosigns_the_servers_checkpoints_and_they_are_published(served, client, capsys):
    alpha = served["alpha"]
    client.force_login(alpha.admin)
    added = client.post("/api/v1/custody/witnesses/", {"vkey": served["witness_vkey"]}, content_type="application/json")
    assert added.status_code == 201, added.content
    cosign = ["--cosign-key", str(served["key_file"]), "--cosign-name", "witness.test/w1"]

    # When the witness checks the server twice, the ledger growing in between
    assert _watch(served, *cosign) == Outcome.ACCEPTED
    latest = _grow(alpha, 5)
    assert _watch(served, *cosign) == Outcome.ACCEPTED

    # Then both checkpoints carry its verified cosignature, in the ledger and in the published note
    assert "grew consistently" in capsys.readouterr().out
    assert CheckpointCosignature.objects.filter(checkpoint__organisation=alpha.organisation).count() == 2
    client.force_login(alpha.auditor)
    note = client.get("/api/v1/custody/checkpoint/").content.decode()
    assert note.startswith(latest.note) and "\n\u2014 witness.test/w1 " in note
    assert CustodyEvent.objects.filter(organisation=alpha.organisation, action=Action.CHECKPOINT_COSIGNED).count() == 2


def test_witness_detects_the_servers_rollback(served, capsys):
    # Given a witness that saw the newest of two checkpoints
    alpha = served["alpha"]
    newest = _grow(alpha, 4)
    assert _watch(served) == Outcome.ACCEPTED

    # When someone with database access removes that checkpoint and the entries it covered
    triggers_remove(connection)
    try:
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM custody_checkpoint WHERE id = %s", [newest.pk])
            cursor.execute(
                "DELETE FROM custody_custodyevent WHERE organisation_id = %s AND sequence > %s",
                [alpha.organisation.pk, newest.tree_size - 4],
            )
        raw_tree_rebuild(alpha.organisation.pk)
    finally:
        triggers_install(connection)

    # Then the witness, reading the older checkpoint the server now shows, reports a rollback
    assert _watch(served) == Outcome.ROLLBACK
    assert "ROLLBACK" in capsys.readouterr().out


def test_witness_detects_history_rewritten_and_re_signed_with_the_servers_own_key(served, capsys):
    # Given a witness that saw the ledger's checkpoint
    alpha = served["alpha"]
    assert _watch(served) == Outcome.ACCEPTED

    # When someone holding the server's key changes an early entry, rebuilds the tree and signs a new checkpoint
    triggers_remove(connection)
    try:
        second = CustodyEvent.objects.get(organisation=alpha.organisation, sequence=2)
        raw_update(second, "entry_hash", "ab" * 32)
        raw_tree_rebuild(alpha.organisation.pk)
    finally:
        triggers_install(connection)
    _grow(alpha, 3)

    # Then the witness finds that the new tree does not extend the one it saw
    assert _watch(served) == Outcome.FORK
    assert "does not extend" in capsys.readouterr().out
