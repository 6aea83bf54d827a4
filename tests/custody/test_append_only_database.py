"""The ledger tables are append-only in the database itself: raw SQL UPDATE and DELETE are rejected on SQLite
and on PostgreSQL (whichever the suite runs on), and TRUNCATE on PostgreSQL, not only by the ORM; TRUNCATE is
also refused on each newer append-only table (checkpoint time-stamps, Merkle nodes, witness cosignatures)."""

import time

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.db import DatabaseError, connection, transaction

from cases import services
from custody.checkpoints import checkpoint_make
from custody.models import AppendOnlyError, Checkpoint, CustodyEvent, ReviewSignOff
from custody.notes import ED25519_COSIGNATURE, NoteKey, cosignature_make, note_split
from custody.reviews import review_sign_off
from custody.triggers import TABLES
from custody.witnesses import checkpoint_cosignatures_add, witness_add

STATEMENTS = {
    "custody_custodyevent": [
        "UPDATE custody_custodyevent SET actor_label = 'someone else'",
        "UPDATE custody_custodyevent SET details = '{}'",
        "DELETE FROM custody_custodyevent",
    ],
    "custody_checkpoint": [
        "UPDATE custody_checkpoint SET root_hash = 'ab'",
        "DELETE FROM custody_checkpoint",
    ],
    "custody_reviewsignoff": [
        "UPDATE custody_reviewsignoff SET comment = 'rubber stamp'",
        "DELETE FROM custody_reviewsignoff",
    ],
}


@pytest.fixture
def stored_rows(alpha):
    services.case_status_change(case=alpha.case, status="under_review", actor=alpha.supervisor)
    review_sign_off(case=alpha.case, comment="checked every item", actor=alpha.supervisor)
    checkpoint_make(organisation=alpha.organisation, reason="test")
    return alpha


def _table_state():
    return (
        list(CustodyEvent.objects.order_by("pk").values_list("pk", "actor_label", "entry_hash")),
        list(Checkpoint.objects.order_by("pk").values_list("pk", "root_hash")),
        list(ReviewSignOff.objects.order_by("pk").values_list("pk", "comment")),
    )


@pytest.mark.parametrize("statement", [s for statements in STATEMENTS.values() for s in statements])
def test_raw_sql_update_and_delete_are_rejected_by_the_database(stored_rows, statement):
    # Given stored events, a checkpoint and a sign-off
    before = _table_state()

    # When a client bypasses Django and writes raw SQL
    with pytest.raises(DatabaseError) as rejected, transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(statement)

    # Then the database itself refuses, and nothing changed
    assert "append-only" in str(rejected.value)
    assert _table_state() == before


def test_orm_refuses_to_update_or_delete_ledger_rows(stored_rows):
    event = CustodyEvent.objects.first()
    event.actor_label = "someone else"
    with pytest.raises(AppendOnlyError):
        event.save()
    with pytest.raises(AppendOnlyError):
        event.delete()
    with pytest.raises(AppendOnlyError):
        CustodyEvent.objects.filter(pk=event.pk).update(actor_label="x")
    with pytest.raises(AppendOnlyError):
        ReviewSignOff.objects.all().delete()
    assert CustodyEvent.objects.get(pk=event.pk).actor_label != "someone else"


postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="TRUNCATE is PostgreSQL's (SQLite has none; its DELETE without WHERE is refused above); run with "
    "DATABASE_URL=postgres://… to check the TRUNCATE triggers",
)


@postgresql_only
@pytest.mark.parametrize(
    "statement",
    # Without CASCADE the foreign keys between these tables already refuse it.
    [f"TRUNCATE {table} CASCADE" for table in STATEMENTS] + ["TRUNCATE cases_organisation CASCADE"],
)
def test_truncate_of_the_ledger_tables_is_rejected_by_the_database(stored_rows, statement):
    before = _table_state()
    with connection.cursor() as cursor:
        # The rows were inserted in this test's transaction: their deferred foreign-key checks run now, as at a
        # commit, or PostgreSQL refuses the TRUNCATE for its pending trigger events instead of our trigger.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")

    with pytest.raises(DatabaseError) as rejected, transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(statement)

    assert "append-only: TRUNCATE rejected" in str(rejected.value)
    assert _table_state() == before


@postgresql_only
def test_an_empty_ledger_table_may_be_truncated_as_the_test_runner_flush_does(db):
    # An empty table loses nothing; Django's flush after a transactional test truncates every table.
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE custody_reviewsignoff, custody_checkpoint, custody_custodyevent CASCADE")
    assert _table_state() == ([], [], [])


# The append-only tables added with the external trust anchors, each with the rows a test can make of it.
NEWER_TABLES = ("custody_checkpointtimestamp", "custody_merklenode", "custody_checkpointcosignature")


@pytest.fixture
def anchored_rows(alpha, local_tsa, django_capture_on_commit_callbacks):
    """alpha's ledger with its Merkle nodes, a checkpoint time-stamped by the local TSA, and a witness's
    cosignature of it."""
    witness_key = Ed25519PrivateKey.generate()
    public = witness_key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    witness_add(
        organisation=alpha.organisation,
        vkey=NoteKey("witness.test/w1", ED25519_COSIGNATURE, public).vkey(),
        actor=alpha.admin,
    )
    with django_capture_on_commit_callbacks(execute=True):
        checkpoint = checkpoint_make(organisation=alpha.organisation, reason="test")
    text, _ = note_split(checkpoint.note)
    line = cosignature_make(text, "witness.test/w1", witness_key, int(time.time())).line()
    checkpoint_cosignatures_add(organisation=alpha.organisation, note=checkpoint.note + line, actor=alpha.supervisor)
    return alpha


def _newer_table_counts() -> dict[str, int]:
    with connection.cursor() as cursor:
        counts = {}
        for table in NEWER_TABLES:
            cursor.execute(f"SELECT COUNT(*) FROM {table}")  # noqa: S608 (a constant table name)
            counts[table] = cursor.fetchone()[0]
    return counts


@postgresql_only
@pytest.mark.parametrize("table", NEWER_TABLES)
def test_truncate_of_the_newer_append_only_tables_is_rejected_by_the_database(anchored_rows, table):
    # Given a time-stamp, Merkle nodes and a cosignature, each table holding rows
    before = _newer_table_counts()
    assert all(before.values()), before
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # as above: the deferred checks run now, not at TRUNCATE

    # When a client truncates the table, with or without what points at it
    for statement in (f"TRUNCATE {table}", f"TRUNCATE {table} CASCADE"):
        with pytest.raises(DatabaseError) as rejected, transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(statement)

        # Then its own trigger refuses, and nothing is gone
        assert f"append-only: TRUNCATE rejected on {table}" in str(rejected.value)
        assert _newer_table_counts() == before


def test_every_append_only_table_has_its_truncate_test():
    # A table added to custody.triggers.TABLES without a TRUNCATE test above fails here.
    assert {*STATEMENTS, *NEWER_TABLES} == set(TABLES)


@postgresql_only
def test_every_append_only_table_carries_its_truncate_trigger_after_the_migrations(db):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tgrelid::regclass::text FROM pg_trigger WHERE tgname LIKE '%%_no_truncate' AND NOT tgisinternal"
        )
        installed = {row[0] for row in cursor.fetchall()}
    assert installed >= set(TABLES)
