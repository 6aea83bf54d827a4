"""The ciphertext the storage writes (encryption/segments.py) is Tink's AES-GCM-HKDF streaming format: Tink reads it
back, a reader written here from the format's specification reads both it and Tink's own, and every way of cutting,
reordering or altering it fails authentication. (Bytes added after the last segment Tink's reader passes over, for its
own ciphertext as for this writer's: the storage refuses a file whose size is not `ciphertext_size` before reading.)"""

import io
import os

import pytest
import tink
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from tink import streaming_aead

from encryption.hierarchy import CiphertextDamaged, DataKeyMaterial, ciphertext_size
from encryption.segments import HEADER_SIZE, SEGMENT_SIZE, TAG_SIZE

FIRST = SEGMENT_SIZE - HEADER_SIZE - TAG_SIZE
FULL = SEGMENT_SIZE - TAG_SIZE
SIZES = [0, 1, FIRST - 1, FIRST, FIRST + 1, FIRST + FULL - 1, FIRST + FULL, FIRST + FULL + 1, 3 * SEGMENT_SIZE]


class _Kept(io.BytesIO):
    def close(self) -> None:  # keep the bytes readable after an encrypting stream finishes
        pass


def _ours(material: DataKeyMaterial, data: bytes, *, piece: int) -> bytes:
    destination = _Kept()
    with material.encrypting_stream(destination) as encrypting:
        for start in range(0, len(data), piece):
            encrypting.write(data[start : start + piece])
    return destination.getvalue()


def _tinks(material: DataKeyMaterial, data: bytes) -> bytes:
    destination = _Kept()
    primitive = material.handle.primitive(streaming_aead.StreamingAead)
    with primitive.new_encrypting_stream(destination, material.associated_data) as encrypting:
        encrypting.write(data)
    return destination.getvalue()


def _spec_read(ciphertext: bytes, material: DataKeyMaterial) -> bytes:
    """The plaintext, read as the format's specification says (independently of both writers)."""
    assert ciphertext[0] == HEADER_SIZE
    salt, prefix = ciphertext[1:33], ciphertext[33:HEADER_SIZE]
    segment_key = HKDF(algorithm=hashes.SHA256(), length=32, salt=salt, info=material.associated_data)
    aead = AESGCM(segment_key.derive(material._key_value()))
    body, plaintext, number = ciphertext[HEADER_SIZE:], [], 0
    segments = [body[: SEGMENT_SIZE - HEADER_SIZE]] + [
        body[start : start + SEGMENT_SIZE] for start in range(SEGMENT_SIZE - HEADER_SIZE, len(body), SEGMENT_SIZE)
    ]
    for number, segment in enumerate(segments):
        last = b"\x01" if number == len(segments) - 1 else b"\x00"
        plaintext.append(aead.decrypt(prefix + number.to_bytes(4, "big") + last, segment, None))
    return b"".join(plaintext)


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("piece", [1 << 20, 77_777])
def test_tink_and_the_specification_read_what_the_writer_writes(size, piece):
    # Given bytes encrypted by the writer, written in pieces that never meet a segment's edge
    material, data = DataKeyMaterial.new(), os.urandom(size)
    ciphertext = _ours(material, data, piece=piece)

    # Then the ciphertext has the format's size, and Tink and a reader of the specification both read the bytes
    assert len(ciphertext) == ciphertext_size(size)
    assert material.decrypting_stream(io.BytesIO(ciphertext)).read() == data
    assert _spec_read(ciphertext, material) == data


@pytest.mark.parametrize("size", [0, FIRST, FIRST + 1, FIRST + FULL])
def test_the_specification_reader_reads_tinks_own_ciphertext(size):
    # The reader above is checked against Tink's writer, so that it tests the format rather than this writer.
    material, data = DataKeyMaterial.new(), os.urandom(size)
    ciphertext = _tinks(material, data)
    assert len(ciphertext) == ciphertext_size(size)
    assert _spec_read(ciphertext, material) == data


def test_two_encryptions_of_the_same_bytes_share_no_salt_nonce_or_ciphertext():
    material, data = DataKeyMaterial.new(), os.urandom(1000)
    first, second = _ours(material, data, piece=1000), _ours(material, data, piece=1000)
    assert first[1:HEADER_SIZE] != second[1:HEADER_SIZE]
    assert first[HEADER_SIZE:] != second[HEADER_SIZE:]


def _damaged(ciphertext: bytes, how: str) -> bytes:
    body_end = len(ciphertext)
    last_start = HEADER_SIZE + (SEGMENT_SIZE - HEADER_SIZE) + SEGMENT_SIZE  # the third segment
    return {
        # the last segment dropped: the one before it was written as "not last"
        "last segment cut off": ciphertext[:last_start],
        "second and third segments swapped": (
            ciphertext[:SEGMENT_SIZE] + ciphertext[last_start:body_end] + ciphertext[SEGMENT_SIZE:last_start]
        ),
        "a byte flipped": ciphertext[:5000] + bytes([ciphertext[5000] ^ 1]) + ciphertext[5001:],
        "a tag's byte flipped": ciphertext[: SEGMENT_SIZE - 1]
        + bytes([ciphertext[SEGMENT_SIZE - 1] ^ 1])
        + ciphertext[SEGMENT_SIZE:],
        "the salt changed": ciphertext[:1] + bytes(32) + ciphertext[33:],
    }[how]


@pytest.mark.parametrize(
    "how",
    [
        "last segment cut off",
        "second and third segments swapped",
        "a byte flipped",
        "a tag's byte flipped",
        "the salt changed",
    ],
)
def test_every_change_to_the_ciphertext_fails_authentication(how):
    # Given three segments' worth of ciphertext, the third one full
    material, data = DataKeyMaterial.new(), os.urandom(FIRST + 2 * FULL)
    damaged = _damaged(_ours(material, data, piece=1 << 20), how)

    # Then Tink refuses it
    with pytest.raises(CiphertextDamaged):
        material.decrypting_stream(io.BytesIO(damaged)).read()


def test_another_files_associated_data_does_not_open_it():
    material = DataKeyMaterial.new()
    ciphertext = _ours(material, b"evidence", piece=8)
    other = DataKeyMaterial(object_id=DataKeyMaterial.new().object_id, handle=material.handle)
    with pytest.raises(CiphertextDamaged):
        other.decrypting_stream(io.BytesIO(ciphertext)).read()
    with pytest.raises(InvalidTag):
        _spec_read(ciphertext, other)


@pytest.mark.parametrize(
    "template",
    [
        streaming_aead.streaming_aead_key_templates.AES128_GCM_HKDF_1MB,
        streaming_aead.streaming_aead_key_templates.AES256_GCM_HKDF_4KB,
        streaming_aead.streaming_aead_key_templates.AES256_CTR_HMAC_SHA256_1MB,
    ],
)
def test_a_key_of_another_kind_is_refused_rather_than_written_in_the_wrong_format(template):
    material = DataKeyMaterial(object_id=DataKeyMaterial.new().object_id, handle=tink.new_keyset_handle(template))
    with pytest.raises(ValueError, match="AES256_GCM_HKDF_1MB"):
        material.encrypting_stream(_Kept())
