"""The key hierarchy: a data key per stored file, wrapped by its organisation's key, wrapped by the master key.

Media are encrypted in Tink's streaming AEAD format (AES-256-GCM-HKDF with 1 MiB segments, a published format,
written by segments.py with OpenSSL's AES-GCM and read by Tink), so any part of a file that was changed, cut short or
swapped for another file's fails authentication. Stored files are named by a keyed hash (HMAC-SHA256 with the
organisation's name secret) of their SHA-256, so identical bytes in one organisation still meet under one name while
nothing on disk names a SHA-256 anyone could look up.
"""

import hashlib
import hmac
import io
import secrets
import uuid
from dataclasses import dataclass
from functools import lru_cache
from typing import BinaryIO

import tink
from django.db import IntegrityError, transaction
from django.utils import timezone
from tink import aead, secret_key_access, streaming_aead
from tink.proto import aes_gcm_hkdf_streaming_pb2, common_pb2, tink_pb2

from .master import MasterKeyMissing, master_keyring
from .models import DataKey, OrganisationKey
from .segments import HEADER_SIZE, SEGMENT_SIZE, TAG_SIZE, SegmentEncryptingWriter

STREAMING_TEMPLATE = streaming_aead.streaming_aead_key_templates.AES256_GCM_HKDF_1MB
# The key parameters `SegmentEncryptingWriter` writes: exactly the template's.
_STREAMING_PARAMETERS = aes_gcm_hkdf_streaming_pb2.AesGcmHkdfStreamingParams(
    ciphertext_segment_size=SEGMENT_SIZE, derived_key_size=32, hkdf_hash_type=common_pb2.SHA256
)
_STREAMING_KEY_TYPE = "type.googleapis.com/google.crypto.tink.AesGcmHkdfStreamingKey"


class CiphertextDamaged(Exception):
    """A stored file failed authenticated decryption: its ciphertext was altered, cut short or replaced."""


class DataKeyDestroyed(Exception):
    """The file's data key was destroyed (crypto-shredded); its ciphertext can never be decrypted again."""


@dataclass(frozen=True)
class DataKeyMaterial:
    """An unwrapped data key, held in memory only while a file is encrypted or decrypted."""

    object_id: uuid.UUID
    handle: tink.KeysetHandle

    @classmethod
    def new(cls) -> "DataKeyMaterial":
        return cls(object_id=uuid.uuid4(), handle=tink.new_keyset_handle(STREAMING_TEMPLATE))

    @property
    def associated_data(self) -> bytes:
        return b"evidencemedia/stored-file/" + self.object_id.bytes

    def encrypting_stream(self, destination: BinaryIO) -> SegmentEncryptingWriter:
        """A writable stream that encrypts into `destination` (Tink's format, written by SegmentEncryptingWriter);
        closing it finishes the ciphertext (and leaves `destination` open)."""
        return SegmentEncryptingWriter(destination, key_value=self._key_value(), associated_data=self.associated_data)

    def _key_value(self) -> bytes:
        """The data key's AES-GCM-HKDF streaming key, refused unless it is the keyset's only key and has exactly
        the parameters the writer implements."""
        keyset = tink_pb2.Keyset.FromString(tink.proto_keyset_format.serialize(self.handle, secret_key_access.TOKEN))
        (key,) = keyset.key
        streaming_key = aes_gcm_hkdf_streaming_pb2.AesGcmHkdfStreamingKey.FromString(key.key_data.value)
        if (
            key.key_data.type_url != _STREAMING_KEY_TYPE
            or key.status != tink_pb2.ENABLED
            or key.key_id != keyset.primary_key_id
            or key.output_prefix_type != tink_pb2.RAW
            or streaming_key.params != _STREAMING_PARAMETERS
            or len(streaming_key.key_value) != 32
        ):
            raise ValueError("a data key must be one AES256_GCM_HKDF_1MB streaming key")
        return streaming_key.key_value

    def decrypting_stream(self, source: BinaryIO) -> "DecryptingReader":
        """A readable stream of the plaintext of `source` (closed with it); raises CiphertextDamaged on reading
        any part that fails authentication."""
        primitive = self.handle.primitive(streaming_aead.StreamingAead)
        return DecryptingReader(primitive.new_decrypting_stream(source, self.associated_data))


class DecryptingReader(io.RawIOBase):
    """Tink's decrypting stream, with its authentication failures raised as CiphertextDamaged."""

    def __init__(self, stream: BinaryIO):
        super().__init__()
        self._stream = stream

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        try:
            return self._stream.read(size)
        except tink.TinkError as error:
            raise CiphertextDamaged(f"the ciphertext fails authentication (AEAD tag check): {error}") from None

    def readall(self) -> bytes:
        return self.read(-1)

    def readinto(self, buffer) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        if not self.closed:
            self._stream.close()
        super().close()


