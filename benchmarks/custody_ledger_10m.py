"""Benchmark: a custody ledger of 10,000,000 entries on PostgreSQL. Times `checkpoint_make` (the signed tree head,
read from the stored subtrees) and single inclusion and consistency proofs, each checked against the checkpoint's
root, against a named reference measured in the same run: PostgreSQL reading the organisation's entry hashes in
sequence order (`SELECT entry_hash … ORDER BY sequence`), the least that computing a root or a proof from the
entries, as the ledger did before its tree was stored, must do. Aims: checkpoint < 1 s, one proof < 10 ms.

Usage: .venv/bin/python benchmarks/custody_ledger_10m.py [--entries 10000000] [--proofs 200] [--keep]
Needs PostgreSQL: DATABASE_URL names the server (default postgres://postgres@127.0.0.1:5432); a throwaway database
is created there, migrated, and dropped at the end (unless --keep). The synthetic entries are bulk-loaded with COPY
(their secondary indexes built after the load, as a bulk load does) and their subtree hashes computed here and
loaded the same way: the entries' hashes and links are real SHA-256 values, their signatures are not (signing ten
million entries is not what is measured), so `custody_verify` would reject this ledger. Loading takes minutes.
"""

import argparse
import hashlib
import io
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

REPOSITORY = Path(__file__).resolve().parent.parent
COPY_CHUNK = 50_000
FAKE_SIGNATURE = "A" * 86 + "=="


def database_create(server_url: str) -> str:
    import psycopg

    name = f"evidencemedia_bench_{os.getpid()}"
    with psycopg.connect(_with_database(server_url, "postgres"), autocommit=True) as connection:
        connection.execute(f"CREATE DATABASE {name}")
    return name


def database_drop(server_url: str, name: str) -> None:
    import psycopg

    with psycopg.connect(_with_database(server_url, "postgres"), autocommit=True) as connection:
        connection.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def _with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


def django_setup(database_url: str, data_dir: Path) -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = "evidencemedia.settings.local"
    os.environ["EVIDENCEMEDIA_DATA_DIR"] = str(data_dir)
    os.environ["DATABASE_URL"] = database_url
    os.environ["DJANGO_LOG_LEVEL"] = "WARNING"
    sys.path.insert(0, str(REPOSITORY))
    import django
    from django.conf import settings
    from django.core.management import call_command

    django.setup()
    settings.DEBUG = False
    call_command("migrate", verbosity=0, interactive=False)
    call_command("custody_keygen", stdout=io.StringIO())


def ledger_load(entries: int) -> tuple[object, float]:
    """An organisation whose ledger is `entries` long: its few real entries, then synthetic ones by COPY, with
    the stored subtree hashes of the whole ledger. Returns the organisation and the seconds the load took."""
    from django.db import connection

    from cases import services
    from custody import merkle
    from custody.models import CustodyEvent, MerkleNode

    started = time.perf_counter()
    organisation = services.organisation_create(name="Benchmark Unit", slug="benchmark")
    real = list(
        CustodyEvent.objects.filter(organisation=organisation).order_by("sequence").values_list("entry_hash", flat=True)
    )

    def entry_hashes():
        yield from real
        for sequence in range(len(real) + 1, entries + 1):
            yield hashlib.sha256(b"synthetic %d" % sequence).hexdigest()

    def entry_rows():
        previous = None
        for sequence, entry_hash in enumerate(entry_hashes(), start=1):
            if sequence > len(real):
                yield (
                    f"{organisation.pk}\t{sequence}\t2026-01-01 00:00:00+00\tsystem:benchmark\tnote.added\t{{}}\t"
                    f"{previous}\t{entry_hash}\t0000000000000000\t{FAKE_SIGNATURE}\n"
                )
            previous = entry_hash

    columns = (
        "organisation_id, sequence, recorded_at, actor_label, action, details, prev_hash, entry_hash, key_id, signature"
    )
    with _indexes_set_aside(CustodyEvent._meta.db_table, primary_key=False):
        _copy(f"COPY {CustodyEvent._meta.db_table} ({columns}) FROM STDIN", entry_rows())
    print(f"  entries loaded: {time.perf_counter() - started:.0f} s")

    # The appends of the real entries stored their subtrees, which tree_nodes yields first, in the same order.
    stored = MerkleNode.objects.filter(organisation=organisation).count()

    def node_rows():
        leaves = (merkle.leaf_hash(bytes.fromhex(value)) for value in entry_hashes())
        for number, (node, value) in enumerate(merkle.tree_nodes(leaves)):
            if number >= stored:
                yield f"{organisation.pk}\t{node.level}\t{node.index}\t\\\\x{value.hex()}\n"

    with _indexes_set_aside(MerkleNode._meta.db_table, primary_key=True):
        _copy(f"COPY {MerkleNode._meta.db_table} (organisation_id, level, position, hash) FROM STDIN", node_rows())
    # What autovacuum does to a ledger grown by appends: the planner's statistics, and the visibility map and hint
    # bits, without which the first proofs after a bulk load write to the pages they read.
    with connection.cursor() as cursor:
        cursor.execute("VACUUM (ANALYZE)")
    return organisation, time.perf_counter() - started


