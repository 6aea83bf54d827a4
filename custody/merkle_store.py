"""The organisation's ledger tree as stored: perfect subtree hashes written as entries are appended, so that a
checkpoint's root and any inclusion or consistency proof read O(log n) rows, never the whole ledger.

Leaf ``p`` (level 0, position ``p``) is the leaf hash of the ``p + 1``-th entry appended; node (level ``l``,
position ``p``) covers leaves ``p * 2**l`` .. ``(p + 1) * 2**l - 1`` and is written by the append that
completes it. Rows are append-only like the ledger itself (database triggers); they are also derived data,
which `custody_verify` recomputes from the entries and compares.
"""

from collections import defaultdict
from collections.abc import Iterable

from django.db import connection

from . import merkle
from .merkle import Node
from .models import MerkleNode


class TreeIncomplete(Exception):
    """A node the tree of this size must hold is not stored: the store was tampered with or never filled."""


def tree_size(organisation_id: int) -> int:
    """The number of leaves stored for the organisation (one per entry appended)."""
    last = (
        MerkleNode.objects.filter(organisation_id=organisation_id, level=0)
        .order_by("-position")
        .values_list("position", flat=True)
        .first()
    )
    return 0 if last is None else last + 1


def tree_append(*, organisation_id: int, entry_hash: str) -> int:
    """Store the leaf of a newly appended entry and every subtree it completes; return the leaf's position.

    Call it in the append's transaction, under the organisation lock that serialises appends: it reads the
    current size and the left siblings it pairs with (one query each), and inserts the new rows in one.
    """
    position = tree_size(organisation_id)
    node_hash = merkle.leaf_hash(bytes.fromhex(entry_hash))
    new = [MerkleNode(organisation_id=organisation_id, level=0, position=position, hash=node_hash)]
    completed = merkle.trailing_ones(position)  # each trailing 1 bit of the position completes one more level
    if completed:
        lefts = node_hashes(organisation_id, [Node(level, (position >> level) - 1) for level in range(completed)])
        for level in range(completed):
            node_hash = merkle.node_hash(lefts[Node(level, (position >> level) - 1)], node_hash)
            new.append(
                MerkleNode(
                    organisation_id=organisation_id, level=level + 1, position=position >> (level + 1), hash=node_hash
                )
            )
    MerkleNode.objects.bulk_create(new)
    return position


def node_hashes(organisation_id: int, nodes: Iterable[Node]) -> dict[Node, bytes]:
    """The stored hashes of ``nodes``, in one query; TreeIncomplete if any is absent."""
    by_level: dict[int, set[int]] = defaultdict(set)
    for node in nodes:
        by_level[node.level].add(node.index)
    if not by_level:
        return {}
    with connection.cursor() as cursor:
        cursor.execute(*node_query(organisation_id, by_level))
        rows = cursor.fetchall()
    found = {Node(level, position): bytes(value) for level, position, value in rows}
    missing = [
        Node(level, p) for level, positions in by_level.items() for p in positions if Node(level, p) not in found
    ]
    if missing:
        raise TreeIncomplete(
            f"the tree store lacks {len(missing)} node(s), e.g. level {missing[0].level} position {missing[0].index}"
        )
    return found


def node_query(organisation_id: int, by_level: dict[int, set[int]]) -> tuple[str, list[int]]:
    """The one query (SQL and parameters) of the stored (level, position, hash) rows of the given positions of
    each level: one primary-key probe per level. Written here rather than through the ORM, whose Q per level
    took several times as long to build as the database took to answer the query."""
    quote = connection.ops.quote_name
    table, level, position = quote(MerkleNode._meta.db_table), quote("level"), quote("position")
    conditions, params = [], [organisation_id]
    for wanted_level, positions in sorted(by_level.items()):
        ordered = sorted(positions)
        conditions.append(f"({level} = %s AND {position} IN ({', '.join(['%s'] * len(ordered))}))")
        params += [wanted_level, *ordered]
    sql = (
        f"SELECT {level}, {position}, {quote('hash')} FROM {table} "
        f"WHERE {quote('organisation_id')} = %s AND ({' OR '.join(conditions)})"
    )
    return sql, params


def stored_root(organisation_id: int, size: int) -> bytes:
    """The root of the organisation's tree of its first ``size`` leaves (EMPTY_ROOT for 0)."""
    if size == 0:
        return merkle.EMPTY_ROOT
    return _fold_all(organisation_id, [merkle.root_nodes(size)])[0]


def stored_inclusion_proof(organisation_id: int, index: int, size: int) -> list[bytes]:
    """The RFC 6962 audit path of leaf ``index`` in the tree of ``size`` leaves, from at most 2 log2 n rows."""
    return _fold_all(organisation_id, merkle.inclusion_proof_nodes(index, size))


def stored_inclusion_proofs(organisation_id: int, indices: Iterable[int], size: int) -> dict[int, list[bytes]]:
    """The audit paths of many leaves of the tree of ``size`` leaves, from one query (a report proves every event
    of an item: paths of neighbouring leaves share most of their nodes)."""
    paths = {index: merkle.inclusion_proof_nodes(index, size) for index in indices}
    hashes = node_hashes(organisation_id, [node for path in paths.values() for element in path for node in element])
    return {
        index: [merkle.fold([hashes[node] for node in element]) for element in path] for index, path in paths.items()
    }


def stored_consistency_proof(organisation_id: int, old_size: int, new_size: int) -> list[bytes]:
    """The RFC 6962 consistency proof from ``old_size`` to ``new_size`` leaves, from O(log n) rows."""
    return _fold_all(organisation_id, merkle.consistency_proof_nodes(old_size, new_size))


def stored_leaf_hashes(organisation_id: int, positions: Iterable[int]) -> dict[int, bytes]:
    """The stored leaf hashes at ``positions`` (absent ones are left out), in one query."""
    rows = MerkleNode.objects.filter(
        organisation_id=organisation_id, level=0, position__in=sorted(set(positions))
    ).values_list("position", "hash")
    return {position: bytes(value) for position, value in rows}


def _fold_all(organisation_id: int, elements: list[list[Node]]) -> list[bytes]:
    hashes = node_hashes(organisation_id, [node for element in elements for node in element])
    return [merkle.fold([hashes[node] for node in element]) for element in elements]
