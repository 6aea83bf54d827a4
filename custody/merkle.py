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
from collections.abc import Sequence

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
    return _subtree_root(leaf_hashes, 0, len(leaf_hashes))


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
            folded = stack[-1][1]
            for _, left in reversed(stack[:-1]):
                folded = node_hash(left, folded)
            roots[count] = folded
    return roots


def inclusion_proof(leaf_hashes: Sequence[bytes], index: int, size: int | None = None) -> list[bytes]:
    """Return the audit path (RFC 6962 §2.1.1) for leaf ``index`` in the tree of the first ``size`` leaves.

    ``size`` defaults to all leaves; a smaller size proves inclusion against an older tree (a checkpoint).
    The path is ordered from the leaf's sibling up to the child of the root.
    """
    size = len(leaf_hashes) if size is None else size
    if not 0 < size <= len(leaf_hashes):
        raise ValueError(f"tree size {size} is not within 1..{len(leaf_hashes)}")
    if not 0 <= index < size:
        raise ValueError(f"leaf index {index} is not within 0..{size - 1}")
    path: list[bytes] = []
    start, end = 0, size
    # Walk from the root down to the leaf, collecting the sibling subtree at each split; each leaf lies in
    # at most one sibling subtree, so the whole proof costs O(size) hashing.
    while end - start > 1:
        split = start + _largest_power_of_two_below(end - start)
        if index < split:
            path.append(_subtree_root(leaf_hashes, split, end))
            end = split
        else:
            path.append(_subtree_root(leaf_hashes, start, split))
            start = split
    path.reverse()
    return path


def consistency_proof(leaf_hashes: Sequence[bytes], old_size: int, new_size: int | None = None) -> list[bytes]:
    """Return the proof (RFC 6962 §2.1.2) that the tree of ``old_size`` leaves is a prefix of ``new_size``.

    ``new_size`` defaults to all leaves. Requires 0 < old_size <= new_size; equal sizes give an empty proof.
    """
    new_size = len(leaf_hashes) if new_size is None else new_size
    if not 0 < new_size <= len(leaf_hashes):
        raise ValueError(f"new tree size {new_size} is not within 1..{len(leaf_hashes)}")
    if not 0 < old_size <= new_size:
        raise ValueError(f"old tree size {old_size} is not within 1..{new_size}")
    proof: list[bytes] = []
    start, end, old_end = 0, new_size, old_size
    # SUBPROOF(m, D[start:end], complete) unrolled; "complete" stays true while the old tree is exactly the
    # left part, in which case its root is already known to the verifier and is not sent.
    complete = True
    while old_end != end:
        split = start + _largest_power_of_two_below(end - start)
        if old_end <= split:
            proof.append(_subtree_root(leaf_hashes, split, end))
            end = split
        else:
            proof.append(_subtree_root(leaf_hashes, start, split))
            start = split
            complete = False
    if not complete:
        proof.append(_subtree_root(leaf_hashes, start, end))
    proof.reverse()
    return proof


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


def _subtree_root(leaf_hashes: Sequence[bytes], start: int, end: int) -> bytes:
    # Pairing level by level and promoting an odd last node unchanged builds exactly RFC 6962's
    # left-balanced tree, without recursion.
    level = list(leaf_hashes[start:end])
    while len(level) > 1:
        paired = [node_hash(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            paired.append(level[-1])
        level = paired
    return level[0]


def _largest_power_of_two_below(n: int) -> int:
    return 1 << ((n - 1).bit_length() - 1)


def _is_count(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _is_hash(value: object) -> bool:
    return isinstance(value, bytes) and len(value) == HASH_SIZE


def _is_proof(value: object) -> bool:
    return isinstance(value, (list, tuple)) and all(_is_hash(element) for element in value)
