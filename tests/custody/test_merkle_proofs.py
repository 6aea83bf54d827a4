"""Merkle tree tests: published RFC 6962 vectors, and proofs generated here for every small tree.

The vectors are read from ``../shared/vectors/merkle`` beside the project (never copied into the repository):

- ``inclusion/`` and ``consistency/`` are RFC 6962 proofs and all run.
- ``subtreeinclusion/`` and ``subtreeconsistency/`` hold proofs for an arbitrary subtree [start, end) of a
  tree, an extension from the Merkle Tree Certificates draft. A subtree that starts at leaf 0 is the tree of
  its first ``end`` leaves, so those cases are plain RFC 6962 proofs and run, with end as the (old) tree size.
  Cases with start > 0 are skipped: this ledger never proves anything about a subtree that does not start at
  the first entry. Subtree consistency cases with an empty subtree (start == end == 0) are skipped too: the
  draft calls an empty subtree consistent with any tree, whereas RFC 6962 defines no proof from the empty
  tree and this verifier (like ``consistency/additional``) rejects one.
"""

import base64
import hashlib
import json
from collections.abc import Callable
from pathlib import Path

import pytest

from custody import merkle

VECTORS = Path(__file__).resolve().parents[2].parent / "shared" / "vectors" / "merkle"


def _vector_cases(folder: str, in_scope: Callable[[dict], bool] = lambda case: True) -> list:
    paths = sorted((VECTORS / folder).rglob("*.json")) if VECTORS.is_dir() else []
    cases = [(path, json.loads(path.read_text())) for path in paths]
    params = [pytest.param(case, id=str(path.relative_to(VECTORS))) for path, case in cases if in_scope(case)]
    if not params:
        reason = f"Merkle vectors absent: ../shared/vectors/merkle/{folder} is not beside this checkout"
        return [pytest.param(None, id=folder, marks=pytest.mark.skip(reason=reason))]
    return params


def _starts_at_first_leaf(case: dict) -> bool:
    return case["start"] == 0


def _non_empty_prefix(case: dict) -> bool:
    return case["start"] == 0 and case["end"] > 0


def _hash(text: str) -> bytes:
    return base64.b64decode(text)


def _proof(case: dict) -> list[bytes]:
    return [_hash(element) for element in case["proof"] or []]


@pytest.mark.parametrize("case", _vector_cases("inclusion"))
def test_inclusion_vector_verifies_exactly_when_it_should(case):
    # given a published inclusion case, happy or corrupted
    # when it is verified
    verified = merkle.verify_inclusion(
        _hash(case["leafHash"]), case["leafIdx"], case["treeSize"], _proof(case), _hash(case["root"])
    )

    # then only the happy cases verify
    assert verified is not case["wantErr"], case["desc"]


@pytest.mark.parametrize("case", _vector_cases("subtreeinclusion", _starts_at_first_leaf))
def test_prefix_subtree_inclusion_vector_verifies_exactly_when_it_should(case):
    # given a published subtree inclusion case whose subtree is the tree of its first `end` leaves
    # when it is verified as an RFC 6962 inclusion proof in a tree of that size
    verified = merkle.verify_inclusion(
        _hash(case["leafHash"]), case["leafIdx"], case["end"], _proof(case), _hash(case["root"])
    )

    # then only the happy cases verify
    assert verified is not case["wantErr"], case["desc"]


@pytest.mark.parametrize("case", _vector_cases("consistency"))
def test_consistency_vector_verifies_exactly_when_it_should(case):
    # given a published consistency case, happy or corrupted
    # when it is verified
    verified = merkle.verify_consistency(
        case["size1"], case["size2"], _hash(case["root1"]), _hash(case["root2"]), _proof(case)
    )

    # then only the happy cases verify
    assert verified is not case["wantErr"], case["desc"]


@pytest.mark.parametrize("case", _vector_cases("subtreeconsistency", _non_empty_prefix))
def test_prefix_subtree_consistency_vector_verifies_exactly_when_it_should(case):
    # given a published subtree consistency case whose subtree is a non-empty prefix of the tree
    # when it is verified as an RFC 6962 consistency proof from size `end` to `size`
    verified = merkle.verify_consistency(
        case["end"], case["size"], _hash(case["root1"]), _hash(case["root2"]), _proof(case)
    )

    # then only the happy cases verify
    assert verified is not case["wantErr"], case["desc"]


