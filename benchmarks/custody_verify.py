"""Benchmark: verifying a custody chain (`chain_verify`: canonical encoding and SHA-256 of every entry, links,
sequence numbers, Ed25519 signatures, and the Merkle root of a checkpoint over the whole chain) against a bare
loop of Ed25519 verifications of the same signatures, in the same process. The signatures are the floor: the
ratio says what the rest of the verification costs on top of them.

Usage: .venv/bin/python benchmarks/custody_verify.py [--entries 100000] [--rounds 3]
Builds the chain in memory with `entry_seal` (no database, no Django) under a throwaway keyring. The two are
measured in alternating rounds and each one's fastest round is kept, so that load from other processes on a
shared machine, which only ever slows a round down, weighs on both alike.
"""

import argparse
import base64
import os
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey  # noqa: E402

from custody.chain import GENESIS, chain_verify, checkpoint_build, entry_seal, entry_signing_payload  # noqa: E402
from custody.signing import keyring_generate, keyring_public_keys, keyring_signing_key  # noqa: E402

ACTIONS = ["evidence.received", "evidence.viewed", "media.downloaded", "note.added", "analysis.completed"]


def chain_build(count: int, directory: Path) -> list[dict]:
    """A chain shaped like the stored one: UUIDs, times, an actor, an action and a small details object."""
    key = keyring_signing_key(directory)
    organisation, case = uuid.uuid4(), uuid.uuid4()
    start = datetime(2026, 1, 1, tzinfo=UTC)
    entries: list[dict] = []
    previous = GENESIS
    for sequence in range(1, count + 1):
        entry = entry_seal(
            {
                "organisation": organisation,
                "sequence": sequence,
                "recorded_at": start + timedelta(seconds=sequence, microseconds=sequence),
                "actor": f"investigator-{sequence % 7}",
                "action": ACTIONS[sequence % len(ACTIONS)],
                "case": case,
                "evidence": uuid.UUID(int=sequence % 1000),
                "details": {"via": "page", "size": 1000 + sequence, "sha256": f"{sequence:064x}"},
                "prev_hash": previous,
            },
            key,
        )
        entries.append(entry)
        previous = entry["entry_hash"]
    return entries


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--entries", type=int, default=100_000, help="Chain length (default 100000).")
    parser.add_argument("--rounds", type=int, default=3, help="Alternating rounds; the fastest of each is kept.")
    args = parser.parse_args()
    if args.entries < 1 or args.rounds < 1:
        parser.error("--entries and --rounds must be at least 1")

    with tempfile.TemporaryDirectory() as temporary:
        directory = Path(temporary) / "keys"
        keyring_generate(directory)
        public_keys = keyring_public_keys(directory)
        started = time.perf_counter()
        entries = chain_build(args.entries, directory)
        print(f"built and signed {args.entries:,} entries in {time.perf_counter() - started:.2f} s")

    checkpoint = checkpoint_build(entries)
    # The floor: the same signatures over the same payloads, decoded beforehand, one key object.
    [raw_key] = public_keys.values()
    public_key = Ed25519PublicKey.from_public_bytes(raw_key)
    pairs = [(base64.b64decode(e["signature"]), entry_signing_payload(e["entry_hash"])) for e in entries]

    chain_times, bare_times = [], []
    for _ in range(args.rounds):
        started = time.perf_counter()
        report = chain_verify(entries, public_keys, checkpoint)
        chain_times.append(time.perf_counter() - started)
        if not report.ok:
            print(f"the benchmark chain does not verify: {report.first_problem}", file=sys.stderr)
            return 1
        started = time.perf_counter()
        for signature, payload in pairs:
            public_key.verify(signature, payload)
        bare_times.append(time.perf_counter() - started)
    chain_seconds, bare_seconds = min(chain_times), min(bare_times)

    chain_rate, bare_rate = args.entries / chain_seconds, args.entries / bare_seconds
    print(f"fastest of {args.rounds} rounds each; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    print(f"chain_verify (hashes, links, signatures, checkpoint): {chain_seconds:.2f} s, {chain_rate:,.0f} entries/s")
    print(f"bare Ed25519 verify loop:                             {bare_seconds:.2f} s, {bare_rate:,.0f} signatures/s")
    print(f"ratio: chain verification takes {chain_seconds / bare_seconds:.2f}x the time of the signatures alone")
    print(f"RESULT ratio={chain_seconds / bare_seconds:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
