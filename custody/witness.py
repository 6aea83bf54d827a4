"""A witness of an organisation's custody ledger, run by someone other than the server's operator::

    python -m custody.witness --state DIR --vkey VKEY SOURCE [--proof FILE] [--token TOKEN]
                              [--cosign-key KEY.pem --cosign-name NAME]

SOURCE is the organisation's custody API (``https://host/api/v1/custody/``), from which the newest checkpoint
(``checkpoint/``) and a consistency proof from the last one seen (``consistency/?old_size=M&new_size=N``) are
fetched, or
a file holding a checkpoint as a signed note, with ``--proof`` naming a file holding the consistency proof as
the API gives it. VKEY is the log's verifier key (the server shows it with the checkpoint); the checkpoint must
carry a valid signature by it.

The witness keeps, per log origin (one per organisation), the last checkpoint it accepted, in DIR. It accepts a
new checkpoint only if it extends that one (RFC 6962 consistency proof), and reports, without accepting it:

- a **rollback**: a checkpoint with fewer entries than one already seen;
- a **fork**: the same size with another root, or a larger tree that does not contain the one already seen.

With ``--cosign-key`` (an Ed25519 private key, PEM) and ``--cosign-name``, an accepted checkpoint is cosigned
(c2sp.org/tlog-cosignature) and the line printed; from an API it is also sent to ``checkpoint/cosignatures/``,
which stores it if the organisation named this witness. Exit status: 0 accepted, 1 unusable input (bad
signature, unreadable source), 2 rollback, 3 fork. Needs only the standard library, ``cryptography`` and the
Django-free custody modules (merkle, notes, this one).
"""

import argparse
import base64
import hashlib
import json
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from enum import IntEnum
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from custody import merkle
from custody.notes import CheckpointNote, NoteError, NoteKey, cosignature_make, note_split, note_verify, vkey_parse

TIMEOUT_SECONDS = 30


class Outcome(IntEnum):
    ACCEPTED = 0
    UNUSABLE = 1
    ROLLBACK = 2
    FORK = 3


@dataclass(frozen=True)
class Verdict:
    outcome: Outcome
    message: str
    checkpoint: CheckpointNote | None = None


class WitnessError(Exception):
    """The source could not be read or gave something that is not a checkpoint or a proof."""


# Fetches the consistency proof between two sizes, as a list of 32-byte hashes.
ProofSource = Callable[[int, int], list[bytes]]


def state_path(state_dir: Path, origin: str) -> Path:
    """Where the last checkpoint seen of a log is kept: one file per origin, named by its SHA-256."""
    return state_dir / f"{hashlib.sha256(origin.encode('utf-8')).hexdigest()[:32]}.json"


def state_read(state_dir: Path, origin: str) -> CheckpointNote | None:
    path = state_path(state_dir, origin)
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as error:
        raise WitnessError(f"the witness state {path} is unreadable: {error}") from None
    if document.get("origin") != origin:
        raise WitnessError(f"the witness state {path} is about another log ({document.get('origin')!r})")
    return CheckpointNote(origin, int(document["tree_size"]), base64.b64decode(document["root"]))


def state_write(state_dir: Path, checkpoint: CheckpointNote, note: str) -> None:
    """Replace the last checkpoint seen, atomically (a crash leaves the old state or the new one)."""
    state_dir.mkdir(parents=True, exist_ok=True)
    path = state_path(state_dir, checkpoint.origin)
    document = {
        "origin": checkpoint.origin,
        "tree_size": checkpoint.tree_size,
        "root": base64.b64encode(checkpoint.root).decode("ascii"),
        "note": note,
        "accepted_at": int(time.time()),
    }
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    temporary.replace(path)


def witness_check(note: str, key: NoteKey, state_dir: Path, proof_source: ProofSource) -> Verdict:
    """Verify a checkpoint note against the last checkpoint seen of its log and accept it if it extends it."""
    try:
        new = note_verify(note, key)
    except NoteError as error:
        return Verdict(Outcome.UNUSABLE, f"the checkpoint is not validly signed by {key.name}: {error}")
    if new.origin != key.name:
        return Verdict(Outcome.UNUSABLE, f"the checkpoint is of log {new.origin!r}, not of {key.name!r}")
    old = state_read(state_dir, new.origin)
    if old is None:
        state_write(state_dir, new, note)
        return Verdict(Outcome.ACCEPTED, f"first checkpoint of {new.origin} seen: size {new.tree_size}", new)
    if new.tree_size < old.tree_size:
        return Verdict(
            Outcome.ROLLBACK,
            f"ROLLBACK: {new.origin} now shows {new.tree_size} entries, but a checkpoint of {old.tree_size} entries "
            f"(root {old.root.hex()}) was seen before: entries {new.tree_size + 1}..{old.tree_size} were removed",
            new,
        )
    if new.tree_size == old.tree_size:
        if new.root != old.root:
            return Verdict(
                Outcome.FORK,
                f"FORK: {new.origin} shows two different trees of {new.tree_size} entries "
                f"(roots {old.root.hex()} seen before, {new.root.hex()} now): history was rewritten",
                new,
            )
        return Verdict(Outcome.ACCEPTED, f"{new.origin} unchanged at size {new.tree_size}", new)
    proof = proof_source(old.tree_size, new.tree_size)
    if not merkle.verify_consistency(old.tree_size, new.tree_size, old.root, new.root, proof):
        return Verdict(
            Outcome.FORK,
            f"FORK: the tree of {new.tree_size} entries of {new.origin} does not extend the one of "
            f"{old.tree_size} entries seen before (root {old.root.hex()}): the consistency proof fails",
            new,
        )
    state_write(state_dir, new, note)
    return Verdict(Outcome.ACCEPTED, f"{new.origin} grew consistently from {old.tree_size} to {new.tree_size}", new)


