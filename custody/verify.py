"""Standalone verifier of an evidence item's custody bundle::

    python -m custody.verify bundle.json [--key trusted-key.pem ...] [--tsa-root tsa-root.pem ...]

Runs with the standard library, ``cryptography``, pyHanko (for RFC 3161 tokens) and the Django-free custody
modules (canonical, merkle, signing, chain, timestamp_tokens and this one) only: no Django, no database, no
server. It checks every event's hash and signature, each event's inclusion proof against the checkpoint's
Merkle root, the checkpoint's signature and its RFC 3161 time-stamp when it has one (``--tsa-root`` requires one
chaining to that root), the
links between events with consecutive sequence numbers, and the signed list of the item's events (so that a
dropped event shows). It prints "intact" and what it verified, or every failure; exit status 0 or 1.
"""

import argparse
import base64
import binascii
import json
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from custody import merkle
from custody.canonical import CanonicalError, entry_hash
from custody.chain import (
    HEX_HASH_PATTERN,
    bundle_manifest_signing_payload,
    checkpoint_signing_payload,
    entry_signing_payload,
)
from custody.signing import KeyringError, key_id_for, public_key_from_pem, verify

BUNDLE_FORMAT = "evidence-media custody bundle"
BUNDLE_VERSION = 1


@dataclass
class BundleReport:
    """What was verified and what failed; the bundle is intact when nothing failed."""

    verified: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failures


@dataclass(frozen=True)
class _Head:
    tree_size: int
    root: bytes


def bundle_verify(
    bundle: Any, trusted_keys: Mapping[str, bytes] | None = None, tsa_roots: list[bytes] | None = None
) -> BundleReport:
    """Verify a parsed bundle. `trusted_keys` ({key id: raw public key}), when given, replaces the keys the
    bundle carries, which only its own author vouches for; `tsa_roots` (PEM files' contents), when given, are the
    TSA roots the checkpoint's time-stamp must chain to (see custody.timestamp_tokens). Never raises on malformed
    input."""
    report = BundleReport()
    if not isinstance(bundle, dict) or bundle.get("format") != BUNDLE_FORMAT:
        report.failures.append(f"not a custody bundle: the format field is not {BUNDLE_FORMAT!r}")
        return report
    if bundle.get("version") != BUNDLE_VERSION:
        report.failures.append(f"bundle version {bundle.get('version')!r} is not {BUNDLE_VERSION}, the one this reads")
        return report
    if trusted_keys is None:
        keys = public_keys_read(bundle.get("public_keys"), report)
        report.verified.append(
            f"public keys {', '.join(sorted(keys)) or '(none)'} taken from the bundle: compare their ids with the "
            "ones the organisation publishes, or pass --key"
        )
    else:
        keys = dict(trusted_keys)
        report.verified.append(f"public keys {', '.join(sorted(keys))} pinned with --key")
    head = _checkpoint(bundle, keys, report)
    if head is not None:
        _checkpoint_timestamp(bundle, tsa_roots, report)
    present = _events(bundle, head, keys, report)
    _manifest(bundle, head, keys, present, report)
    return report


def public_keys_read(documents: Any, report: BundleReport) -> dict[str, bytes]:
    """{key id: raw key} from a list of published key documents; each unreadable or mismatched one is a failure."""
    if not isinstance(documents, list):
        report.failures.append("the bundle has no list of public keys")
        return {}
    keys: dict[str, bytes] = {}
    for document in documents:
        key_id = document.get("key_id") if isinstance(document, dict) else None
        try:
            raw = base64.b64decode(document["public_key_base64"], validate=True)
            from_pem = public_key_from_pem(document["public_key_pem"])
        except (KeyError, TypeError, ValueError, binascii.Error, KeyringError) as error:
            report.failures.append(f"public key {key_id!r} is unreadable: {error}")
            continue
        if raw != from_pem:
            report.failures.append(f"public key {key_id!r}: its PEM and base64 forms are different keys")
        elif key_id_for(raw) != key_id:
            report.failures.append(f"public key {key_id!r} does not match its id (that key's id is {key_id_for(raw)})")
        else:
            keys[key_id] = raw
    return keys


