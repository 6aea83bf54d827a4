"""C2SP signed notes for checkpoints and their witnesses' cosignatures: writing, reading and verifying them with
the standard library and ``cryptography`` only (no Django), so that `python -m custody.witness` can use it.

- A checkpoint (c2sp.org/tlog-checkpoint) is the note text ``<origin>\\n<tree size>\\n<base64 root>\\n``.
- A signed note (c2sp.org/signed-note) is that text, an empty line, then signature lines
  ``— <key name> <base64(4-byte key ID || signature)>\\n``. An Ed25519 note signature (type 0x01) signs the
  note text; its key ID is SHA-256(key name || 0x0A || 0x01 || 32-byte public key)[:4].
- A cosignature (c2sp.org/tlog-cosignature, Ed25519, type 0x04) is a signature line whose signature is
  8-byte big-endian POSIX time || Ed25519 signature over ``cosignature/v1\\ntime <time>\\n`` followed by the
  note text; its key ID is SHA-256(key name || 0x0A || 0x04 || public key)[:4].
"""

import base64
import binascii
import hashlib
import re
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

ED25519_NOTE = 0x01
ED25519_COSIGNATURE = 0x04
SIGNATURE_PREFIX = "\u2014 "  # em dash, space
COSIGNATURE_HEADER = "cosignature/v1\n"
MAX_SIGNATURES = 32
_KEY_NAME = re.compile(r"[^\s+]+")
_DECIMAL = re.compile(r"0|[1-9][0-9]*")


class NoteError(ValueError):
    """A note, checkpoint, key or signature line that is malformed, or a signature that does not verify."""


@dataclass(frozen=True)
class NoteKey:
    """A verifier key: the key name, the signature type and the raw 32-byte Ed25519 public key."""

    name: str
    kind: int
    public_key: bytes

    @property
    def key_id(self) -> bytes:
        return note_key_id(self.name, self.kind, self.public_key)

    def vkey(self) -> str:
        """The key as a signed-note verifier key string: ``<name>+<hex key ID>+<base64(type || key)>``."""
        encoded = base64.b64encode(bytes([self.kind]) + self.public_key).decode("ascii")
        return f"{self.name}+{self.key_id.hex()}+{encoded}"


@dataclass(frozen=True)
class CheckpointNote:
    """The three lines of a checkpoint's note text."""

    origin: str
    tree_size: int
    root: bytes

    def text(self) -> str:
        return f"{self.origin}\n{self.tree_size}\n{base64.b64encode(self.root).decode('ascii')}\n"


@dataclass(frozen=True)
class SignatureLine:
    name: str
    key_id: bytes
    signature: bytes  # for a cosignature: 8-byte time || 64-byte signature

    def line(self) -> str:
        return f"{SIGNATURE_PREFIX}{self.name} {base64.b64encode(self.key_id + self.signature).decode('ascii')}\n"


def note_key_id(name: str, kind: int, public_key: bytes) -> bytes:
    """The 4-byte key ID of a named key of a signature type."""
    return hashlib.sha256(name.encode("utf-8") + b"\n" + bytes([kind]) + public_key).digest()[:4]


def vkey_parse(text: str) -> NoteKey:
    """Read a verifier key string (``name+hexid+base64``), checking that its key ID matches."""
    name, _, rest = text.strip().partition("+")
    key_id_hex, _, encoded = rest.partition("+")
    try:
        raw = base64.b64decode(encoded, validate=True)
        key_id = bytes.fromhex(key_id_hex)
    except (binascii.Error, ValueError):
        raise NoteError("a verifier key is name+hex key ID+base64(type || public key)") from None
    if not _KEY_NAME.fullmatch(name) or len(raw) != 33 or raw[0] not in (ED25519_NOTE, ED25519_COSIGNATURE):
        raise NoteError("the verifier key is not an Ed25519 note or cosignature key with a valid name")
    key = NoteKey(name=name, kind=raw[0], public_key=raw[1:])
    if key.key_id != key_id:
        raise NoteError(f"the verifier key's ID {key_id_hex} is not its key's ({key.key_id.hex()})")
    return key


def checkpoint_note_sign(checkpoint: CheckpointNote, name: str, private_key: Ed25519PrivateKey) -> str:
    """Return the checkpoint as a signed note carrying one Ed25519 note signature by ``name``."""
    text = checkpoint.text()
    public = _raw_public(private_key)
    line = SignatureLine(name, note_key_id(name, ED25519_NOTE, public), private_key.sign(text.encode("utf-8")))
    return f"{text}\n{line.line()}"


def cosignature_make(text: str, name: str, private_key: Ed25519PrivateKey, timestamp: int) -> SignatureLine:
    """A witness's cosignature of note text ``text`` at POSIX time ``timestamp``."""
    message = cosignature_message(text, timestamp)
    public = _raw_public(private_key)
    signature = timestamp.to_bytes(8, "big") + private_key.sign(message)
    return SignatureLine(name, note_key_id(name, ED25519_COSIGNATURE, public), signature)