def proof_read(document: object, old_size: int, new_size: int) -> list[bytes]:
    """The proof of a consistency document ({"old_size": M, "new_size": N, "proof": [hex, ...]}) for these sizes."""
    if not isinstance(document, dict) or (document.get("old_size"), document.get("new_size")) != (old_size, new_size):
        raise WitnessError(f"the consistency proof given is not the one from size {old_size} to {new_size}")
    proof = document.get("proof")
    try:
        return [bytes.fromhex(node) for node in proof]
    except (TypeError, ValueError):
        raise WitnessError("the consistency proof is not a list of hex hashes") from None


class ApiSource:
    """The organisation's custody API, read with an API token."""

    def __init__(self, base_url: str, token: str | None):
        self.base_url = base_url if base_url.endswith("/") else base_url + "/"
        self.token = token

    def checkpoint_note(self) -> str:
        return self._request("checkpoint/").decode("utf-8")

    def consistency_proof(self, old_size: int, new_size: int) -> list[bytes]:
        query = urllib.parse.urlencode({"old_size": old_size, "new_size": new_size})
        return proof_read(json.loads(self._request(f"consistency/?{query}")), old_size, new_size)

    def cosignature_send(self, cosigned_note: str) -> None:
        self._request("checkpoint/cosignatures/", data=json.dumps({"note": cosigned_note}).encode("utf-8"))

    def _request(self, path: str, data: bytes | None = None) -> bytes:
        request = urllib.request.Request(self.base_url + path, data=data, method="POST" if data else "GET")
        if self.token:
            request.add_header("Authorization", f"Token {self.token}")
        if data is not None:
            request.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310 (http(s) only)
                return response.read()
        except urllib.error.HTTPError as error:
            raise WitnessError(f"{self.base_url + path} answered {error.code}: {error.read()[:300]!r}") from None
        except (urllib.error.URLError, TimeoutError) as error:
            raise WitnessError(f"{self.base_url + path} cannot be reached: {error}") from None


def cosign_key_read(path: Path) -> Ed25519PrivateKey:
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise WitnessError(f"{path} does not hold an Ed25519 private key")
    return key


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m custody.witness", description=__doc__.split("\n\n")[0])
    parser.add_argument("source", help="the custody API URL, or a file holding a checkpoint (signed note)")
    parser.add_argument("--state", required=True, type=Path, help="directory of the last checkpoints seen")
    parser.add_argument("--vkey", required=True, help="the log's verifier key (name+keyid+base64)")
    parser.add_argument("--proof", type=Path, help="with a file source: the consistency proof (JSON) from the API")
    parser.add_argument("--token", help="API token of a member who may read the organisation's custody ledger")
    parser.add_argument("--cosign-key", type=Path, help="Ed25519 private key (PEM) to cosign accepted checkpoints")
    parser.add_argument("--cosign-name", help="this witness's name, as the organisation registered it")
    args = parser.parse_args(argv)
    if bool(args.cosign_key) != bool(args.cosign_name):
        parser.error("--cosign-key and --cosign-name go together")
    try:
        key = vkey_parse(args.vkey)
        verdict, note, api = _check(args, key)
        print(verdict.message)
        if verdict.outcome is Outcome.ACCEPTED and args.cosign_key:
            text, _ = note_split(note)
            line = cosignature_make(text, args.cosign_name, cosign_key_read(args.cosign_key), int(time.time())).line()
            print(line, end="")
            if api is not None:
                api.cosignature_send(note + line)
                print("cosignature sent")
    except (WitnessError, NoteError, OSError, ValueError) as error:
        print(f"witness: {error}", file=sys.stderr)
        return Outcome.UNUSABLE
    return verdict.outcome


def _check(args, key: NoteKey) -> tuple[Verdict, str, ApiSource | None]:
    if urllib.parse.urlsplit(args.source).scheme in ("http", "https"):
        api = ApiSource(args.source, args.token)
        note = api.checkpoint_note()
        return witness_check(note, key, args.state, api.consistency_proof), note, None if not args.cosign_key else api
    note = Path(args.source).read_text(encoding="utf-8")

    def from_file(old_size: int, new_size: int) -> list[bytes]:
        if args.proof is None:
            raise WitnessError(f"the checkpoint grew from {old_size} to {new_size}: --proof must give the proof")
        return proof_read(json.loads(args.proof.read_text(encoding="utf-8")), old_size, new_size)

    return witness_check(note, key, args.state, from_file), note, None


if __name__ == "__main__":
    sys.exit(main())