def _checkpoint(bundle: dict, keys: Mapping[str, bytes], report: BundleReport) -> _Head | None:
    checkpoint = bundle.get("checkpoint")
    if not isinstance(checkpoint, dict):
        report.failures.append("the bundle has no checkpoint")
        return None
    size, root_hash, key_id = checkpoint.get("tree_size"), checkpoint.get("root_hash"), checkpoint.get("key_id")
    if not (_is_count(size) and size > 0 and _is_hex_hash(root_hash)):
        report.failures.append("the checkpoint's tree_size or root_hash is malformed")
        return None
    if checkpoint.get("organisation") != bundle.get("organisation"):
        report.failures.append("the checkpoint belongs to another organisation than the bundle")
    try:
        payload = checkpoint_signing_payload(checkpoint)
    except (KeyError, CanonicalError) as error:
        report.failures.append(f"the checkpoint cannot be checked: {error}")
        return None
    # A checkpoint whose signature fails is still used for the proofs, so that every failure is reported.
    if not signature_failure(keys, key_id, payload, checkpoint.get("signature"), report, "the checkpoint"):
        report.verified.append(
            f"checkpoint: {size} entries, root {root_hash}, made {checkpoint.get('made_at')}, "
            f"signature valid (key {key_id})"
        )
    return _Head(size, bytes.fromhex(root_hash))


def _checkpoint_timestamp(bundle: dict, tsa_roots: list[bytes] | None, report: BundleReport) -> None:
    if bundle.get("checkpoint_timestamp") is None and tsa_roots is None:
        report.verified.append(
            "the checkpoint carries no RFC 3161 time-stamp: its time rests on the organisation's own clock"
        )
        return
    try:
        from custody.timestamp_tokens import bundle_timestamp_verify  # pyHanko is needed for time-stamps only
    except ImportError as error:
        report.failures.append(f"the checkpoint's RFC 3161 time-stamp cannot be checked without pyHanko: {error}")
        return
    verified, failures = bundle_timestamp_verify(bundle, tsa_roots)
    report.verified.extend(verified)
    report.failures.extend(failures)


def _events(bundle: dict, head: _Head | None, keys: Mapping[str, bytes], report: BundleReport) -> list[tuple[int, str]]:
    """Check every event; return the (sequence, entry_hash) of each one well-formed enough to be named."""
    events = bundle.get("events")
    if not isinstance(events, list) or not events:
        report.failures.append("the bundle holds no events")
        return []
    present: list[tuple[int, str]] = []
    previous: tuple[int, str] | None = None
    for position, exported in enumerate(events):
        entry = exported.get("entry") if isinstance(exported, dict) else None
        shape_error = _entry_shape_error(entry)
        if shape_error:
            report.failures.append(f"event at position {position + 1}: {shape_error}")
            continue
        sequence, stored_hash = entry["sequence"], entry["entry_hash"]
        name = f"event {sequence}"
        failures_before = len(report.failures)
        for field_name in ("organisation", "evidence"):
            if entry.get(field_name) != bundle.get(field_name):
                report.failures.append(f"{name} concerns another {field_name} than the bundle")
        try:
            recomputed = entry_hash(entry)
        except CanonicalError as error:
            report.failures.append(f"{name} cannot be hashed: {error}")
        else:
            if recomputed != stored_hash:
                report.failures.append(f"{name}: its fields do not hash to its entry_hash: the event was edited")
        signature_failure(keys, entry["key_id"], entry_signing_payload(stored_hash), entry["signature"], report, name)
        _inclusion_failure(exported, sequence, stored_hash, head, report, name)
        if previous is not None and sequence <= previous[0]:
            report.failures.append(f"{name} comes after event {previous[0]}: events out of order or repeated")
        elif previous is not None and sequence == previous[0] + 1 and entry["prev_hash"] != previous[1]:
            report.failures.append(f"{name} does not link to event {previous[0]}: one of them was replaced")
        if len(report.failures) == failures_before:
            link = " and link to the previous event" if previous and sequence == previous[0] + 1 else ""
            report.verified.append(
                f"{name} ({entry.get('action')}, {entry.get('recorded_at')}, {entry.get('actor')}): hash, signature "
                f"(key {entry['key_id']}), inclusion in the checkpoint at leaf {sequence - 1}{link} valid"
            )
        previous = (sequence, stored_hash)
        present.append(previous)
    return present