def test_vector_selection_keeps_happy_and_corrupted_cases_of_every_folder():
    # given the vector folders and the selection rules above
    if not VECTORS.is_dir():
        pytest.skip("Merkle vectors absent: ../shared/vectors/merkle is not beside this checkout")
    selections = {
        "inclusion": _vector_cases("inclusion"),
        "consistency": _vector_cases("consistency"),
        "subtreeinclusion": _vector_cases("subtreeinclusion", _starts_at_first_leaf),
        "subtreeconsistency": _vector_cases("subtreeconsistency", _non_empty_prefix),
    }

    # when the expected outcomes of the selected cases are counted
    # then every folder contributes both verifying and failing cases
    for folder, params in selections.items():
        outcomes = {param.values[0]["wantErr"] for param in params}
        assert outcomes == {True, False}, folder


def _leaves(count: int) -> list[bytes]:
    return [merkle.leaf_hash(f"entry {index}".encode()) for index in range(count)]


def _reference_root(leaves: list[bytes]) -> bytes:
    # MTH exactly as RFC 6962 section 2.1 defines it, recursively
    if len(leaves) == 0:
        return hashlib.sha256(b"").digest()
    if len(leaves) == 1:
        return leaves[0]
    split = 1 << ((len(leaves) - 1).bit_length() - 1)
    return hashlib.sha256(b"\x01" + _reference_root(leaves[:split]) + _reference_root(leaves[split:])).digest()


def _reference_path(index: int, leaves: list[bytes]) -> list[bytes]:
    # PATH(m, D[n]) of RFC 6962 section 2.1.1
    if len(leaves) == 1:
        return []
    split = 1 << ((len(leaves) - 1).bit_length() - 1)
    if index < split:
        return _reference_path(index, leaves[:split]) + [_reference_root(leaves[split:])]
    return _reference_path(index - split, leaves[split:]) + [_reference_root(leaves[:split])]


def _reference_subproof(old_size: int, leaves: list[bytes], complete: bool) -> list[bytes]:
    # SUBPROOF(m, D[n], b) of RFC 6962 section 2.1.2
    if old_size == len(leaves):
        return [] if complete else [_reference_root(leaves)]
    split = 1 << ((len(leaves) - 1).bit_length() - 1)
    if old_size <= split:
        return _reference_subproof(old_size, leaves[:split], complete) + [_reference_root(leaves[split:])]
    return _reference_subproof(old_size - split, leaves[split:], False) + [_reference_root(leaves[:split])]


def test_empty_tree_root_is_the_hash_of_nothing():
    # given no leaves
    # when the root is computed
    # then it is SHA-256 of the empty string
    assert merkle.root([]) == bytes.fromhex("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")


def test_leaf_and_node_hashes_are_domain_separated_as_in_rfc6962():
    # given a leaf's data and two child hashes
    # when they are hashed
    # then leaves get a 0x00 prefix and nodes a 0x01 prefix
    assert merkle.leaf_hash(b"") == bytes.fromhex("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d")
    assert merkle.node_hash(b"a", b"b") == hashlib.sha256(b"\x01ab").digest()


def test_roots_and_proofs_match_the_rfc6962_definitions_for_sizes_1_to_70():
    # given trees of every size up to 70
    for size in range(1, 71):
        leaves = _leaves(size)

        # when roots and proofs are generated
        # then they equal the recursive definitions of the RFC
        assert merkle.root(leaves) == _reference_root(leaves), size
        for index in range(size):
            assert merkle.inclusion_proof(leaves, index) == _reference_path(index, leaves), (size, index)
        for old_size in range(1, size + 1):
            expected = _reference_subproof(old_size, leaves, True)
            assert merkle.consistency_proof(leaves, old_size) == expected, (old_size, size)


def test_generated_inclusion_proofs_verify_for_every_index_of_sizes_1_to_70():
    # given trees of every size up to 70
    for size in range(1, 71):
        leaves = _leaves(size)
        tree_root = merkle.root(leaves)

        # when a proof is generated for each leaf
        # then it verifies against the root, and not for any other index
        for index in range(size):
            proof = merkle.inclusion_proof(leaves, index)
            assert merkle.verify_inclusion(leaves[index], index, size, proof, tree_root), (size, index)
            for other in {index - 1, index + 1} & set(range(size)):
                assert not merkle.verify_inclusion(leaves[index], other, size, proof, tree_root)


