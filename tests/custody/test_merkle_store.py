"""The stored ledger tree: subtree hashes written as entries are appended give the same roots and proofs as the
whole ledger's hashes, in O(log n) rows and one query, stay append-only, and are checked by verification."""

import pytest
from django.db import DatabaseError, connection, transaction

from custody import merkle
from custody.chain import ProblemKind, entry_leaf_hashes
from custody.checkpoints import checkpoint_make
from custody.ledger import custody_event_record, ledger_entries
from custody.merkle_store import (
    stored_consistency_proof,
    stored_inclusion_proof,
    stored_inclusion_proofs,
    stored_root,
    tree_size,
)
from custody.models import Action, CustodyEvent, MerkleNode
from custody.verification import custody_verify


@pytest.fixture
def grown(alpha):
    """alpha's ledger grown to 45 entries (an odd size, so the tree has a ragged right edge)."""
    for number in range(45 - CustodyEvent.objects.filter(organisation=alpha.organisation).count()):
        custody_event_record(
            organisation=alpha.organisation, action=Action.NOTE_ADDED, system="test", details={"n": number}
        )
    return alpha


def _leaves(organisation):
    return entry_leaf_hashes(ledger_entries(CustodyEvent.objects.filter(organisation=organisation)))


def test_appends_store_exactly_the_perfect_subtrees_of_the_ledger(grown):
    # Given a ledger grown one append at a time
    leaves = _leaves(grown.organisation)

    # When its stored nodes are read
    stored = {
        (level, position): bytes(value)
        for level, position, value in MerkleNode.objects.filter(organisation=grown.organisation).values_list(
            "level", "position", "hash"
        )
    }

    # Then they are every perfect subtree of the tree over its entry hashes, and nothing else
    assert stored == {(node.level, node.index): value for node, value in merkle.tree_nodes(leaves)}
    assert tree_size(grown.organisation.pk) == len(leaves) == 45


def test_stored_roots_and_proofs_equal_those_computed_from_every_entry_hash(grown):
    leaves = _leaves(grown.organisation)
    organisation_id = grown.organisation.pk
    for size in range(1, len(leaves) + 1):
        assert stored_root(organisation_id, size) == merkle.root(leaves[:size]), size
        for index in range(size):
            assert stored_inclusion_proof(organisation_id, index, size) == merkle.inclusion_proof(leaves, index, size)
        for old_size in range(1, size + 1):
            expected = merkle.consistency_proof(leaves, old_size, size)
            assert stored_consistency_proof(organisation_id, old_size, size) == expected, (old_size, size)


def test_a_proof_reads_one_query_of_at_most_two_log_n_rows(grown, django_assert_num_queries):
    organisation_id = grown.organisation.pk
    # 45 leaves: log2 is under 6, so no proof may name more than 12 stored subtrees
    assert max(len([n for e in merkle.inclusion_proof_nodes(i, 45) for n in e]) for i in range(45)) <= 12
    with django_assert_num_queries(1):
        stored_inclusion_proof(organisation_id, 17, 45)
    with django_assert_num_queries(1):
        stored_consistency_proof(organisation_id, 13, 45)
    with django_assert_num_queries(1):
        stored_root(organisation_id, 45)


def test_many_proofs_read_one_query_and_equal_the_single_proofs(grown, django_assert_num_queries):
    organisation_id = grown.organisation.pk
    leaves = _leaves(grown.organisation)
    assert stored_inclusion_proofs(organisation_id, [0], 1) == {0: []}  # a tree of one leaf: nothing to read
    for size in (2, 17, 45):
        with django_assert_num_queries(1):
            proofs = stored_inclusion_proofs(organisation_id, range(size), size)
        assert proofs == {index: merkle.inclusion_proof(leaves, index, size) for index in range(size)}, size
    assert stored_inclusion_proofs(organisation_id, [], 45) == {}


def test_checkpoint_signs_the_stored_root(grown):
    checkpoint = checkpoint_make(organisation=grown.organisation, reason="test")

    assert checkpoint.tree_size == 45
    assert checkpoint.root_hash == merkle.root(_leaves(grown.organisation)[:45]).hex()


@pytest.mark.parametrize(
    "statement",
    ["UPDATE custody_merklenode SET position = position", "DELETE FROM custody_merklenode WHERE level = 0"],
)
def test_stored_nodes_cannot_be_changed_or_removed(grown, statement):
    before = list(MerkleNode.objects.order_by("level", "position").values_list("level", "position", "hash"))

    with pytest.raises(DatabaseError) as rejected, transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(statement)

    assert "append-only" in str(rejected.value)
    assert list(MerkleNode.objects.order_by("level", "position").values_list("level", "position", "hash")) == before


def test_a_changed_stored_node_fails_verification_though_every_entry_is_intact(grown, triggers_dropped):
    # Given an attacker who changes one inner node of the stored tree (so that proofs would lie)
    assert custody_verify(grown.organisation).ok
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE custody_merklenode SET hash = %s WHERE organisation_id = %s AND level = 2 AND position = 3",
            [b"\x01" * 32, grown.organisation.pk],
        )

    # When verified
    problems = custody_verify(grown.organisation).report.problems

    # Then the tree store is reported, and nothing about the entries
    assert [(p.kind, p.detail) for p in problems] == [
        (ProblemKind.TREE_MISMATCH, "the stored node at level 2, position 3 differs from the entries'")
    ]


def test_a_missing_leaf_of_the_store_fails_verification(grown, triggers_dropped):
    with connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM custody_merklenode WHERE organisation_id = %s AND level = 0 AND position = 44",
            [grown.organisation.pk],
        )

    problems = custody_verify(grown.organisation).report.problems

    assert {(p.kind, p.sequence) for p in problems} == {(ProblemKind.TREE_MISMATCH, 45)}
    assert "holds 44 leaves but the ledger 45 entries" in problems[0].detail
