"""Receiving evidence bytes: one streaming pass that spools to disk and computes SHA-256, SHA-1 and MD5.

Used by the HTTP upload handler and by the `ingest` command alike, so both paths hash and limit identically and
memory stays flat whatever the file size.
"""

import contextlib
import hashlib
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.core.files.uploadhandler import FileUploadHandler, StopUpload

from .exceptions import NoFileGiven, UploadTooLarge

DIGEST_ALGORITHMS = ("sha256", "sha1", "md5")
CHUNK_SIZE = 1024 * 1024


class ReceivedFile(UploadedFile):
    """Bytes spooled to a temporary file under the data directory, with their digests computed on the way in."""

    def __init__(self, *, original_name: str, declared_type: str, limit: int):
        # Closed (and so deleted) by `close`, by Django at the end of the request, or when moved into storage.
        spool = tempfile.NamedTemporaryFile(  # noqa: SIM115
            dir=settings.FILE_UPLOAD_TEMP_DIR, prefix="receiving-", suffix=".part"
        )
        super().__init__(spool, name="received", content_type=declared_type, size=0)
        self.original_name = original_name
        self.limit = limit
        self._hashers = {name: hashlib.new(name) for name in DIGEST_ALGORITHMS}
        self.digests: dict[str, str] = {}

    def append(self, chunk: bytes) -> None:
        if self.size + len(chunk) > self.limit:
            self.close()
            raise UploadTooLarge(self.limit)
        self.file.write(chunk)
        for hasher in self._hashers.values():
            hasher.update(chunk)
        self.size += len(chunk)

    def finish(self) -> "ReceivedFile":
        self.file.flush()
        self.file.seek(0)
        self.digests = {name: hasher.hexdigest() for name, hasher in self._hashers.items()}
        return self

    def temporary_file_path(self) -> str:
        return self.file.name

    def close(self) -> None:
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


class HashingUploadHandler(FileUploadHandler):
    """Django upload handler: every file part of a request becomes a ReceivedFile, refused past the size limit."""

    chunk_size = CHUNK_SIZE

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
        raise NoFileGiven()
    return files
