"""A filesystem store whose files are encrypted at rest, behind Django's storage API.

`save` encrypts with a new data key (or moves in an upload spool that was encrypted as it arrived), `open` returns
a decrypting stream, `delete` removes the file and destroys its data key. A file stored before encryption was
turned on (no data key row) is still read as it is, until `manage.py encrypt_existing` has encrypted it.
The first part of every name is the owning organisation's public id, which says whose key wraps the data key.
"""

import os
import tempfile
import uuid

from django.core.files import File
from django.core.files.storage import FileSystemStorage

from cases.upload import CHUNK_SIZE

from .hierarchy import (
    CiphertextDamaged,
    DataKeyMaterial,
    ciphertext_size,
    data_key_destroy,
    data_key_find,
    data_key_register,
    data_key_unwrap,
)


class EncryptedFileSystemStorage(FileSystemStorage):
    def __init__(self, *, store: str, **options):
        super().__init__(**options)
        self.store = store

    def _open(self, name: str, mode: str = "rb") -> File:
        if "w" in mode or "a" in mode or "+" in mode:
            raise ValueError("Encrypted stores are written with save(), never opened for writing.")
        row = data_key_find(store=self.store, name=name)
        if row is None:
            return super()._open(name, mode)
        material = data_key_unwrap(row)
        ciphertext = open(self.path(name), "rb")  # noqa: SIM115 closed with the stream
        found, expected = os.fstat(ciphertext.fileno()).st_size, ciphertext_size(row.plaintext_size)
        if found != expected:
            ciphertext.close()
            raise CiphertextDamaged(
                f"the stored ciphertext has {found} bytes, not the {expected} that {row.plaintext_size} bytes "
                "encrypt to (cut short or added to)"
            )
        stream = material.decrypting_stream(ciphertext)
        stored = File(stream, name)
        stored.size = row.plaintext_size
        return stored

    def _save(self, name: str, content) -> str:
        organisation_id = _organisation_id(name)
        full_path = self.path(name)
        directory = os.path.dirname(full_path)
        os.makedirs(directory, mode=self.directory_permissions_mode or 0o750, exist_ok=True)
        sealed = getattr(content, "sealed_spool", None)
        if sealed is not None:
            # Encrypted while it was received: storing it is a rename, as before encryption.
            material, size = sealed.material, sealed.size
            os.replace(sealed.path, full_path)
        else:
            material, size = DataKeyMaterial.new(), 0
            descriptor, partial = tempfile.mkstemp(dir=directory, prefix=".saving-")
            try:
                with os.fdopen(descriptor, "wb") as ciphertext:
                    with material.encrypting_stream(ciphertext) as encrypting:
                        for chunk in content.chunks(CHUNK_SIZE):
                            encrypting.write(chunk)
                            size += len(chunk)
                    ciphertext.flush()
                    os.fsync(ciphertext.fileno())
                os.replace(partial, full_path)
            except BaseException:
                if os.path.exists(partial):
                    os.unlink(partial)
                raise
        if self.file_permissions_mode is not None:
            os.chmod(full_path, self.file_permissions_mode)
        _fsync_directory(directory)  # the rename itself, or a power cut could undo it after the receipt is recorded
        data_key_register(store=self.store, name=name, organisation_id=organisation_id, material=material, size=size)
        return name

    def delete(self, name: str) -> None:
        """Remove the file and destroy its data key, so that no surviving copy of the ciphertext can be read."""
        data_key_destroy(store=self.store, name=name)
        super().delete(name)

    def size(self, name: str) -> int:
        row = data_key_find(store=self.store, name=name)
        return super().size(name) if row is None else row.plaintext_size

    def encrypted(self, name: str) -> bool:
        """Is the stored file `name` encrypted (rather than left from before encryption was turned on)?"""
        return data_key_find(store=self.store, name=name) is not None


def _fsync_directory(directory: str) -> None:
    descriptor = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _organisation_id(name: str) -> int:
    from cases.models import Organisation

    public_id = uuid.UUID(name.split("/", 1)[0])
    return Organisation.objects.values_list("pk", flat=True).get(public_id=public_id)