def ciphertext_size(plaintext_size: int) -> int:
    """How many bytes `plaintext_size` bytes encrypt to: a stored file of any other size was cut short or padded."""
    first = SEGMENT_SIZE - HEADER_SIZE - TAG_SIZE
    segments = 1 + max(0, -(-(plaintext_size - first) // (SEGMENT_SIZE - TAG_SIZE)))
    return HEADER_SIZE + plaintext_size + TAG_SIZE * segments


def storage_name(*, organisation, sha256: str, suffix: str = "") -> str:
    """The name a file with this SHA-256 is stored under in `organisation`: a keyed hash, never the SHA-256."""
    secret = _name_secret(organisation_key_active(organisation.pk).key_id)
    keyed = hmac.new(secret, bytes.fromhex(sha256), hashlib.sha256).hexdigest()
    return f"{organisation.public_id}/{keyed[:2]}/{keyed[2:4]}/{keyed}{suffix}"


def data_key_register(*, store: str, name: str, organisation_id: int, material: DataKeyMaterial, size: int) -> None:
    """Wrap `material` with the organisation's active key and record it as the key of the file `name`."""
    organisation_key = organisation_key_active(organisation_id)
    wrapped = tink.proto_keyset_format.serialize_encrypted(
        material.handle, _organisation_aead(organisation_key.key_id), _data_key_context(material.object_id)
    )
    DataKey.objects.update_or_create(
        store=store,
        name=name,
        defaults={
            "organisation_id": organisation_id,
            "object_id": material.object_id,
            "wrapped_key": wrapped,
            "wrapped_by": organisation_key,
            "plaintext_size": size,
            "destroyed_at": None,
        },
    )


def data_key_find(*, store: str, name: str) -> DataKey | None:
    """The key row of a stored file; None for a file stored before encryption (see `encrypt_existing`)."""
    return DataKey.objects.filter(store=store, name=name).select_related("wrapped_by").first()


def data_key_unwrap(row: DataKey) -> DataKeyMaterial:
    if row.destroyed:
        raise DataKeyDestroyed(
            f"The data key of {row.store}:{row.name} was destroyed on {row.destroyed_at:%Y-%m-%d %H:%M} UTC."
        )
    handle = tink.proto_keyset_format.parse_encrypted(
        bytes(row.wrapped_key), _organisation_aead(row.wrapped_by.key_id), _data_key_context(row.object_id)
    )
    return DataKeyMaterial(object_id=row.object_id, handle=handle)


def data_key_destroy(*, store: str, name: str) -> DataKey | None:
    """Crypto-shred a stored file: forget its wrapped data key. Returns the row (None if the file had none)."""
    row = DataKey.objects.select_for_update().filter(store=store, name=name).first()
    if row is None or row.destroyed:
        return row
    row.wrapped_key, row.wrapped_by, row.destroyed_at = None, None, timezone.now()
    row.save(update_fields=["wrapped_key", "wrapped_by", "destroyed_at"])
    return row


def organisation_key_active(organisation_id: int) -> OrganisationKey:
    """The organisation's active key, made (with its name secret) the first time the organisation stores a file."""
    key = OrganisationKey.objects.filter(organisation_id=organisation_id, active=True).first()
    if key is not None:
        return key
    from cases.models import Organisation

    public_id = Organisation.objects.values_list("public_id", flat=True).get(pk=organisation_id)
    keyring = _master_keyring_ready()
    master_id, wrapped_key = keyring.wrap(_new_aead_keyset(), context=_organisation_key_context(public_id))
    _, wrapped_secret = keyring.wrap(secrets.token_bytes(32), context=_name_secret_context(public_id))
    try:
        with transaction.atomic():
            return OrganisationKey.objects.create(
                organisation_id=organisation_id,
                wrapped_key=wrapped_key,
                wrapped_name_secret=wrapped_secret,
                master_key_id=master_id,
            )
    except IntegrityError:  # another process made it first; use theirs
        return OrganisationKey.objects.get(organisation_id=organisation_id, active=True)


def organisation_key_rotate(organisation_id: int) -> int:
    """Make a new active key for the organisation, re-wrap every data key with it (the media are not touched) and
    delete the old generations; returns how many data keys were re-wrapped. Each re-wrap is its own transaction,
    so an interrupted rotation is finished by running it again."""
    keyring = _master_keyring_ready()
    with transaction.atomic():
        current = OrganisationKey.objects.select_for_update().get(organisation_id=organisation_id, active=True)
        public_id = current.organisation.public_id
        secret = keyring.unwrap(
            current.master_key_id, bytes(current.wrapped_name_secret), context=_name_secret_context(public_id)
        )
        master_id, wrapped_key = keyring.wrap(_new_aead_keyset(), context=_organisation_key_context(public_id))
        _, wrapped_secret = keyring.wrap(secret, context=_name_secret_context(public_id))
        OrganisationKey.objects.filter(organisation_id=organisation_id, active=True).update(active=False)
        fresh = OrganisationKey.objects.create(
            organisation_id=organisation_id,
            wrapped_key=wrapped_key,
            wrapped_name_secret=wrapped_secret,
            master_key_id=master_id,
        )
    rewrapped = 0
    for pk in (
        DataKey.objects.filter(organisation_id=organisation_id, wrapped_key__isnull=False)
        .exclude(wrapped_by=fresh)
        .values_list("pk", flat=True)
    ):
        with transaction.atomic():
            row = DataKey.objects.select_for_update(of=("self",)).select_related("wrapped_by").filter(pk=pk).first()
            if row is None or row.destroyed or row.wrapped_by_id == fresh.pk:
                continue
            material = data_key_unwrap(row)
            row.wrapped_key = tink.proto_keyset_format.serialize_encrypted(
                material.handle, _organisation_aead(fresh.key_id), _data_key_context(row.object_id)
            )
            row.wrapped_by = fresh
            row.save(update_fields=["wrapped_key", "wrapped_by"])
            rewrapped += 1
    OrganisationKey.objects.filter(organisation_id=organisation_id, active=False).exclude(
        pk__in=DataKey.objects.filter(wrapped_by__isnull=False).values("wrapped_by")
    ).delete()
    return rewrapped


def master_key_rotate() -> tuple[str, int]:
    """Make a new master key, re-wrap every organisation key with it and retire the old master keys; returns the
    new key's id and how many organisation keys were re-wrapped. Interrupted, it is finished by running it again:
    an old master key is retired only once nothing it wrapped is left."""
    keyring = _master_keyring_ready()
    new_id = keyring.create()
    rewrapped = 0
    for pk in OrganisationKey.objects.exclude(master_key_id=new_id).values_list("pk", flat=True):
        with transaction.atomic():
            row = OrganisationKey.objects.select_for_update().select_related("organisation").get(pk=pk)
            public_id = row.organisation.public_id
            key = keyring.unwrap(
                row.master_key_id, bytes(row.wrapped_key), context=_organisation_key_context(public_id)
            )
            secret = keyring.unwrap(
                row.master_key_id, bytes(row.wrapped_name_secret), context=_name_secret_context(public_id)
            )
            row.master_key_id, row.wrapped_key = keyring.wrap(key, context=_organisation_key_context(public_id))
            _, row.wrapped_name_secret = keyring.wrap(secret, context=_name_secret_context(public_id))
            row.save(update_fields=["master_key_id", "wrapped_key", "wrapped_name_secret"])
            rewrapped += 1
    in_use = set(OrganisationKey.objects.values_list("master_key_id", flat=True))
    for key_id in keyring.key_ids():
        if key_id != new_id and key_id not in in_use:
            keyring.retire(key_id)
    return new_id, rewrapped


def master_key_ensure() -> str:
    """The active master key's id, made now on a fresh installation (one that holds no organisation key yet)."""
    return _master_keyring_ready().active_key_id()


def _master_keyring_ready():
    keyring = master_keyring()
    if not keyring.present():
        if OrganisationKey.objects.exists():
            raise MasterKeyMissing(
                "Organisation keys are stored but the master key is missing: restore the keys directory from its "
                "backup (without it the evidence cannot be decrypted)."
            )
        keyring.create()
    return keyring


def _new_aead_keyset() -> bytes:
    handle = tink.new_keyset_handle(aead.aead_key_templates.AES256_GCM)
    return tink.proto_keyset_format.serialize(handle, secret_key_access.TOKEN)


@lru_cache(maxsize=256)
def _organisation_aead(key_id: uuid.UUID) -> aead.Aead:
    row = OrganisationKey.objects.select_related("organisation").get(key_id=key_id)
    keyset = master_keyring().unwrap(
        row.master_key_id, bytes(row.wrapped_key), context=_organisation_key_context(row.organisation.public_id)
    )
    return tink.proto_keyset_format.parse(keyset, secret_key_access.TOKEN).primitive(aead.Aead)


@lru_cache(maxsize=256)
def _name_secret(key_id: uuid.UUID) -> bytes:
    # Cached by the key's id, never the organisation's: a key made in a transaction that was rolled back is never
    # looked up again, and a rotation copies the secret into the new generation, so names do not change.
    row = OrganisationKey.objects.select_related("organisation").get(key_id=key_id)
    return master_keyring().unwrap(
        row.master_key_id, bytes(row.wrapped_name_secret), context=_name_secret_context(row.organisation.public_id)
    )


def _organisation_key_context(public_id: uuid.UUID) -> bytes:
    return b"evidencemedia/organisation-key/" + public_id.bytes


def _name_secret_context(public_id: uuid.UUID) -> bytes:
    return b"evidencemedia/organisation-name-secret/" + public_id.bytes


def _data_key_context(object_id: uuid.UUID) -> bytes:
    return b"evidencemedia/data-key/" + object_id.bytes
