"""The installation's custody keyring, kept in files under the data directory and never in the database."""

from functools import lru_cache
from pathlib import Path

from django.conf import settings

from .signing import (
    SigningKey,
    keyring_active_key_id,
    keyring_generate,
    keyring_public_keys,
    keyring_signing_key,
)


class MissingKeyError(RuntimeError):
    pass


def keys_directory() -> Path:
    return Path(settings.KEYS_DIR) / "custody"


def signing_key() -> SigningKey:
    """The active signing key, loaded once per process and again whenever the active key changes."""
    directory = keys_directory()
    active = directory / "active"
    if not active.exists():
        raise MissingKeyError(f"No custody signing key in {directory}; run `python manage.py custody_keygen`.")
    return _load(str(directory), active.stat().st_mtime_ns)


@lru_cache(maxsize=4)
def _load(directory: str, active_mtime_ns: int) -> SigningKey:
    return keyring_signing_key(directory)


def public_keys() -> dict[str, bytes]:
    return keyring_public_keys(keys_directory())


def active_key_id() -> str:
    return keyring_active_key_id(keys_directory())


def key_generate() -> str:
    return keyring_generate(keys_directory())