def _inclusion_failure(
    exported: dict, sequence: int, stored_hash: str, head: _Head | None, report: BundleReport, name: str
) -> None:
    index, proof_hex = exported.get("leaf_index"), exported.get("inclusion_proof")
    # Leaf i of the ledger's tree is the entry with sequence i + 1, so the proof also pins the position.
    if index != sequence - 1:
        report.failures.append(f"{name}: its leaf index {index!r} is not its place in the ledger ({sequence - 1})")
        return
    try:
        proof = [bytes.fromhex(node) for node in proof_hex]
    except (TypeError, ValueError):
        report.failures.append(f"{name}: its inclusion proof is not a list of hex hashes")
        return
    if head is None:
        report.failures.append(f"{name}: no valid checkpoint to prove its inclusion against")
    elif not merkle.verify_inclusion(
        merkle.leaf_hash(bytes.fromhex(stored_hash)), index, head.tree_size, proof, head.root
    ):
        report.failures.append(
            f"{name}: its inclusion proof does not lead to the checkpoint root: it is not in the checkpointed ledger"
        )


def _manifest(
    bundle: dict, head: _Head | None, keys: Mapping[str, bytes], present: list[tuple[int, str]], report: BundleReport
) -> None:
    manifest = bundle.get("manifest")
    if not isinstance(manifest, dict) or not isinstance(manifest.get("events"), list):
        report.failures.append("the bundle has no signed list of its events")
        return
    try:
        payload = bundle_manifest_signing_payload(manifest)
        listed = [(event["sequence"], event["entry_hash"]) for event in manifest["events"]]
    except (KeyError, TypeError, CanonicalError) as error:
        report.failures.append(f"the signed list of events is malformed: {error}")
        return
    failures_before = len(report.failures)
    if manifest.get("organisation") != bundle.get("organisation") or manifest.get("evidence") != bundle.get("evidence"):
        report.failures.append("the signed list of events is for another organisation or evidence item")
    if head is not None and (manifest.get("checkpoint_tree_size"), manifest.get("checkpoint_root_hash")) != (
        head.tree_size,
        head.root.hex(),
    ):
        report.failures.append("the signed list of events names another checkpoint than the bundle's")
    signature_failure(keys, manifest.get("key_id"), payload, manifest.get("signature"), report, "the list of events")
    for sequence, listed_hash in listed:
        if (sequence, listed_hash) not in present:
            report.failures.append(f"event {sequence} is in the signed list of events but not in the bundle: dropped")
    for sequence, stored_hash in present:
        if (sequence, stored_hash) not in listed:
            report.failures.append(f"event {sequence} is not in the signed list of events: added or re-hashed")
    if len(report.failures) == failures_before:
        report.verified.append(
            f"the bundle holds exactly the {len(listed)} events of the signed list (key {manifest['key_id']})"
        )


def signature_failure(
    keys: Mapping[str, bytes], key_id: Any, payload: bytes, signature: Any, report: BundleReport, name: str
) -> bool:
    """Record why `name`'s signature fails, if it does; return whether it failed."""
    if not isinstance(key_id, str) or key_id not in keys:
        report.failures.append(f"{name} is signed with key {key_id!r}, which is not among the trusted public keys")
        return True
    if not verify(keys, key_id, payload, signature):
        report.failures.append(f"{name}: the signature is not valid under key {key_id}")
        return True
    return False


