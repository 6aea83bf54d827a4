"""One read of an analysed file for everything that needs all of its bytes or its first ones.

The first bytes (as many as libmagic looks at) are read at once, for libmagic and the container sniff; a worker
then reads the rest, feeding every byte through SHA-256 and through the search for traces of C2PA data, so the
C2PA reader only runs on files where a manifest can be. The structure walkers read just the parts they walk.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

# libmagic's default bytes_max (MAGIC_PARAM_BYTES_MAX): what it reads of a file to identify it.
HEAD_BYTES = 7 << 20
_CHUNK = 1 << 20
# Every way C2PA data can sit in a file holds a JUMBF superbox ("jumb": JPEG APP11, PNG caBX, the ISO-BMFF C2PA
# uuid box, the RIFF C2PA chunk, a sidecar); a manifest kept only at a URL is named by an XMP dcterms:provenance.
C2PA_TRACES = (b"jumb", b"dcterms:provenance")
_OVERLAP = max(len(trace) for trace in C2PA_TRACES) - 1


@dataclass(frozen=True)
class FileDigest:
    """What the pass over every byte found: the SHA-256 and whether any trace of C2PA data is in the file."""

    sha256: str
    c2pa_trace: bool


class FilePass:
    """Opens the file and reads its head; `finish()` reads the rest once and closes it."""

    def __init__(self, path: str | Path) -> None:
        self._handle: BinaryIO = Path(path).open("rb")  # noqa: SIM115 - closed by finish(), in another thread
        self.head = self._handle.read(HEAD_BYTES)

    def finish(self) -> FileDigest:
        with self._handle:
            digest = hashlib.sha256(self.head)
            found = _has_trace(self.head)
            tail = self.head[-_OVERLAP:]
            while chunk := self._handle.read(_CHUNK):
                digest.update(chunk)
                if not found:
                    found = _has_trace(tail + chunk[:_OVERLAP]) or _has_trace(chunk)
                    tail = chunk[-_OVERLAP:]
        return FileDigest(sha256=digest.hexdigest(), c2pa_trace=found)


def _has_trace(data: bytes) -> bool:
    return any(trace in data for trace in C2PA_TRACES)