def cosignature_message(text: str, timestamp: int) -> bytes:
    """The bytes an Ed25519 cosignature signs: the cosignature/v1 header, the time line and the note text."""
    return f"{COSIGNATURE_HEADER}time {timestamp}\n{text}".encode()


def note_split(note: str) -> tuple[str, list[SignatureLine]]:
    """Split a signed note into its text (ending in a newline) and its signature lines; NoteError if malformed."""
    if not isinstance(note, str) or any(c < " " and c != "\n" for c in note):
        raise NoteError("a signed note is UTF-8 text without control characters other than newline")
    cut = note.rfind("\n\n")
    if cut < 0 or not note.endswith("\n"):
        raise NoteError("a signed note is text, an empty line, and signature lines, each ending in a newline")
    text, signature_block = note[: cut + 1], note[cut + 2 :]
    lines = signature_block[:-1].split("\n")
    if len(lines) > MAX_SIGNATURES:
        raise NoteError(f"more than {MAX_SIGNATURES} signatures")
    return text, [_signature_line_parse(line) for line in lines]


def signature_line_parse(line: str) -> SignatureLine:
    """Read one signature line (with or without its final newline)."""
    return _signature_line_parse(line.removesuffix("\n"))


def checkpoint_parse(text: str) -> CheckpointNote:
    """Read a checkpoint's note text: origin, decimal tree size, base64 root of 32 bytes (extension lines are
    refused: this ledger writes none)."""
    lines = text.split("\n")
    if len(lines) != 4 or lines[3] != "" or not lines[0] or not _DECIMAL.fullmatch(lines[1]):
        raise NoteError("a checkpoint is three lines: origin, decimal tree size, base64 root hash")
    try:
        root = base64.b64decode(lines[2], validate=True)
    except binascii.Error:
        raise NoteError("the checkpoint's root hash is not base64") from None
    if len(root) != 32 or base64.b64encode(root).decode("ascii") != lines[2]:
        raise NoteError("the checkpoint's root hash is not the base64 of 32 bytes")
    return CheckpointNote(origin=lines[0], tree_size=int(lines[1]), root=root)


def note_verify(note: str, key: NoteKey) -> CheckpointNote:
    """Return the checkpoint of a signed note that ``key`` (an Ed25519 note key) validly signed.

    Lines of other keys are ignored, as signed-note says; a line of this key that does not verify, or no line
    of this key at all, is a NoteError.
    """
    text, lines = note_split(note)
    own = [line for line in lines if line.name == key.name and line.key_id == key.key_id]
    if not own:
        raise NoteError(f"the note carries no signature by {key.name} with key ID {key.key_id.hex()}")
    for line in own:
        if not _ed25519_valid(key.public_key, line.signature, text.encode("utf-8")):
            raise NoteError(f"the signature by {key.name} does not verify")
    return checkpoint_parse(text)


def cosignature_verify(text: str, line: SignatureLine, key: NoteKey) -> int:
    """Return the time of a valid cosignature of note text ``text`` by ``key``; NoteError otherwise."""
    if key.kind != ED25519_COSIGNATURE or line.name != key.name or line.key_id != key.key_id:
        raise NoteError(f"the cosignature is not by witness {key.name} with key ID {key.key_id.hex()}")
    if len(line.signature) != 72:
        raise NoteError("an Ed25519 cosignature is an 8-byte time and a 64-byte signature")
    timestamp = int.from_bytes(line.signature[:8], "big")
    if timestamp >= 2**63 or not _ed25519_valid(
        key.public_key, line.signature[8:], cosignature_message(text, timestamp)
    ):
        raise NoteError(f"the cosignature by {key.name} does not verify")
    return timestamp


def _signature_line_parse(line: str) -> SignatureLine:
    if not line.startswith(SIGNATURE_PREFIX):
        raise NoteError("a signature line starts with an em dash and a space")
    name, _, encoded = line[len(SIGNATURE_PREFIX) :].partition(" ")
    try:
        raw = base64.b64decode(encoded, validate=True)
    except binascii.Error:
        raise NoteError("a signature line's signature is not base64") from None
    if not _KEY_NAME.fullmatch(name) or len(raw) < 5:
        raise NoteError("a signature line is a key name without spaces or '+' and base64(key ID || signature)")
    return SignatureLine(name=name, key_id=raw[:4], signature=raw[4:])


def _ed25519_valid(public_key: bytes, signature: bytes, message: bytes) -> bool:
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(signature, message)
    except (InvalidSignature, ValueError):
        return False
    return True


def _raw_public(private_key: Ed25519PrivateKey) -> bytes:
    return private_key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