def _entry_shape_error(entry: Any) -> str | None:
    if not isinstance(entry, dict):
        return "no entry"
    sequence = entry.get("sequence")
    if not (_is_count(sequence) and sequence >= 1):
        return f"sequence {sequence!r} is not a positive integer"
    for name in ("entry_hash", "prev_hash"):
        if not _is_hex_hash(entry.get(name)):
            return f"event {sequence}: {name} is not 64 lower-case hex characters"
    for name in ("key_id", "signature"):
        if not isinstance(entry.get(name), str):
            return f"event {sequence}: {name} is missing"
    return None


def _is_count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _is_hex_hash(value: Any) -> bool:
    return isinstance(value, str) and HEX_HASH_PATTERN.fullmatch(value) is not None


def trusted_keys_read(paths: list[Path]) -> dict[str, bytes]:
    """{key id: raw key} of PEM public keys obtained independently of what is being verified."""
    keys = {}
    for path in paths:
        raw = public_key_from_pem(path.read_text(encoding="ascii"))
        keys[key_id_for(raw)] = raw
    return keys


def key_option_add(parser: argparse.ArgumentParser, *, inside: str) -> None:
    """The --key option both offline verifiers share: trust keys obtained independently, not those `inside`."""
    parser.add_argument(
        "--key",
        type=Path,
        action="append",
        default=[],
        help="a PEM public key obtained independently (e.g. from /api/v1/custody/keys/); "
        f"when given, only these keys are trusted, not the ones inside the {inside}",
    )


def tsa_root_option_add(parser: argparse.ArgumentParser) -> None:
    """The --tsa-root option both offline verifiers share."""
    parser.add_argument(
        "--tsa-root",
        type=Path,
        action="append",
        default=None,
        help="a PEM file of a Time-Stamping Authority's root certificate(s), obtained from the TSA; when given, the "
        "checkpoint must carry an RFC 3161 time-stamp chaining to it",
    )


def tsa_roots_read(paths: list[Path] | None) -> list[bytes] | None:
    return None if paths is None else [path.read_bytes() for path in paths]


def report_print(report: BundleReport, *, source: Path, intact: list[str]) -> int:
    """Print what was verified (after the `intact` lines) or every failure; return the exit status."""
    if report.ok:
        print("\n".join(intact))
        for line in report.verified:
            print(f"  verified: {line}")
        return 0
    print(f"FAILED: {len(report.failures)} problem(s) in {source}")
    for line in report.failures:
        print(f"  {line}")
    return 1


def main(argv: list[str] | None = None) -> int:
    """Command line entry point; returns the exit status."""
    parser = argparse.ArgumentParser(
        prog="python -m custody.verify", description="Verify an Evidence Media custody bundle offline."
    )
    parser.add_argument("bundle", type=Path, help="the bundle JSON file")
    key_option_add(parser, inside="bundle")
    tsa_root_option_add(parser)
    args = parser.parse_args(argv)
    try:
        bundle = json.loads(args.bundle.read_text(encoding="utf-8"))
        trusted = trusted_keys_read(args.key) if args.key else None
        tsa_roots = tsa_roots_read(args.tsa_root)
    except (OSError, UnicodeDecodeError, ValueError, KeyringError) as error:
        print(f"FAILED: cannot read the input: {error}")
        return 1
    report = bundle_verify(bundle, trusted, tsa_roots)
    intact = []
    if report.ok:
        intact = [f"intact: custody bundle of evidence {bundle['evidence']} of organisation {bundle['organisation']}"]
    return report_print(report, source=args.bundle, intact=intact)


if __name__ == "__main__":
    sys.exit(main())
