"""RFC 6962 / RFC 9162 Merkle tree over custody entry hashes: roots, inclusion and consistency proofs.

Hashes are raw 32-byte ``bytes``. A leaf hash is SHA-256(0x00 || leaf data), an interior node is
SHA-256(0x01 || left || right), and the root of the empty tree is SHA-256(""). Proof generation takes the
sequence of leaf hashes and raises ``ValueError`` on arguments out of range (a caller bug). The two
``verify_*`` functions take untrusted input and never raise: any malformed argument (wrong type, negative or
out-of-range size or index, a proof element that is not 32 bytes, missing or extra elements) gives False.
As in RFC 6962, a root does not commit to its tree size (a proof can verify for several sizes whose trees have
the same shape along its path), so whatever records a root must record and sign its size with it.
"""

import hashlib
from collections.abc import Iterable, Iterator, Sequence
from typing import NamedTuple

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()


def leaf_hash(data: bytes) -> bytes:
    """Return the RFC 6962 hash of one leaf's data."""
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """Return the RFC 6962 hash of an interior node."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def root(leaf_hashes: Sequence[bytes]) -> bytes:
    """Return the Merkle tree hash of a sequence of leaf hashes (EMPTY_ROOT for none)."""
    if not leaf_hashes:
        return EMPTY_ROOT
    return fold([_perfect_root(leaf_hashes, node) for node in range_nodes(0, len(leaf_hashes))])


class Node(NamedTuple):
    """A perfect subtree: the 2**level leaves from index * 2**level on. Level 0 is a leaf hash itself."""

    level: int
    index: int


def range_nodes(start: int, end: int) -> list[Node]:
    """Return the perfect subtrees that make up leaves [start, end), largest (leftmost) first.

    ``start`` must be a multiple of a power of two at least ``end - start``, as every subtree of an RFC 6962
    tree is; the subtree's hash is then ``fold`` of these nodes' hashes (the binary digits of its size).
    """
    nodes = []
    while start < end:
        level = (end - start).bit_length() - 1
        nodes.append(Node(level, start >> level))
        start += 1 << level
    return nodes


def fold(hashes: Sequence[bytes]) -> bytes:
    """Return the RFC 6962 hash of adjacent perfect subtrees given largest first: folded from the right."""
    result = hashes[-1]
    for left in reversed(hashes[:-1]):
        result = node_hash(left, result)
    return result


def root_nodes(size: int) -> list[Node]:
    """Return the perfect subtrees whose fold is the root of the tree of ``size`` leaves (at most log2 n + 1)."""
    if size < 1:
        raise ValueError(f"tree size {size} is not at least 1")
    return range_nodes(0, size)


def inclusion_proof_nodes(index: int, size: int) -> list[list[Node]]:
    """Return the audit path (RFC 6962 §2.1.1) of leaf ``index`` in a tree of ``size`` leaves, as subtrees:
    each proof element is the fold of one list of perfect subtrees. Ordered from the leaf's sibling upward.

    Only the one sibling that lies on the tree's ragged right edge is not itself perfect, so the whole proof
    names at most 2 log2 n perfect subtrees: what a store of perfect subtree hashes reads to answer it.
    """
    if size < 1:
        raise ValueError(f"tree size {size} is not at least 1")
    if not 0 <= index < size:
        raise ValueError(f"leaf index {index} is not within 0..{size - 1}")
    path: list[list[Node]] = []
    start, end = 0, size
    while end - start > 1:
        split = start + _largest_power_of_two_below(end - start)
        if index < split:
            path.append(range_nodes(split, end))
            end = split
        else:
            path.append(range_nodes(start, split))
            start = split
    path.reverse()
    return path


def consistency_proof_nodes(old_size: int, new_size: int) -> list[list[Node]]:
    """Return the consistency proof (RFC 6962 §2.1.2) from ``old_size`` to ``new_size`` leaves, as subtrees
    (see ``inclusion_proof_nodes``). Requires 0 < old_size <= new_size; equal sizes give an empty proof."""
    if not 0 < old_size <= new_size:
        raise ValueError(f"old tree size {old_size} is not within 1..{new_size}")
    proof: list[list[Node]] = []
    start, end = 0, new_size
    # SUBPROOF(m, D[start:end], complete) unrolled; "complete" stays true while the old tree is exactly the
    # left part, in which case its root is already known to the verifier and is not sent.
    complete = True
    while old_size != end:
        split = start + _largest_power_of_two_below(end - start)
        if old_size <= split:
            proof.append(range_nodes(split, end))
            end = split
        else:
            proof.append(range_nodes(start, split))
            start = split
            complete = False
    if not complete:
        proof.append(range_nodes(start, end))
    proof.reverse()
    return proof


def tree_nodes(leaf_hashes: Iterable[bytes]) -> Iterator[tuple[Node, bytes]]:
    """Yield every perfect subtree of the tree over ``leaf_hashes`` with its hash, in the order an append-only
    store writes them (a leaf, then each subtree it completes). Keeps only the O(log n) open subtrees in memory."""
    stack: list[bytes] = []
    for position, leaf in enumerate(leaf_hashes):
        yield Node(0, position), leaf
        subtree = leaf
        for level in range(trailing_ones(position)):
            subtree = node_hash(stack.pop(), subtree)
            yield Node(level + 1, position >> (level + 1)), subtree
        stack.append(subtree)


def trailing_ones(number: int) -> int:
    """The number of subtrees that leaf ``number`` (0-based) completes: its trailing 1 bits."""
    return (~number & (number + 1)).bit_length() - 1


def prefix_roots(leaf_hashes: Sequence[bytes], sizes: Sequence[int]) -> dict[int, bytes]:
    """Return the root of every requested prefix size in one pass, O(n + k log n) instead of O(n) per size.

    Keeps the perfect subtrees of the prefix read so far (a compact range); the root of a prefix is those
    subtrees folded from the right, which is RFC 6962's split at the largest power of two, applied repeatedly.
    """
    wanted = set(sizes)
    if any(size < 0 or size > len(leaf_hashes) for size in wanted):
        raise ValueError("prefix size out of range")
    roots = {0: EMPTY_ROOT} if 0 in wanted else {}
    stack: list[tuple[int, bytes]] = []  # (number of leaves, subtree root), largest first
    for count, leaf in enumerate(leaf_hashes, start=1):
        width, node = 1, leaf
        while stack and stack[-1][0] == width:
            node = node_hash(stack.pop()[1], node)
            width *= 2
        stack.append((width, node))
        if count in wanted:
            roots[count] = fold([subtree for _, subtree in stack])
    return roots


def inclusion_proof(leaf_hashes: Sequence[bytes], index: int, size: int | None = None) -> list[bytes]:
    """Return the audit path (RFC 6962 §2.1.1) for leaf ``index`` in the tree of the first ``size`` leaves.

    ``size`` defaults to all leaves; a smaller size proves inclusion against an older tree (a checkpoint).
    The path is ordered from the leaf's sibling up to the child of the root. Hashes every leaf it needs
    (O(size)); the stored ledger answers from its subtree store instead (custody.merkle_store).
    """
    size = len(leaf_hashes) if size is None else size
    if not 0 < size <= len(leaf_hashes):
        raise ValueError(f"tree size {size} is not within 1..{len(leaf_hashes)}")
    return [fold([_perfect_root(leaf_hashes, n) for n in element]) for element in inclusion_proof_nodes(index, size)]


def consistency_proof(leaf_hashes: Sequence[bytes], old_size: int, new_size: int | None = None) -> list[bytes]:
    """Return the proof (RFC 6962 §2.1.2) that the tree of ``old_size`` leaves is a prefix of ``new_size``.

    ``new_size`` defaults to all leaves. Requires 0 < old_size <= new_size; equal sizes give an empty proof.
    """
    new_size = len(leaf_hashes) if new_size is None else new_size
    if not 0 < new_size <= len(leaf_hashes):
        raise ValueError(f"new tree size {new_size} is not within 1..{len(leaf_hashes)}")
    return [
        fold([_perfect_root(leaf_hashes, n) for n in element])
        for element in consistency_proof_nodes(old_size, new_size)
    ]


def verify_inclusion(leaf: bytes, index: int, size: int, proof: Sequence[bytes], expected_root: bytes) -> bool:
    """Return True if ``proof`` shows leaf hash ``leaf`` at ``index`` in the tree of ``size`` with that root.

    RFC 9162 §2.1.3.2. Never raises; malformed input of any kind returns False.
    """
    if not (_is_hash(leaf) and _is_count(index) and _is_count(size) and _is_proof(proof)):
        return False
    if not isinstance(expected_root, bytes) or index >= size:
        return False
    fn, sn = index, size - 1
    result = leaf
    for sibling in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            result = node_hash(sibling, result)
            # Skip the levels where this node is the rightmost one and has no sibling.
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            result = node_hash(result, sibling)
        fn >>= 1
        sn >>= 1
    return sn == 0 and result == expected_root


def verify_consistency(old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]) -> bool:
    """Return True if ``proof`` shows that the tree (old_size, old_root) is a prefix of (new_size, new_root).

    RFC 9162 §2.1.4.2. Requires 0 < old_size <= new_size: a consistency check from the empty tree proves
    nothing and is rejected, as in the reference vectors. Equal sizes need an empty proof and equal roots.
    Never raises; malformed input of any kind returns False.
    """
    if not (_is_count(old_size) and _is_count(new_size) and _is_proof(proof)):
        return False
    if not (isinstance(old_root, bytes) and isinstance(new_root, bytes)):
        return False
    if old_size == 0 or old_size > new_size:
        return False
    if old_size == new_size:
        return len(proof) == 0 and old_root == new_root
    if not proof:
        return False
    path = list(proof)
    if old_size & (old_size - 1) == 0:
        # The old tree is a complete left subtree: its root is the starting point and is not in the proof.
        path.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    old_result = new_result = path[0]
    for node in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            old_result = node_hash(node, old_result)
            new_result = node_hash(node, new_result)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            new_result = node_hash(new_result, node)
        fn >>= 1
        sn >>= 1
    return sn == 0 and old_result == old_root and new_result == new_root


def _perfect_root(leaf_hashes: Sequence[bytes], node: Node) -> bytes:
    level = list(leaf_hashes[node.index << node.level : (node.index + 1) << node.level])
    while len(level) > 1:
        level = [node_hash(level[i], level[i + 1]) for i in range(0, len(level), 2)]
    return level[0]


def _largest_power_of_two_below(n: int) -> int:
    return 1 << ((n - 1).bit_length() - 1)


def _is_count(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _is_hash(value: object) -> bool:
    return isinstance(value, bytes) and len(value) == HASH_SIZE


def _is_proof(value: object) -> bool:
    return isinstance(value, (list, tuple)) and all(_is_hash(element) for element in value)
