"""The master key, the top of the key hierarchy: it wraps every organisation key and never enters the database.

`MasterKeyring` is the one interface the rest of the code uses, so a KMS back-end (wrap and unwrap done by the
KMS, the key never leaving it) can replace the local files: name its class in `STORAGE_MASTER_KEYRING`.
`LocalMasterKeyring` keeps Tink AES-256-GCM keysets in the keys directory, beside the custody keys.
"""

import abc
import contextlib
import secrets
from functools import lru_cache
from pathlib import Path

import tink
from django.conf import settings
from django.utils.module_loading import import_string
from tink import aead, secret_key_access

from custody.signing import file_write_atomically

ACTIVE_FILE = "active"


class MasterKeyMissing(RuntimeError):
    """The master key named by stored data is not there: the keys directory was lost or not restored."""


class MasterKeyring(abc.ABC):
    """Wraps and unwraps organisation keys under the current master key; rotation makes a new one current."""

    @abc.abstractmethod
    def present(self) -> bool:
        """Is there an active master key?"""

    @abc.abstractmethod
    def create(self) -> str:
        """Make a new master key, make it the active one, and return its id."""

    @abc.abstractmethod
    def active_key_id(self) -> str: ...

    @abc.abstractmethod
    def key_ids(self) -> list[str]:
        """Every master key still held, the active one included."""

    @abc.abstractmethod
    def wrap(self, plaintext: bytes, *, context: bytes) -> tuple[str, bytes]:
        """Encrypt `plaintext` bound to `context` with the active key; return (key id, ciphertext)."""

    @abc.abstractmethod
    def unwrap(self, key_id: str, ciphertext: bytes, *, context: bytes) -> bytes: ...

    @abc.abstractmethod
    def retire(self, key_id: str) -> None:
        """Destroy a master key that is no longer active (after everything it wrapped was wrapped again)."""


class LocalMasterKeyring(MasterKeyring):
    """Master keys as Tink keyset files (JSON, mode 0600) in `KEYS_DIR/storage`, the active one named in `active`."""

    def __init__(self, directory: Path | None = None):
        self.directory = Path(directory or Path(settings.KEYS_DIR) / "storage")

    def present(self) -> bool:
        return (self.directory / ACTIVE_FILE).exists()

    def create(self) -> str:
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        key_id = secrets.token_hex(8)
        handle = tink.new_keyset_handle(aead.aead_key_templates.AES256_GCM)
        keyset = tink.json_proto_keyset_format.serialize(handle, secret_key_access.TOKEN)
        file_write_atomically(self._path(key_id), keyset.encode(), 0o600)
        file_write_atomically(self.directory / ACTIVE_FILE, f"{key_id}\n".encode(), 0o600)
        return key_id

    def active_key_id(self) -> str:
        try:
            return (self.directory / ACTIVE_FILE).read_text().strip()
        except FileNotFoundError:
            raise MasterKeyMissing(f"No master key in {self.directory}; run `manage.py keys init`.") from None

    def key_ids(self) -> list[str]:
        return sorted(path.name.removeprefix("master-").removesuffix(".json") for path in self._files())

    def wrap(self, plaintext: bytes, *, context: bytes) -> tuple[str, bytes]:
        key_id = self.active_key_id()
        return key_id, _primitive(str(self._path(key_id))).encrypt(plaintext, context)

    def unwrap(self, key_id: str, ciphertext: bytes, *, context: bytes) -> bytes:
        return _primitive(str(self._path(key_id))).decrypt(ciphertext, context)

    def retire(self, key_id: str) -> None:
        if key_id == self.active_key_id():
            raise ValueError("The active master key cannot be retired; rotate first.")
        with contextlib.suppress(FileNotFoundError):
            self._path(key_id).unlink()
        _primitive.cache_clear()

    def _path(self, key_id: str) -> Path:
        if not key_id.isalnum():
            raise ValueError(f"Not a master key id: {key_id!r}")
        return self.directory / f"master-{key_id}.json"

    def _files(self) -> list[Path]:
        return list(self.directory.glob("master-*.json"))


@lru_cache(maxsize=8)
def _primitive(path: str) -> aead.Aead:
    try:
        keyset = Path(path).read_text()
    except FileNotFoundError:
        raise MasterKeyMissing(
            f"The master key {path} is missing; restore the keys directory from its backup."
        ) from None
    return tink.json_proto_keyset_format.parse(keyset, secret_key_access.TOKEN).primitive(aead.Aead)


def master_keyring() -> MasterKeyring:
    """The configured master keyring (`STORAGE_MASTER_KEYRING`, a dotted class path)."""
    return import_string(settings.STORAGE_MASTER_KEYRING)()
