"""Fixtures for the stored ledger: an organisation with a chain of real events, and an attacker's view of the
database (append-only triggers dropped, raw SQL writes)."""

import pytest
from django.db import connection

from cases import services
from custody import merkle
from custody.ledger import custody_event_record
from custody.models import Action, CustodyEvent, MerkleNode
from custody.triggers import triggers_install, triggers_remove
from tests.conftest import jpeg_bytes, received


@pytest.fixture
def triggers_dropped(db):
    """An attacker with database access: the append-only triggers are gone for this test.

    The drop runs inside the test's transaction, whose rollback would restore them anyway on both databases;
    they are reinstalled explicitly so that nothing depends on that."""
    triggers_remove(connection)
    try:
        yield
    finally:
        triggers_install(connection)


@pytest.fixture
def chain(alpha):
    """alpha's ledger grown to about 30 entries: member and case events, two evidence items, notes, a status."""
    items = [
        services.evidence_receive(
            case=alpha.case, received=received(jpeg_bytes(colour=(i, 40, 90))), actor=alpha.investigator
        ).item
        for i in range(2)
    ]
    for number in range(16):
        custody_event_record(
            organisation=alpha.organisation,
            action=Action.NOTE_ADDED,
            actor=alpha.investigator,
            case=alpha.case,
            evidence=items[number % 2] if number % 3 == 0 else None,
            details={"number": number, "text": f"note {number}", "nested": {"flag": number % 2 == 0, "n": None}},
        )
    services.case_status_change(case=alpha.case, status="under_review", actor=alpha.supervisor)
    return alpha


def raw_update(event: CustodyEvent, column: str, value) -> None:
    """UPDATE one column of one stored row with raw SQL, the value prepared as the ORM would store it."""
    field = next(f for f in CustodyEvent._meta.concrete_fields if f.column == column)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE custody_custodyevent SET {column} = %s WHERE id = %s",
            [field.get_db_prep_value(value, connection), event.pk],
        )


def raw_delete(*events: CustodyEvent) -> None:
    """DELETE rows with raw SQL, and rebuild the stored tree over what is left, as a thorough attacker would."""
    with connection.cursor() as cursor:
        cursor.executemany("DELETE FROM custody_custodyevent WHERE id = %s", [[event.pk] for event in events])
    for organisation_id in {event.organisation_id for event in events}:
        raw_tree_rebuild(organisation_id)


def raw_tree_rebuild(organisation_id: int) -> None:
    """Replace the organisation's stored Merkle subtrees by those of its entries as they now are (raw SQL), so
    that a test sees what the other checks find when the attacker also rewrote the derived tree store."""
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM custody_merklenode WHERE organisation_id = %s", [organisation_id])
    hashes = CustodyEvent.objects.filter(organisation_id=organisation_id).order_by("sequence")
    leaves = [merkle.leaf_hash(bytes.fromhex(value)) for value in hashes.values_list("entry_hash", flat=True)]
    MerkleNode.objects.bulk_create(
        MerkleNode(organisation_id=organisation_id, level=node.level, position=node.index, hash=value)
        for node, value in merkle.tree_nodes(leaves)
    )


def raw_renumber(changes: dict[int, int]) -> None:
    """Give rows new sequence numbers ({event pk: new sequence}) without tripping the unique constraint midway."""
    with connection.cursor() as cursor:
        for pk in changes:
            cursor.execute("UPDATE custody_custodyevent SET sequence = sequence + 1000000 WHERE id = %s", [pk])
        for pk, sequence in changes.items():
            cursor.execute("UPDATE custody_custodyevent SET sequence = %s WHERE id = %s", [sequence, pk])
