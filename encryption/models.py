"""The wrapped keys of the envelope: each organisation's key (wrapped by the master key, which is never in the
database) and the data key of every stored file (wrapped by its organisation's key).

A data key row whose `wrapped_key` is empty has been destroyed (crypto-shredding): the ciphertext it protected,
wherever a copy of it survives, can no longer be decrypted.
"""

import uuid

from django.db import models


class OrganisationKey(models.Model):
    """One generation of an organisation's key. The active one wraps new data keys; a rotation makes a new active
    key, re-wraps every data key with it and deletes the old generation."""

    organisation = models.ForeignKey("cases.Organisation", on_delete=models.PROTECT, related_name="+")
    key_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    # A Tink AEAD keyset (AES-256-GCM), encrypted by the master key named beside it.
    wrapped_key = models.BinaryField()
    # The secret of the keyed hash that names the organisation's stored files (HMAC-SHA256), encrypted by the same
    # master key. It never changes: rotating it would rename every stored file.
    wrapped_name_secret = models.BinaryField()
    master_key_id = models.CharField(max_length=64)
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organisation"], condition=models.Q(active=True), name="one_active_key_per_organisation"
            )
        ]

    def __str__(self) -> str:
        return f"{self.organisation_id}/{self.key_id}{' (active)' if self.active else ''}"


class DataKey(models.Model):
    """The key of one stored file: a Tink streaming-AEAD keyset (AES-256-GCM-HKDF, 1 MiB segments), encrypted by
    the organisation key that wraps it. Identical bytes received twice in an organisation share one file, and so
    one data key."""

    organisation = models.ForeignKey("cases.Organisation", on_delete=models.PROTECT, related_name="+")
    store = models.CharField(max_length=20)
    name = models.CharField(max_length=255)
    # Bound into the ciphertext as associated data, so a file moved under another row's name does not decrypt.
    object_id = models.UUIDField(default=uuid.uuid4, unique=True)
    wrapped_key = models.BinaryField(null=True)
    wrapped_by = models.ForeignKey(OrganisationKey, null=True, on_delete=models.PROTECT, related_name="data_keys")
    plaintext_size = models.PositiveBigIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)
    destroyed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["store", "name"], name="one_data_key_per_stored_file")]

    def __str__(self) -> str:
        return f"{self.store}:{self.name}{' (destroyed)' if self.destroyed_at else ''}"

    @property
    def destroyed(self) -> bool:
        return self.wrapped_key is None