def _copy(statement: str, rows) -> None:
    """Stream text-format rows to COPY in chunks."""
    from django.db import connection

    with connection.cursor() as cursor, cursor.copy(statement) as copy:
        chunk = []
        for row in rows:
            chunk.append(row)
            if len(chunk) == COPY_CHUNK:
                copy.write("".join(chunk))
                chunk = []
        copy.write("".join(chunk))


class _indexes_set_aside:
    """Drop a table's indexes and unique constraints (its primary key too if asked: only where no other table
    refers to it) for a bulk load, and build them again afterwards, as PostgreSQL's documentation advises."""

    def __init__(self, table: str, primary_key: bool):
        self.table = table
        self.kinds = ["u", "p"] if primary_key else ["u"]

    def __enter__(self):
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
                "WHERE conrelid = %s::regclass AND contype = ANY(%s)",
                [self.table, self.kinds],
            )
            self.constraints = cursor.fetchall()
            cursor.execute(
                "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s AND indexname <> ALL(%s) "
                "AND indexname NOT IN (SELECT conname FROM pg_constraint WHERE conrelid = %s::regclass)",
                [self.table, [name for name, _ in self.constraints], self.table],
            )
            self.indexes = cursor.fetchall()
            for name, _ in self.indexes:
                cursor.execute(f'DROP INDEX "{name}"')
            for name, _ in self.constraints:
                cursor.execute(f'ALTER TABLE {self.table} DROP CONSTRAINT "{name}"')
        return self

    def __exit__(self, *exc_info):
        from django.db import connection

        started = time.perf_counter()
        with connection.cursor() as cursor:
            for name, definition in self.constraints:
                cursor.execute(f'ALTER TABLE {self.table} ADD CONSTRAINT "{name}" {definition}')
            for _, definition in self.indexes:
                cursor.execute(definition)
        print(f"  {self.table}: indexes built again in {time.perf_counter() - started:.0f} s")


