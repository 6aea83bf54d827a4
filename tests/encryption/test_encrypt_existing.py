"""`manage.py encrypt_existing`: files stored in the clear before encryption are verified, encrypted under their
keyed names and only then removed; interrupted, it loses nothing and a second run finishes the work."""

import hashlib
import os
import shutil
from io import StringIO
from pathlib import Path

import pytest
from django.core.files.storage import storages
from django.core.management import CommandError, call_command

from cases.models import EvidenceItem
from encryption.models import DataKey


def _as_stored_before_encryption(item: EvidenceItem) -> Path:
    """Turn an item's media back into what an installation before encryption held: plaintext under its SHA-256."""
    storage = storages["evidence"]
    with storage.open(item.storage_key, "rb") as stored:
        plaintext = stored.read()
    legacy_name = f"{item.case.organisation.public_id}/{item.sha256[:2]}/{item.sha256[2:4]}/{item.sha256}"
    legacy = Path(storage.path(legacy_name))
    legacy.parent.mkdir(parents=True, exist_ok=True)
    legacy.write_bytes(plaintext)
    os.unlink(storage.path(item.storage_key))
    DataKey.objects.filter(store="evidence", name=item.storage_key).delete()
    EvidenceItem.objects.filter(storage_key=item.storage_key).update(storage_key=legacy_name)
    return legacy


def _run(*args) -> str:
    out = StringIO()
    call_command("encrypt_existing", *args, stdout=out)
    return out.getvalue()


def test_existing_plaintext_is_encrypted_verified_and_removed_and_an_interruption_loses_nothing(alpha, analysed):
    # Given two items stored in the clear, as before encryption
    first = analysed(alpha.case, alpha.investigator)
    second = analysed(alpha.case, alpha.investigator, colour=(0, 90, 200))
    legacy = [_as_stored_before_encryption(first), _as_stored_before_encryption(second)]
    plaintexts = [path.read_bytes() for path in legacy]

    # When the migration is stopped after one file, then run again
    assert "1 encrypted" in _run("--limit", "1")
    assert sum(path.exists() for path in legacy) == 1
    assert "1 encrypted" in _run()
    assert "nothing to do" in _run()

    # Then both are encrypted under keyed names, verified, and the plaintext is gone
    for item, plaintext, path in zip((first, second), plaintexts, legacy, strict=True):
        item.refresh_from_db()
        assert not path.exists()
        assert item.sha256 not in item.storage_key
        assert DataKey.objects.filter(store="evidence", name=item.storage_key, wrapped_key__isnull=False).exists()
        stored = Path(storages["evidence"].path(item.storage_key)).read_bytes()
        assert plaintext[:256] not in stored
        with storages["evidence"].open(item.storage_key, "rb") as readable:
            assert hashlib.sha256(readable.read()).hexdigest() == item.sha256


def test_plaintext_left_by_a_run_stopped_after_its_commit_is_removed_next_time(alpha, analysed):
    item = analysed(alpha.case, alpha.investigator)
    legacy = _as_stored_before_encryption(item)
    kept = legacy.read_bytes()
    _run()
    # A run killed between its commit and the removal of the plaintext leaves the file behind
    legacy.parent.mkdir(parents=True, exist_ok=True)
    legacy.write_bytes(kept)

    assert "1 removed" in _run()
    assert not legacy.exists()


def test_a_damaged_plaintext_file_is_left_in_place_and_reported(alpha, analysed):
    item = analysed(alpha.case, alpha.investigator)
    legacy = _as_stored_before_encryption(item)
    damaged = bytearray(legacy.read_bytes())
    damaged[len(damaged) // 2] ^= 0xFF
    legacy.write_bytes(bytes(damaged))

    with pytest.raises(CommandError):
        _run()

    assert legacy.read_bytes() == bytes(damaged)
    item.refresh_from_db()
    assert item.storage_key.endswith(item.sha256)


def test_plaintext_previews_are_removed_to_be_remade_encrypted(alpha, analysed, client):
    item = analysed(alpha.case, alpha.investigator)
    preview = Path(storages["derived"].path(f"{item.case.organisation.public_id}/aa/bb/{item.sha256}-preview.jpg"))
    preview.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(Path(storages["evidence"].path(item.storage_key)), preview)

    assert "1 removed" in _run()
    assert not preview.exists()
