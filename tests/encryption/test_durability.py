"""A received file is on disk, and so is its place in storage, before the transaction that records its receipt
ends: a power cut after the custody entry is committed cannot take the bytes that entry vouches for. A large upload
is written through while it arrives, so that wait is for its last few MiB."""

import errno
import os
import threading
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.storage import storages

from cases import services, upload
from cases.exceptions import UploadTooLarge
from cases.upload import ReceivedFile, receive_stream

from ..conftest import jpeg_bytes, received

MIB = 1024 * 1024


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


def _spool_path(descriptor: int) -> str:
    return os.readlink(f"/proc/self/fd/{descriptor}")


def test_a_large_upload_is_written_through_to_disk_while_it_arrives(monkeypatch):
    # Given a flush every MiB, and fdatasync/posix_fadvise calls recorded
    monkeypatch.setattr(upload, "FLUSH_EVERY", MIB)
    calls = []
    real_fdatasync, real_fadvise = os.fdatasync, os.posix_fadvise
    monkeypatch.setattr(os, "fdatasync", lambda fd: (calls.append(("sync", _spool_path(fd))), real_fdatasync(fd)))

    def recording_fadvise(fd, offset, length, advice):
        calls.append(("drop", offset, length, advice))
        return real_fadvise(fd, offset, length, advice)

    monkeypatch.setattr(os, "posix_fadvise", recording_fadvise)

    # When 5 MiB arrive in 64 KiB chunks, the rest only once the first MiB was synced (on a loaded machine the
    # flushing thread may otherwise not run before the last chunk arrives, and the receipt's own fsync does it all)
    data = os.urandom(5 * MIB)

    def arriving():
        for start in range(0, len(data), 65536):
            yield data[start : start + 65536]
            if start + 65536 == MIB:
                deadline = time.monotonic() + 30
                while not any(call[0] == "sync" for call in calls) and time.monotonic() < deadline:
                    time.sleep(0.01)

    spooled = receive_stream(arriving(), original_name="big.bin")

    # Then the spool was synced in the background before the end, each synced range then dropped from the cache,
    # the ranges following one another from the start
    syncs = [call for call in calls if call[0] == "sync"]
    drops = [call for call in calls if call[0] == "drop"]
    assert syncs and {path for _sync, path in syncs} == {spooled.sealed_spool.path}
    assert drops and all(advice == os.POSIX_FADV_DONTNEED for *_range, advice in drops)
    assert [offset for _drop, offset, _length, _advice in drops][0] == 0
    for (_a, offset, length, _b), (_c, following, _d, _e) in zip(drops, drops[1:], strict=False):
        assert offset + length == following
    assert drops[-1][1] + drops[-1][2] <= os.path.getsize(spooled.sealed_spool.path)
    # ... and what was received is intact
    with spooled.sealed_spool.material.decrypting_stream(open(spooled.sealed_spool.path, "rb")) as plaintext:
        assert plaintext.read() == data
    spooled.close()


def test_a_failed_background_flush_fails_the_receipt_and_discards_the_spool(monkeypatch):
    # Given a disk that fails write-back (Linux reports such an error to one fsync only, so a later fsync of the
    # same file could succeed with the bytes lost)
    monkeypatch.setattr(upload, "FLUSH_EVERY", MIB)

    def failing_fdatasync(descriptor):
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(os, "fdatasync", failing_fdatasync)
    spools_before = set(Path(settings.FILE_UPLOAD_TEMP_DIR).iterdir())

    # When 3 MiB arrive, and the flush in the background has failed before the last byte
    receiving = ReceivedFile(original_name="big.bin", declared_type="", limit=10 * MIB)
    for _ in range(3):
        receiving.append(os.urandom(MIB))
    receiving._flusher._thread.join(timeout=10)

    # Then the receipt is refused with the error, and no spool is left behind
    with pytest.raises(OSError, match="Input/output error"):
        receiving.finish()
    assert set(Path(settings.FILE_UPLOAD_TEMP_DIR).iterdir()) == spools_before


def test_an_upload_refused_for_its_size_leaves_no_flushing_thread(monkeypatch, settings):
    monkeypatch.setattr(upload, "FLUSH_EVERY", MIB)
    settings.EVIDENCE_MAX_UPLOAD_BYTES = 3 * MIB
    with pytest.raises(UploadTooLarge):
        receive_stream([os.urandom(MIB) for _ in range(5)], original_name="big.bin")
    assert not [thread for thread in threading.enumerate() if thread.name == "spool-flush"]


def test_a_spool_discarded_before_its_end_is_not_finished_into_its_closed_file(monkeypatch):
    # Given writes into the spool after it is closed, recorded
    receiving = ReceivedFile(original_name="cut.bin", declared_type="", limit=10 * MIB)
    receiving.append(os.urandom(1000))
    late_writes = []
    monkeypatch.setattr(receiving.file, "write", lambda data: late_writes.append(len(data)) or len(data))

    # When the file being received is closed before its end (a refused or broken upload), and its encrypting
    # stream is then closed as collection would close it
    receiving.close()
    receiving._encrypting.close()

    # Then its stream was discarded with it: no last segment was written into the closed spool
    assert receiving._encrypting.closed and late_writes == []