def _execution_ms(organisation_id: int, index: int, size: int) -> float:
    """PostgreSQL's planning plus execution time of the query an inclusion proof makes."""
    from collections import defaultdict

    from django.db import connection

    from custody import merkle
    from custody.merkle_store import node_query

    by_level = defaultdict(set)
    for element in merkle.inclusion_proof_nodes(index, size):
        for node in element:
            by_level[node.level].add(node.index)
    sql, params = node_query(organisation_id, by_level)
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, FORMAT JSON) {sql}", params)
        [plan] = cursor.fetchone()[0]
    return plan["Planning Time"] + plan["Execution Time"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--entries", type=int, default=10_000_000)
    parser.add_argument("--proofs", type=int, default=200, help="random inclusion proofs timed (default 200)")
    parser.add_argument("--keep", action="store_true", help="keep the database (its name is printed)")
    args = parser.parse_args()
    server = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432")
    if urlsplit(server).scheme not in ("postgres", "postgresql"):
        parser.error("DATABASE_URL must name a PostgreSQL server")

    name = database_create(server)
    print(f"database {name}")
    try:
        with tempfile.TemporaryDirectory() as data_dir:
            django_setup(_with_database(server, name), Path(data_dir))
            return measure(args)
    finally:
        if args.keep:
            print(f"kept database {name}")
        else:
            from django.db import connections

            connections.close_all()
            database_drop(server, name)


def measure(args) -> int:
    from django.db import connection

    from custody import merkle
    from custody.checkpoints import checkpoint_make
    from custody.merkle_store import stored_consistency_proof, stored_inclusion_proof, stored_leaf_hashes, stored_root

    print(f"loading {args.entries:,} entries…")
    organisation, load_seconds = ledger_load(args.entries)
    print(f"loaded in {load_seconds:.0f} s")

    # Reference: the sequential read of every entry hash that an O(n) root or proof starts with.
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT entry_hash FROM custody_custodyevent WHERE organisation_id = %s ORDER BY sequence",
            [organisation.pk],
        )
        read = sum(1 for _ in iter(lambda: cursor.fetchmany(100_000), []))
    reference_seconds = time.perf_counter() - started
    assert read > 0

    checkpoint_times = []
    for _ in range(3):
        started = time.perf_counter()
        checkpoint = checkpoint_make(organisation=organisation, reason="benchmark", force=True)
        checkpoint_times.append(time.perf_counter() - started)
    checkpoint_seconds = statistics.median(checkpoint_times)
    size, root = checkpoint.tree_size, bytes.fromhex(checkpoint.root_hash)

    rng = random.Random(14)
    proof_times = []
    for index in (rng.randrange(size) for _ in range(args.proofs)):
        started = time.perf_counter()
        proof = stored_inclusion_proof(organisation.pk, index, size)
        proof_times.append(time.perf_counter() - started)
        leaf = stored_leaf_hashes(organisation.pk, [index])[index]
        if not merkle.verify_inclusion(leaf, index, size, proof, root):
            print(f"inclusion proof of leaf {index} does not verify", file=sys.stderr)
            return 1
    old_size = rng.randrange(1, size)
    started = time.perf_counter()
    consistency = stored_consistency_proof(organisation.pk, old_size, size)
    consistency_seconds = time.perf_counter() - started
    old_root = stored_root(organisation.pk, old_size)
    if not merkle.verify_consistency(old_size, size, old_root, root, consistency):
        print("consistency proof does not verify", file=sys.stderr)
        return 1

    database_ms = [_execution_ms(organisation.pk, index, size) for index in (rng.randrange(size) for _ in range(20))]
    proof_times.sort()
    p95 = proof_times[int(0.95 * (len(proof_times) - 1))]
    print(f"ledger: {size:,} entries; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    print(f"reference, PostgreSQL reading every entry hash in order: {reference_seconds:.2f} s")
    print(
        f"checkpoint_make (median of 3): {checkpoint_seconds * 1000:.1f} ms (aim < 1 s), "
        f"{reference_seconds / checkpoint_seconds:,.0f}x faster than the reference read alone"
    )
    print(
        f"inclusion proof, {len(proof_times)} random leaves: median {statistics.median(proof_times) * 1000:.2f} ms, "
        f"p95 {p95 * 1000:.2f} ms, max {proof_times[-1] * 1000:.2f} ms (aim < 10 ms each); all verified"
    )
    print(
        f"  of which PostgreSQL's own planning and execution of the proof's one query (EXPLAIN ANALYZE, 20 leaves): "
        f"median {statistics.median(database_ms):.2f} ms; the rest is the client's round trip and Python"
    )
    print(f"consistency proof {old_size:,} -> {size:,}: {consistency_seconds * 1000:.2f} ms; verified")
    print(f"RESULT checkpoint_seconds={checkpoint_seconds:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
