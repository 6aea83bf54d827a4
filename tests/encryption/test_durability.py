"""A received file is on disk, and so is its place in storage, before the transaction that records its receipt
ends: a power cut after the custody entry is committed cannot take the bytes that entry vouches for."""

import os
from pathlib import Path

from django.core.files.storage import storages

from cases import services

from ..conftest import jpeg_bytes, received


def test_the_ciphertext_and_its_directory_are_synced_when_a_file_is_received_and_stored(alpha, monkeypatch):
    # Given fsync calls recorded by what they sync
    synced = []
    real_fsync = os.fsync

    def recording_fsync(descriptor):
        synced.append(os.readlink(f"/proc/self/fd/{descriptor}"))
        return real_fsync(descriptor)

    monkeypatch.setattr(os, "fsync", recording_fsync)

    # When a file is received (the spool is complete) and then stored (inside evidence_receive's transaction)
    upload = received(jpeg_bytes())
    synced_when_received = list(synced)
    item = services.evidence_receive(case=alpha.case, received=upload, actor=alpha.investigator).item

    # Then the spool was synced before receiving returned, and the stored file's directory after its rename
    assert synced_when_received == [upload.sealed_spool.path]
    assert str(Path(storages["evidence"].path(item.storage_key)).parent) in synced[1:]