def test_generated_consistency_proofs_verify_for_every_pair_of_sizes_up_to_70():
    # given a ledger of 70 leaves and the roots of all its prefixes
    leaves = _leaves(70)
    roots = {size: merkle.root(leaves[:size]) for size in range(1, 71)}

    # when a proof is generated from each older size to each newer size
    # then it verifies, and fails against a neighbouring old size
    for new_size in range(1, 71):
        for old_size in range(1, new_size + 1):
            proof = merkle.consistency_proof(leaves, old_size, new_size)
            assert merkle.verify_consistency(old_size, new_size, roots[old_size], roots[new_size], proof), (
                old_size,
                new_size,
            )
            if old_size > 1:
                assert not merkle.verify_consistency(old_size - 1, new_size, roots[old_size], roots[new_size], proof), (
                    old_size,
                    new_size,
                )


def test_inclusion_proof_for_an_older_tree_size_verifies_against_that_trees_root():
    # given a ledger that has grown since a checkpoint at 13 entries
    leaves = _leaves(40)
    checkpoint_root = merkle.root(leaves[:13])

    # when inclusion of entry 5 is proved for the checkpoint's size
    proof = merkle.inclusion_proof(leaves, 5, 13)

    # then it verifies against the checkpoint root, not the current one
    assert merkle.verify_inclusion(leaves[5], 5, 13, proof, checkpoint_root)
    assert not merkle.verify_inclusion(leaves[5], 5, 40, proof, merkle.root(leaves))


