"""Plaintext only where a tool needs a path: private temporary copies of stored files, and their sweep.

ExifTool, MediaInfo, c2pa, ffprobe and the preview decoders read a path, not a stream. Each gets a copy decrypted
into `PLAINTEXT_TEMP_DIR` (mode 0700; a tmpfs where one is configured), created 0600 and removed when the tool
finishes. Every copy's name starts with the process that made it (pid and start time), so a worker that died
mid-analysis leaves a file whose owner is visibly gone: `plaintext_sweep` removes those, at every worker start
and with the minutely analysis sweep.
"""

import contextlib
import logging
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from django.conf import settings
from django.core.files.storage import storages

logger = logging.getLogger(__name__)

COPY_CHUNK = 1024 * 1024


def plaintext_directory() -> Path:
    directory = Path(settings.PLAINTEXT_TEMP_DIR)
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    return directory


@contextlib.contextmanager
def plaintext_copy(*, store: str, name: str, suffix: str = "") -> Iterator[Path]:
    """A private plaintext copy of the stored file `name`, removed when the block ends (whatever happens)."""
    with private_temporary_file(suffix=suffix) as (handle, path):
        with storages[store].open(name, "rb") as stored:
            shutil.copyfileobj(stored, handle, COPY_CHUNK)
        handle.flush()
        yield path


@contextlib.contextmanager
def private_temporary_file(*, suffix: str = "") -> Iterator[tuple[BinaryIO, Path]]:
    """An empty file (0600) in the plaintext directory, open for writing and reading, removed when the block ends."""
    descriptor, name = tempfile.mkstemp(dir=plaintext_directory(), prefix=f"{_owner_tag(os.getpid())}-", suffix=suffix)
    path = Path(name)
    try:
        with os.fdopen(descriptor, "w+b") as handle:
            yield handle, path
    finally:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


def plaintext_sweep() -> int:
    """Remove the plaintext copies whose owning process is gone; returns how many were removed."""
    directory = Path(settings.PLAINTEXT_TEMP_DIR)
    if not directory.is_dir():
        return 0
    removed = 0
    for path in directory.iterdir():
        owner = path.name.split("-", 2)
        if len(owner) == 3 and owner[0].isdigit() and _owner_tag(int(owner[0])) == f"{owner[0]}-{owner[1]}":
            continue  # its process is still running
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
            removed += 1
    if removed:
        logger.warning("Removed %d plaintext copies left by processes that died", removed)
    return removed


def plaintext_sweep_on_spawn(sender, proc_name: str = "", **kwargs) -> None:
    """django-q2's `post_spawn` signal: a worker (re)starting clears what dead workers left behind."""
    plaintext_sweep()


def _owner_tag(pid: int) -> str | None:
    """`pid-starttime` of a running process (its start time tells a reused pid apart); None when it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    # The command name (field 2) may hold spaces and parentheses; the fields after its last ')' are plain.
    fields = stat.rsplit(")", 1)[1].split()
    return f"{pid}-{fields[19]}"
