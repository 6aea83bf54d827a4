"""The stored ciphertext's size follows from the plaintext's (Tink's AES-GCM-HKDF streaming layout), so a file cut
short or added to is refused before a byte is decrypted."""

import io

import pytest

from encryption.hierarchy import HEADER_SIZE, SEGMENT_SIZE, TAG_SIZE, DataKeyMaterial, ciphertext_size

FIRST = SEGMENT_SIZE - HEADER_SIZE - TAG_SIZE


class _Kept(io.BytesIO):
    def close(self) -> None:  # keep the bytes readable after the encrypting stream finishes
        pass


@pytest.mark.parametrize("size", [0, 1, FIRST - 1, FIRST, FIRST + 1, FIRST + SEGMENT_SIZE - TAG_SIZE, 3 * SEGMENT_SIZE])
def test_ciphertext_size_is_what_tink_writes(size):
    destination = _Kept()
    with DataKeyMaterial.new().encrypting_stream(destination) as encrypting:
        encrypting.write(bytes(size))
    assert len(destination.getvalue()) == ciphertext_size(size)
