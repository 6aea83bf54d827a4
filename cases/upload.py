"""Receiving evidence bytes: one streaming pass that encrypts them into a spool file while SHA-256, SHA-1 and MD5
are computed, each in its own thread (hashlib releases the GIL on large buffers), so the slowest digest sets the
pace rather than their sum.

Used by the HTTP upload handler and by the `ingest` command alike, so both paths hash, encrypt and limit
identically. Memory stays flat whatever the file size: each digest thread is handed at most a few chunks ahead,
and only the first bytes are kept in memory, for libmagic.
"""

import contextlib
import hashlib
import os
import queue
import tempfile
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from django.http.multipartparser import MultiPartParser

from encryption.hierarchy import DataKeyMaterial

from .exceptions import NoFileGiven, UploadTooLarge

DIGEST_ALGORITHMS = ("sha256", "sha1", "md5")
CHUNK_SIZE = 1024 * 1024
# What libmagic reads of a file by default (its bytes_max, 7 MiB since file 5.41), kept from the stream so the type
# is read, exactly as from the file, without the plaintext ever being on disk.
HEAD_SIZE = 7 * 1024 * 1024
# Chunks a digest thread may fall behind before the receiver waits for it: bounds memory at a few MiB.
DIGEST_BACKLOG = 4
# Ciphertext written through to disk while the upload still arrives, this much at a time (SpoolFlusher).
FLUSH_EVERY = 32 * 1024 * 1024


class ParallelDigests:
    """SHA-256, SHA-1 and MD5 of a stream, each computed in its own thread from the same chunks."""

    def __init__(self, algorithms: Iterable[str] = DIGEST_ALGORITHMS):
        self._hashers = {name: hashlib.new(name) for name in algorithms}
        self._queues = {name: queue.Queue(maxsize=DIGEST_BACKLOG) for name in self._hashers}
        self._threads = [
            threading.Thread(target=self._digest, args=(name,), name=f"digest-{name}", daemon=True)
            for name in self._hashers
        ]
        for thread in self._threads:
            thread.start()

    def _digest(self, name: str) -> None:
        hasher, chunks = self._hashers[name], self._queues[name]
        while (chunk := chunks.get()) is not None:
            hasher.update(chunk)

    def update(self, chunk: bytes) -> None:
        for chunks in self._queues.values():
            chunks.put(chunk)

    def hexdigests(self) -> dict[str, str]:
        """Wait for every thread to finish its chunks; the digests, by algorithm."""
        self.stop()
        return {name: hasher.hexdigest() for name, hasher in self._hashers.items()}

    def stop(self) -> None:
        if self._threads:
            for chunks in self._queues.values():
                chunks.put(None)
            for thread in self._threads:
                thread.join()
            self._threads = []


class SpoolFlusher:
    """Writes a spool's ciphertext through to disk in the background while the rest still arrives, so that the
    fsync before the receipt waits for the last few MiB instead of the whole file (1 GiB takes seconds to reach
    a disk), and lets the page cache drop what is on disk: a large upload would otherwise fill it with pages that
    nothing reads soon, and a file under FLUSH_EVERY is never flushed early nor dropped.

    A failed flush is kept and raised by `finish`: after a write-back error Linux reports it to one fsync only, so a
    later fsync could succeed with the bytes lost."""

    def __init__(self, descriptor: int):
        self._descriptor = descriptor
        self._changed = threading.Condition()
        self._requested = self._flushed = 0
        self._stopping = False
        self._error: OSError | None = None
        self._thread = threading.Thread(target=self._run, name="spool-flush", daemon=True)
        self._thread.start()

    def request(self, upto: int) -> None:
        """Flush (in the background) everything written before offset `upto`."""
        with self._changed:
            self._requested = upto
            self._changed.notify()

    def finish(self) -> None:
        """Stop, once the flush under way is done; raise the error a flush met, if any."""
        self.stop()
        if self._error is not None:
            raise self._error

    def stop(self) -> None:
        with self._changed:
            self._stopping = True
            self._changed.notify()
        self._thread.join()

    def _run(self) -> None:
        while True:
            with self._changed:
                self._changed.wait_for(lambda: self._stopping or self._requested > self._flushed)
                if self._stopping:
                    return
                upto = self._requested
            try:
                os.fdatasync(self._descriptor)
                os.posix_fadvise(self._descriptor, self._flushed, upto - self._flushed, os.POSIX_FADV_DONTNEED)
            except OSError as error:
                self._error = error
                return
            self._flushed = upto


@dataclass(frozen=True)
class SealedSpool:
    """An upload encrypted as it arrived: where its ciphertext is and the data key that opens it."""

    path: str
    material: DataKeyMaterial
    size: int


