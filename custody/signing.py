"""Ed25519 keyring kept as files in one directory, and signing and verification of custody data with it.

Key material lives only in these files, never in the database. Layout of the keyring directory (mode 0700):

- ``<key_id>.key``: PKCS#8 PEM private key, unencrypted, mode 0600. Only the active key has one: when a new
  key is generated the previous private key file is deleted, so a retired key can no longer sign anything.
- ``<key_id>.pub``: SubjectPublicKeyInfo PEM public key, kept for ever so that old entries still verify.
- ``active``: the id of the key that signs new data, followed by a newline.

A key id is the first 16 lower-case hex characters (64 bits) of SHA-256 over the 32-byte raw public key, so
anyone holding the public key can recompute it. Every file is written to a temporary name, fsynced and
renamed into place, so a crash never leaves a half-written key or pointer.
"""

import base64
import binascii
import contextlib
import hashlib
import os
import re
import secrets
import stat
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

ACTIVE_FILE = "active"
KEY_ID_PATTERN = re.compile(r"[0-9a-f]{16}")
SIGNATURE_SIZE = 64
PUBLIC_KEY_SIZE = 32


class KeyringError(Exception):
    """The keyring directory is missing, incomplete, unsafe or corrupt."""


@dataclass(frozen=True)
class SigningKey:
    """The active private key, loaded once so that the key id used in a hash and the signature agree."""

    key_id: str
    private_key: Ed25519PrivateKey = field(repr=False)

    def sign(self, data: bytes) -> tuple[str, str]:
        """Return (key_id, standard base64 of the 64-byte Ed25519 signature over ``data``)."""
        return self.key_id, base64.b64encode(self.private_key.sign(data)).decode("ascii")


def key_id_for(raw_public_key: bytes) -> str:
    """Return the key id of a 32-byte raw Ed25519 public key."""
    return hashlib.sha256(raw_public_key).hexdigest()[:16]


def keyring_generate(directory: Path | str) -> str:
    """Create a new Ed25519 key, make it the active one, delete the previous private key; return its id."""
    directory = Path(directory)
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    previous_id = _active_key_id(directory) if (directory / ACTIVE_FILE).exists() else None

    private_key = Ed25519PrivateKey.generate()
    raw_public = _raw_public(private_key.public_key())
    key_id = key_id_for(raw_public)
    file_write_atomically(directory / f"{key_id}.pub", public_key_pem(raw_public).encode("ascii"), 0o644)
    private_pem = private_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    file_write_atomically(directory / f"{key_id}.key", private_pem, 0o600)
    # Switch the pointer only once both key files are durable.
    file_write_atomically(directory / ACTIVE_FILE, f"{key_id}\n".encode("ascii"), 0o644)

    if previous_id is not None and previous_id != key_id:
        with contextlib.suppress(FileNotFoundError):
            (directory / f"{previous_id}.key").unlink()
        _fsync_directory(directory)
    return key_id


def keyring_signing_key(directory: Path | str) -> SigningKey:
    """Load the active private key; raise KeyringError if it is missing, readable by others or corrupt."""
    directory = Path(directory)
    key_id = _active_key_id(directory)
    path = directory / f"{key_id}.key"
    try:
        mode = path.stat().st_mode
        data = path.read_bytes()
    except FileNotFoundError:
        raise KeyringError(f"the active key {key_id} has no private key file in the keyring") from None
    if stat.S_IMODE(mode) & 0o077:
        raise KeyringError(f"private key file of {key_id} is accessible to other users; chmod 600 it")
    try:
        private_key = serialization.load_pem_private_key(data, password=None)
    except ValueError as error:
        raise KeyringError(f"private key file of {key_id} is unreadable: {error}") from None
    if not isinstance(private_key, Ed25519PrivateKey):
        raise KeyringError(f"private key file of {key_id} does not hold an Ed25519 key")
    if key_id_for(_raw_public(private_key.public_key())) != key_id:
        raise KeyringError(f"private key file of {key_id} holds a different key")
    return SigningKey(key_id=key_id, private_key=private_key)


