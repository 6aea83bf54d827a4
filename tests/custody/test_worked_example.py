"""docs/custody.md's worked example and its table of signed messages are what the code does: every value of the
example is recomputed here from its inputs (key seed, entry, the other entries' hashes, times) with the project's
own functions, and every domain string the code signs with appears in the table."""

import base64
import hashlib
import json
import re
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from custody import chain, merkle, notes
from custody.canonical import canonical_bytes, entry_hash
from custody.signing import SigningKey, key_id_for
from custody.verify_export import EXPORT_MANIFEST_SIGNATURE_DOMAIN

DOC = Path(__file__).resolve().parents[2] / "docs" / "custody.md"
WITNESS_NAME = "witness.example/w1"


def _example() -> tuple[dict[str, str], str]:
    section = DOC.read_text(encoding="utf-8").split("## Worked example", 1)[1]
    values_block, note_block = re.findall(r"```text\n(.*?)```", section, flags=re.DOTALL)[:2]
    values = dict(line.split(": ", 1) for line in values_block.splitlines())
    return values, note_block


def _raw_public(key: Ed25519PrivateKey) -> bytes:
    return key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def test_every_value_of_the_worked_example_is_what_the_code_computes():
    values, note_block = _example()
    key = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(values["key seed"]))
    raw = _raw_public(key)
    signing = SigningKey(key_id_for(raw), key)

    # The key and the entry
    assert values["public key"] == raw.hex()
    assert values["key id"] == signing.key_id == hashlib.sha256(raw).hexdigest()[:16]
    entry = json.loads(values["entry"])
    assert entry["key_id"] == signing.key_id
    assert values["canonical encoding"] == canonical_bytes(entry).decode("utf-8")
    assert values["entry_hash"] == entry_hash(entry) == hashlib.sha256(canonical_bytes(entry)).hexdigest()
    assert values["entry signature"] == signing.sign(chain.entry_signing_payload(values["entry_hash"]))[1]
    assert chain.entry_signing_payload(values["entry_hash"]) == b"evidence-media custody entry v1\n" + values[
        "entry_hash"
    ].encode("ascii")

    # The tree: leaf data are the 32 raw bytes of each entry hash
    hashes = [values["entry_hash"], values["entry 2 entry_hash"], values["entry 3 entry_hash"]]
    leaves = [hashlib.sha256(b"\x00" + bytes.fromhex(value)).digest() for value in hashes]
    assert leaves == chain.entry_leaf_hashes([{"entry_hash": value} for value in hashes])
    assert [values[f"leaf {i}"] for i in range(3)] == [leaf.hex() for leaf in leaves]
    node = hashlib.sha256(b"\x01" + leaves[0] + leaves[1]).digest()
    assert values["node 0-1"] == node.hex() == merkle.node_hash(leaves[0], leaves[1]).hex()
    root = hashlib.sha256(b"\x01" + node + leaves[2]).digest()
    assert values["root"] == root.hex() == merkle.root(leaves).hex()

    # The checkpoint, signed as JSON
    checkpoint = {
        "organisation": entry["organisation"],
        "tree_size": 3,
        "root_hash": root.hex(),
        "made_at": values["checkpoint made_at"],
        "key_id": signing.key_id,
    }
    payload = chain.checkpoint_signing_payload(checkpoint)
    assert values["checkpoint signed bytes"].replace("\\n", "\n").encode("utf-8") == payload
    assert values["checkpoint signature"] == signing.sign(payload)[1]

    # The proofs, which verify against the root
    inclusion = [bytes.fromhex(x) for x in json.loads(values["inclusion proof of leaf 0 in 3"])]
    assert inclusion == merkle.inclusion_proof(leaves, 0, 3)
    assert merkle.verify_inclusion(leaves[0], 0, 3, inclusion, root)
    consistency = [bytes.fromhex(x) for x in json.loads(values["consistency proof 2 to 3"])]
    assert consistency == merkle.consistency_proof(leaves, 2, 3)
    assert merkle.verify_consistency(2, 3, node, root, consistency)

    # The note, its key and the witness's cosignature
    origin = f"evidence-media.invalid/custody/{entry['organisation']}"
    assert values["note key ID"] == hashlib.sha256(origin.encode() + b"\n\x01" + raw).digest()[:4].hex()
    encoded_key = base64.b64encode(bytes([notes.ED25519_NOTE]) + raw).decode("ascii")
    assert values["vkey"] == f"{origin}+{values['note key ID']}+{encoded_key}"
    note = notes.checkpoint_note_sign(notes.CheckpointNote(origin, 3, root), origin, key)
    witness = Ed25519PrivateKey.from_private_bytes(bytes(range(32, 64)))
    assert values["witness vkey"] == notes.NoteKey(WITNESS_NAME, notes.ED25519_COSIGNATURE, _raw_public(witness)).vkey()
    text, _ = notes.note_split(note)
    cosignature = notes.cosignature_make(text, WITNESS_NAME, witness, int(values["cosignature time"]))
    assert note_block == note + cosignature.line()

    # ...and a reader with only the vkeys verifies both
    head = notes.note_verify(note_block, notes.vkey_parse(values["vkey"]))
    assert (head.origin, head.tree_size, head.root) == (origin, 3, root)
    _, lines = notes.note_split(note_block)
    assert notes.cosignature_verify(text, lines[1], notes.vkey_parse(values["witness vkey"])) == 1767323400


def test_every_domain_string_the_code_signs_with_is_written_in_the_table():
    document = DOC.read_text(encoding="utf-8")
    for domain in (
        chain.ENTRY_SIGNATURE_DOMAIN,
        chain.CHECKPOINT_SIGNATURE_DOMAIN,
        chain.BUNDLE_MANIFEST_SIGNATURE_DOMAIN,
        chain.HIGH_WATER_SIGNATURE_DOMAIN,
        EXPORT_MANIFEST_SIGNATURE_DOMAIN,
        notes.COSIGNATURE_HEADER.encode(),
    ):
        assert domain.decode("ascii").replace("\n", "\\n") in document, domain
    for fields in (chain.BUNDLE_MANIFEST_SIGNED_FIELDS, chain.HIGH_WATER_SIGNED_FIELDS):
        assert all(f"{name}" in document for name in fields)
