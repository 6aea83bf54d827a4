"""Crypto-shredding: deleting an item's media destroys its data key, so a copy of the ciphertext taken before the
deletion (a backup, a snapshot, a bucket version) can never be read again; a legal hold prevents it."""

import shutil
from pathlib import Path

import pytest
from django.core.files.storage import storages

from cases import services
from cases.exceptions import MediaDeletionRefused
from custody.models import CustodyEvent
from encryption.hierarchy import DataKeyDestroyed, DataKeyMaterial, data_key_find, data_key_unwrap
from encryption.models import DataKey


def test_a_shredded_item_cannot_be_decrypted_from_a_copy_of_its_ciphertext_taken_before(alpha, analysed, tmp_path):
    # Given analysed media and a copy of its ciphertext taken before deletion (a backup)
    item = analysed(alpha.case, alpha.investigator)
    stored = Path(storages["evidence"].path(item.storage_key))
    backup = tmp_path / "backup-copy"
    shutil.copyfile(stored, backup)
    before = data_key_find(store="evidence", name=item.storage_key)
    material = data_key_unwrap(before)
    with material.decrypting_stream(backup.open("rb")) as readable:
        assert readable.read()  # the backup is readable while the key lives

    # When retention (or a person) deletes the media
    services.evidence_media_delete(item=item, reason="retention test", system="retention schedule")

    # Then the tombstone records the key's destruction, and the row keeps nothing of the key
    tombstone = CustodyEvent.objects.get(evidence=item, action="media.deleted")
    assert tombstone.details["data_key"] == {"id": str(before.object_id), "destroyed": True}
    after = DataKey.objects.get(pk=before.pk)
    assert after.wrapped_key is None and after.destroyed_at is not None
    assert not stored.exists()

    # And the ciphertext copy put back where it was is unreadable through the system
    stored.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(backup, stored)
    with pytest.raises(DataKeyDestroyed):
        storages["evidence"].open(item.storage_key, "rb")
    # Nor does any key the installation still holds open it
    for row in DataKey.objects.filter(wrapped_key__isnull=False):
        with pytest.raises(Exception):  # noqa: B017, PT011 Tink's own error: no key matches the ciphertext
            data_key_unwrap(row).decrypting_stream(backup.open("rb")).read()
    with pytest.raises(Exception):  # noqa: B017, PT011
        DataKeyMaterial.new().decrypting_stream(backup.open("rb")).read()


def test_legal_hold_prevents_shredding(alpha, analysed):
    item = analysed(alpha.case, alpha.investigator)
    services.case_legal_hold_set(case=alpha.case, hold=True, reason="court order", actor=alpha.supervisor)

    with pytest.raises(MediaDeletionRefused):
        services.evidence_media_delete(item=item, reason="retention test", system="retention schedule")

    row = data_key_find(store="evidence", name=item.storage_key)
    assert row.wrapped_key is not None
    with storages["evidence"].open(item.storage_key, "rb") as stored:
        assert stored.read()


def test_identical_bytes_still_held_by_another_item_keep_their_key_until_the_last_goes(alpha, analysed):
    first = analysed(alpha.case, alpha.investigator)
    second = analysed(alpha.case, alpha.investigator)
    assert first.storage_key == second.storage_key

    services.evidence_media_delete(item=first, reason="by hand", actor=alpha.supervisor)
    tombstone = CustodyEvent.objects.get(evidence=first, action="media.deleted")
    assert tombstone.details["data_key"]["destroyed"] is False
    with storages["evidence"].open(second.storage_key, "rb") as stored:
        assert stored.read()

    services.evidence_media_delete(item=second, reason="by hand", actor=alpha.supervisor)
    assert CustodyEvent.objects.get(evidence=second, action="media.deleted").details["data_key"]["destroyed"]
    assert data_key_find(store="evidence", name=second.storage_key).destroyed
