import base64
import hashlib
import stat

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from custody.signing import (
    KeyringError,
    keyring_generate,
    keyring_public_keys,
    keyring_signing_key,
    public_key_b64,
    public_key_from_pem,
    public_key_pem,
    verify,
)


def _mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_generated_key_is_active_private_to_its_owner_and_named_by_its_public_key(tmp_path):
    # given an empty keyring directory
    keys = tmp_path / "keys"

    # when a key is generated
    key_id = keyring_generate(keys)

    # then the private key file is 0600, the id is derived from the public key, and it is the active key
    assert _mode(keys / f"{key_id}.key") == 0o600
    raw_public = keyring_public_keys(keys)[key_id]
    assert key_id == hashlib.sha256(raw_public).hexdigest()[:16]
    assert (keys / "active").read_text() == f"{key_id}\n"
    assert keyring_signing_key(keys).key_id == key_id
    assert sorted(path.name for path in keys.iterdir()) == sorted(["active", f"{key_id}.key", f"{key_id}.pub"])


def test_signature_verifies_with_the_keyring_public_key(tmp_path):
    # given a keyring and some data
    keyring_generate(tmp_path)
    data = b"custody entry hash"

    # when the data is signed with the active key
    key_id, signature = keyring_signing_key(tmp_path).sign(data)

    # then it verifies under that key id, and not for other data
    public_keys = keyring_public_keys(tmp_path)
    assert len(base64.b64decode(signature)) == 64
    assert verify(public_keys, key_id, data, signature)
    assert not verify(public_keys, key_id, data + b"!", signature)


def test_rotation_keeps_old_public_keys_and_discards_the_old_private_key(tmp_path):
    # given data signed by a first key
    first_id = keyring_generate(tmp_path)
    _, old_signature = keyring_signing_key(tmp_path).sign(b"old entry")

    # when a new key is generated
    second_id = keyring_generate(tmp_path)

    # then the new key signs, the old signature still verifies, and the old private key is gone
    assert second_id != first_id
    assert keyring_signing_key(tmp_path).key_id == second_id
    public_keys = keyring_public_keys(tmp_path)
    assert set(public_keys) == {first_id, second_id}
    assert verify(public_keys, first_id, b"old entry", old_signature)
    assert not (tmp_path / f"{first_id}.key").exists()


def test_signature_from_an_unknown_key_is_rejected(tmp_path):
    # given our keyring and a signature by a key it never held
    keyring_generate(tmp_path)
    foreign = Ed25519PrivateKey.generate()
    signature = base64.b64encode(foreign.sign(b"data")).decode()

    # when it is verified under a made-up id or under our own key's id
    public_keys = keyring_public_keys(tmp_path)
    (our_id,) = public_keys

    # then both are rejected
    assert not verify(public_keys, "ffffffffffffffff", b"data", signature)
    assert not verify(public_keys, our_id, b"data", signature)


@pytest.mark.parametrize(
    "signature",
    ["", "not base64!", "AAAA", base64.b64encode(b"\x00" * 63).decode(), base64.b64encode(b"\x00" * 65).decode()],
)
def test_malformed_signature_is_rejected_without_raising(tmp_path, signature):
    # given a keyring
    key_id = keyring_generate(tmp_path)

    # when a malformed signature is verified
    # then the answer is False
    assert verify(keyring_public_keys(tmp_path), key_id, b"data", signature) is False


def test_signature_re_encoded_with_non_canonical_base64_is_rejected(tmp_path):
    # given a valid signature, whose last base64 character carries two unused bits
    keyring_generate(tmp_path)
    key_id, signature = keyring_signing_key(tmp_path).sign(b"data")
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    last = signature[-3]
    respelled = signature[:-3] + alphabet[alphabet.index(last) ^ 1] + signature[-2:]

    # when the unused bit is set, which decodes to the same 64 bytes
    assert base64.b64decode(respelled) == base64.b64decode(signature)

    # then the changed text is rejected
    assert not verify(keyring_public_keys(tmp_path), key_id, b"data", respelled)


def test_verify_rejects_wrong_types_without_raising(tmp_path):
    # given a keyring and a valid signature
    keyring_generate(tmp_path)
    key_id, signature = keyring_signing_key(tmp_path).sign(b"data")
    public_keys = keyring_public_keys(tmp_path)

    # when any argument has the wrong type or the stored key is not 32 bytes
    # then the answer is False
    assert verify(public_keys, key_id, b"data", signature)
    assert not verify(public_keys, None, b"data", signature)
    assert not verify(public_keys, ["id"], b"data", signature)
    assert not verify(public_keys, key_id, "data", signature)
    assert not verify(public_keys, key_id, b"data", signature.encode())
    assert not verify(public_keys, key_id, b"data", "\u00e9" * 88)
    assert not verify({key_id: public_keys[key_id][:31]}, key_id, b"data", signature)


def test_public_keys_export_as_pem_and_base64_of_the_raw_key(tmp_path):
    # given a keyring
    key_id = keyring_generate(tmp_path)
    raw = keyring_public_keys(tmp_path)[key_id]

    # when the public key is exported
    pem = public_key_pem(raw)
    text = public_key_b64(raw)

    # then standard tools read the PEM back to the same key, and the base64 is the raw 32 bytes
    loaded = serialization.load_pem_public_key(pem.encode())
    assert isinstance(loaded, Ed25519PublicKey)
    assert loaded.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw) == raw
    assert public_key_from_pem(pem) == raw
    assert base64.b64decode(text) == raw
    assert (tmp_path / f"{key_id}.pub").read_text() == pem


def test_keyring_without_an_active_key_refuses_to_sign(tmp_path):
    # given an empty directory
    # when the signing key is loaded
    # then a KeyringError says to generate one
    with pytest.raises(KeyringError, match="no active key"):
        keyring_signing_key(tmp_path)


def test_private_key_readable_by_others_is_refused(tmp_path):
    # given a key whose file was made group-readable
    key_id = keyring_generate(tmp_path)
    (tmp_path / f"{key_id}.key").chmod(0o640)

    # when the signing key is loaded
    # then it is refused
    with pytest.raises(KeyringError, match="accessible to other users"):
        keyring_signing_key(tmp_path)


def test_public_key_file_that_does_not_match_its_id_is_refused(tmp_path):
    # given a keyring whose public key file was replaced by another key
    key_id = keyring_generate(tmp_path)
    other = Ed25519PrivateKey.generate().public_key()
    other_raw = other.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    (tmp_path / f"{key_id}.pub").write_text(public_key_pem(other_raw))

    # when the public keys are listed
    # then the substitution is reported
    with pytest.raises(KeyringError, match="holds a key whose id"):
        keyring_public_keys(tmp_path)


def test_corrupt_active_pointer_is_refused(tmp_path):
    # given a keyring whose active pointer was overwritten
    keyring_generate(tmp_path)
    (tmp_path / "active").write_text("../../etc/passwd\n")

    # when the signing key is loaded
    # then the pointer is rejected before any path is built from it
    with pytest.raises(KeyringError, match="corrupt"):
        keyring_signing_key(tmp_path)


def test_listing_a_missing_keyring_directory_is_an_error(tmp_path):
    # given no keyring directory
    # when the public keys are listed
    # then a KeyringError is raised rather than an empty keyring returned
    with pytest.raises(KeyringError, match="does not exist"):
        keyring_public_keys(tmp_path / "absent")