class ReceivedFile(UploadedFile):
    """Bytes encrypted into a spool file under the data directory, with their digests computed on the way in.

    The spool holds ciphertext only, under a data key that lives in memory until the file is stored (then it is
    wrapped by the organisation's key): a spool left behind by a crash can never be read.
    """

    def __init__(self, *, original_name: str, declared_type: str, limit: int):
        # Closed (and so deleted) by `close`, by Django at the end of the request, or when moved into storage.
        spool = tempfile.NamedTemporaryFile(  # noqa: SIM115
            dir=settings.FILE_UPLOAD_TEMP_DIR, prefix="receiving-", suffix=".part", buffering=0
        )
        super().__init__(spool, name="received", content_type=declared_type, size=0)
        self.original_name = original_name
        self.limit = limit
        self.head = b""
        self._head_parts: list[bytes] = []
        self._head_size = 0
        self.digests: dict[str, str] = {}
        self.sealed_spool: SealedSpool | None = None
        self._material = DataKeyMaterial.new()
        self._encrypting = self._material.encrypting_stream(spool)
        self._digests = ParallelDigests()
        self._flusher = SpoolFlusher(spool.fileno())

    def append(self, chunk: bytes) -> None:
        if self.size + len(chunk) > self.limit:
            self.close()
            raise UploadTooLarge(self.limit)
        self._digests.update(chunk)
        if self._head_size < HEAD_SIZE:
            part = chunk[: HEAD_SIZE - self._head_size]
            self._head_parts.append(part)
            self._head_size += len(part)
        self._encrypting.write(chunk)
        if (self.size + len(chunk)) // FLUSH_EVERY > self.size // FLUSH_EVERY:
            self._flusher.request(self.file.tell())  # unbuffered: every byte written is the kernel's
        self.size += len(chunk)

    def finish(self) -> "ReceivedFile":
        try:
            self._encrypting.close()
            self._flusher.finish()
            # On disk before anything records the receipt: storing it is a rename, and a receipt whose bytes a
            # power cut could still take would prove nothing. (The digest threads finish meanwhile.)
            os.fsync(self.file.fileno())
        except BaseException:
            self.close()  # nothing to vouch for: the spool goes
            raise
        self.digests = self._digests.hexdigests()
        self.head, self._head_parts = b"".join(self._head_parts), []
        self.sealed_spool = SealedSpool(path=self.file.name, material=self._material, size=self.size)
        return self

    def chunks(self, chunk_size: int | None = None):
        raise TypeError("A received file is stored through its sealed spool, never read back as plaintext.")

    def close(self) -> None:
        self._digests.stop()
        self._flusher.stop()
        self._encrypting.discard()  # a no-op once finish has closed it
        # Once storage has moved the spool file into place there is nothing left to delete.
        with contextlib.suppress(FileNotFoundError):
            self.file.close()


def receive_stream(chunks: Iterable[bytes], *, original_name: str, declared_type: str = "") -> ReceivedFile:
    received = ReceivedFile(
        original_name=original_name, declared_type=declared_type, limit=settings.EVIDENCE_MAX_UPLOAD_BYTES
    )
    for chunk in chunks:
        received.append(chunk)
    return received.finish()


def receive_path(path: Path) -> ReceivedFile:
    """Spool a file from local disk (bulk import) exactly as an upload would be received."""
    # O_NOFOLLOW: a symlink swapped in after the caller looked at the path is refused, not followed.
    with os.fdopen(os.open(path, os.O_RDONLY | os.O_NOFOLLOW), "rb") as source:
        return receive_stream(iter(lambda: source.read(CHUNK_SIZE), b""), original_name=path.name)


class ClientNameMultiPartParser(MultiPartParser):
    """Django's multipart parser, except that a file part's name reaches the upload handler exactly as the client
    sent it. Django keeps only what follows the last slash or backslash, unescapes HTML entities and drops
    unprintable characters, so `<script>alert(1)</script>.jpg` would arrive as `script>.jpg`: the name is
    evidence, and it is only ever stored as data (cases/filenames.py) and escaped on display, never used as a path.
    An empty name still means "no file chosen"."""

    def sanitize_file_name(self, file_name):
        return file_name or None


class HashingUploadHandler(FileUploadHandler):
    """Django upload handler: every file part of a request becomes a ReceivedFile, refused past the size limit.

    It parses the multipart body itself, with ClientNameMultiPartParser (Django lets the first handler take over
    the parse), so the original file names survive; the parse then calls this same handler for every file."""

    chunk_size = CHUNK_SIZE
    parsing = False

    def handle_raw_input(self, input_data, META, content_length, boundary, encoding=None):
        if self.parsing:
            return None  # the parse below is under way: Django goes on with its own loop, calling new_file etc.
        self.parsing = True
        try:
            return ClientNameMultiPartParser(META, input_data, [self], encoding).parse()
        finally:
            self.parsing = False

    def new_file(self, *args, **kwargs) -> None:
        super().new_file(*args, **kwargs)
        self.received = ReceivedFile(
            original_name=self.file_name,
            declared_type=self.content_type or "",
            limit=settings.EVIDENCE_MAX_UPLOAD_BYTES,
        )

    def receive_data_chunk(self, raw_data: bytes, start: int) -> None:
        try:
            self.received.append(raw_data)
        except UploadTooLarge as refusal:
            # Raised here the refusal would surface as a 500 from whichever middleware first reads the body;
            # stopping the parse and leaving the refusal on the request lets the view answer 413.
            self.request.evidence_refusal = refusal
            raise StopUpload(connection_reset=True) from refusal

    def file_complete(self, file_size: int) -> ReceivedFile:
        return self.received.finish()

    def upload_interrupted(self) -> None:
        self.received.close()


def uploaded_files(request, field_name: str = "files") -> list[ReceivedFile]:
    """The files of an upload request, or the refusal the handler recorded (then every spool is discarded)."""
    files = request.FILES.getlist(field_name)
    refusal = getattr(request, "evidence_refusal", None)
    if refusal is not None:
        for received in files:
            received.close()
        raise refusal
    if not files:
        raise NoFileGiven(field_name, tuple(sorted(request.FILES)))
    return files