def _flip_bit(proof: list[bytes], element: int, bit: int) -> list[bytes]:
    tampered = list(proof)
    changed = bytearray(tampered[element])
    changed[bit // 8] ^= 1 << (bit % 8)
    tampered[element] = bytes(changed)
    return tampered


def test_flipped_bit_in_inclusion_proof_is_rejected():
    # given valid inclusion proofs in trees of several sizes
    for size in (2, 3, 7, 8, 33):
        leaves = _leaves(size)
        tree_root = merkle.root(leaves)
        for index in range(size):
            proof = merkle.inclusion_proof(leaves, index)

            # when any single bit of any element is flipped
            # then the proof no longer verifies
            for element in range(len(proof)):
                for bit in (0, 100, 255):
                    tampered = _flip_bit(proof, element, bit)
                    assert not merkle.verify_inclusion(leaves[index], index, size, tampered, tree_root)


def test_inclusion_proof_with_wrong_index_size_leaf_or_root_is_rejected():
    # given a valid proof for leaf 6 of 11
    leaves = _leaves(11)
    tree_root = merkle.root(leaves)
    proof = merkle.inclusion_proof(leaves, 6)
    assert merkle.verify_inclusion(leaves[6], 6, 11, proof, tree_root)

    # when one of the claims around it is changed (a size that changes the tree's shape: sizes 9..16 give
    # the same path for this leaf, which is why a checkpoint records the size next to the root)
    # then it is rejected
    assert not merkle.verify_inclusion(leaves[6], 7, 11, proof, tree_root)
    assert not merkle.verify_inclusion(leaves[6], 6, 22, proof, tree_root)
    assert not merkle.verify_inclusion(leaves[6], 6, 8, proof, tree_root)
    assert not merkle.verify_inclusion(leaves[6], 11, 11, proof, tree_root)
    assert not merkle.verify_inclusion(leaves[5], 6, 11, proof, tree_root)
    assert not merkle.verify_inclusion(leaves[6], 6, 11, proof, merkle.root(leaves[:10]))


def test_inclusion_proof_with_missing_extra_or_reordered_elements_is_rejected():
    # given a valid proof with several elements
    leaves = _leaves(21)
    tree_root = merkle.root(leaves)
    proof = merkle.inclusion_proof(leaves, 9)
    assert len(proof) >= 3

    # when elements are removed, added or moved
    # then it is rejected
    for tampered in (
        proof[:-1],
        proof[1:],
        [],
        proof + [proof[0]],
        [tree_root] + proof,
        proof + [b"\x00" * 32],
        [proof[1], proof[0], *proof[2:]],
    ):
        assert not merkle.verify_inclusion(leaves[9], 9, 21, tampered, tree_root)


def test_tampered_consistency_proofs_are_rejected():
    # given a valid consistency proof from 6 to 29 entries
    leaves = _leaves(29)
    old_root, new_root = merkle.root(leaves[:6]), merkle.root(leaves)
    proof = merkle.consistency_proof(leaves, 6)
    assert merkle.verify_consistency(6, 29, old_root, new_root, proof)

    # when the proof, the sizes or the roots are tampered with
    # then it is rejected
    for element in range(len(proof)):
        assert not merkle.verify_consistency(6, 29, old_root, new_root, _flip_bit(proof, element, 7))
    for tampered in (proof[:-1], proof[1:], [], proof + [proof[-1]], [old_root] + proof):
        assert not merkle.verify_consistency(6, 29, old_root, new_root, tampered)
    assert not merkle.verify_consistency(5, 29, old_root, new_root, proof)
    assert not merkle.verify_consistency(6, 58, old_root, new_root, proof)
    assert not merkle.verify_consistency(6, 14, old_root, new_root, proof)
    assert not merkle.verify_consistency(6, 29, new_root, old_root, proof)
    assert not merkle.verify_consistency(29, 6, old_root, new_root, proof)
    assert not merkle.verify_consistency(6, 29, merkle.root(leaves[:7]), new_root, proof)


def test_consistency_with_equal_sizes_needs_equal_roots_and_no_proof():
    # given a tree and its root
    leaves = _leaves(9)
    tree_root = merkle.root(leaves)

    # when consistency with itself is checked
    # then it holds with an empty proof, and not with a different root or a non-empty proof
    assert merkle.consistency_proof(leaves, 9) == []
    assert merkle.verify_consistency(9, 9, tree_root, tree_root, [])
    assert not merkle.verify_consistency(9, 9, tree_root, merkle.root(leaves[:8]), [])
    assert not merkle.verify_consistency(9, 9, tree_root, tree_root, [tree_root])


def test_consistency_from_the_empty_tree_is_rejected():
    # given the empty tree and a non-empty one
    leaves = _leaves(4)

    # when consistency from size 0 is checked
    # then it is rejected, since such a proof proves nothing
    assert not merkle.verify_consistency(0, 4, merkle.EMPTY_ROOT, merkle.root(leaves), [])
    assert not merkle.verify_consistency(0, 0, merkle.EMPTY_ROOT, merkle.EMPTY_ROOT, [])


GARBAGE = [None, "", "abc", -1, 1.0, True, b"", b"x" * 31, b"x" * 33, [b"x" * 32], {}, object(), 2**80]


def test_verifiers_return_false_for_garbage_in_any_argument_without_raising():
    # given a valid inclusion proof and a valid consistency proof
    leaves = _leaves(13)
    tree_root = merkle.root(leaves)
    inclusion = [leaves[4], 4, 13, merkle.inclusion_proof(leaves, 4), tree_root]
    consistency = [5, 13, merkle.root(leaves[:5]), tree_root, merkle.consistency_proof(leaves, 5)]
    assert merkle.verify_inclusion(*inclusion) and merkle.verify_consistency(*consistency)

    # when any one argument, or any one proof element, is replaced by garbage
    # then the verifiers answer False instead of raising
    for arguments, verify in ((inclusion, merkle.verify_inclusion), (consistency, merkle.verify_consistency)):
        proof_at = 3 if verify is merkle.verify_inclusion else 4
        for position in range(len(arguments)):
            for garbage in GARBAGE:
                tampered = list(arguments)
                tampered[position] = garbage
                assert verify(*tampered) is False, (verify.__name__, position, garbage)
        for garbage in GARBAGE:
            tampered = list(arguments)
            tampered[proof_at] = [garbage, *arguments[proof_at][1:]]
            assert verify(*tampered) is False, (verify.__name__, "proof element", garbage)


def test_proof_generation_rejects_out_of_range_arguments():
    # given five leaves
    leaves = _leaves(5)

    # when proofs are asked for impossible positions or sizes
    # then a ValueError explains it
    with pytest.raises(ValueError, match="leaf index"):
        merkle.inclusion_proof(leaves, 5)
    with pytest.raises(ValueError, match="tree size"):
        merkle.inclusion_proof(leaves, 0, 6)
    with pytest.raises(ValueError, match="old tree size"):
        merkle.consistency_proof(leaves, 0)
    with pytest.raises(ValueError, match="old tree size"):
        merkle.consistency_proof(leaves, 4, 3)


def test_prefix_roots_in_one_pass_equal_the_root_of_each_prefix():
    leaves = [merkle.leaf_hash(bytes([i]) * 3) for i in range(70)]
    sizes = list(range(71))
    assert merkle.prefix_roots(leaves, sizes) == {size: merkle.root(leaves[:size]) for size in sizes}