def keyring_public_keys(directory: Path | str) -> dict[str, bytes]:
    """Return {key_id: raw 32-byte public key} for every key the keyring has ever held."""
    directory = Path(directory)
    if not directory.is_dir():
        raise KeyringError("the keyring directory does not exist")
    keys: dict[str, bytes] = {}
    for path in sorted(directory.glob("*.pub")):
        key_id = path.stem
        if not KEY_ID_PATTERN.fullmatch(key_id):
            continue
        raw = public_key_from_pem(path.read_text(encoding="ascii", errors="replace"))
        if key_id_for(raw) != key_id:
            raise KeyringError(f"public key file {path.name} holds a key whose id is {key_id_for(raw)}")
        keys[key_id] = raw
    return keys


def keyring_active_key_id(directory: Path | str) -> str:
    """Return the id of the key that signs new data, without loading its private key."""
    return _active_key_id(Path(directory))


def verify(public_keys: Mapping[str, bytes], key_id: str, data: bytes, signature: str) -> bool:
    """Return True if ``signature`` (standard base64) is a valid signature of ``data`` by key ``key_id``.

    Never raises: an unknown key id, a malformed key, or a signature that is not exactly the canonical
    base64 of 64 bytes all give False.
    """
    raw_public = public_keys.get(key_id) if isinstance(key_id, str) else None
    if not isinstance(raw_public, bytes) or len(raw_public) != PUBLIC_KEY_SIZE:
        return False
    if not isinstance(data, bytes) or not isinstance(signature, str):
        return False
    try:
        raw_signature = binascii.a2b_base64(signature, strict_mode=True)
    except ValueError:  # binascii.Error, or a character outside ASCII
        return False
    # One signature, one spelling: a re-encoded signature text is a change too.
    if len(raw_signature) != SIGNATURE_SIZE or binascii.b2a_base64(raw_signature, newline=False) != signature.encode():
        return False
    try:
        _public_key(raw_public).verify(raw_signature, data)
    except (InvalidSignature, ValueError):
        return False
    return True


@lru_cache(maxsize=64)
def _public_key(raw_public: bytes) -> Ed25519PublicKey:
    # Parsing the key costs about a tenth of a verification; a ledger is signed by a handful of keys.
    return Ed25519PublicKey.from_public_bytes(raw_public)


def public_key_pem(raw_public_key: bytes) -> str:
    """Return a raw 32-byte Ed25519 public key as SubjectPublicKeyInfo PEM text."""
    public_key = Ed25519PublicKey.from_public_bytes(raw_public_key)
    pem = public_key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    return pem.decode("ascii")


def public_key_b64(raw_public_key: bytes) -> str:
    """Return a raw 32-byte Ed25519 public key as standard base64 text."""
    if len(raw_public_key) != PUBLIC_KEY_SIZE:
        raise ValueError(f"an Ed25519 public key is {PUBLIC_KEY_SIZE} bytes, not {len(raw_public_key)}")
    return base64.b64encode(raw_public_key).decode("ascii")


def public_key_from_pem(pem: str) -> bytes:
    """Return the raw 32-byte key of a SubjectPublicKeyInfo PEM Ed25519 public key."""
    try:
        public_key = serialization.load_pem_public_key(pem.encode("ascii"))
    except ValueError as error:
        raise KeyringError(f"not a PEM public key: {error}") from None
    if not isinstance(public_key, Ed25519PublicKey):
        raise KeyringError("the PEM public key is not an Ed25519 key")
    return _raw_public(public_key)


def _raw_public(public_key: Ed25519PublicKey) -> bytes:
    return public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def _active_key_id(directory: Path) -> str:
    try:
        key_id = (directory / ACTIVE_FILE).read_text(encoding="ascii").strip()
    except FileNotFoundError:
        raise KeyringError("the keyring has no active key; generate one first") from None
    if not KEY_ID_PATTERN.fullmatch(key_id):
        raise KeyringError(f"the keyring's active pointer is corrupt: {key_id[:40]!r}")
    return key_id


def file_write_atomically(path: Path, content: bytes, mode: int) -> None:
    """Write `content` to `path` through a fsynced temporary file renamed into place: readers see the old
    file or the new one, never a part."""
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
    # O_EXCL and the mode at creation: the private key is never readable by others, not even briefly.
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            os.fchmod(handle.fileno(), mode)
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            temporary.unlink()
        raise
    _fsync_directory(path.parent)


def _fsync_directory(directory: Path) -> None:
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
