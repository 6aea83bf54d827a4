"""The memory ceiling of the external tools the analysers start (ExifTool), so that a hostile file such as a
decompression bomb makes the tool fail instead of taking the machine's memory.

The ceiling is an address-space limit (RLIMIT_AS) set on the tool's process: an allocation beyond it fails and
the tool exits, which the analyser records as a failed run. EVIDENCEMEDIA_TOOL_MEMORY_LIMIT_MB sets it; 0 turns
it off. Read from the environment, not Django settings, because the analysers run without Django too.
"""

from __future__ import annotations

import os
import resource

MEMORY_LIMIT_ENV = "EVIDENCEMEDIA_TOOL_MEMORY_LIMIT_MB"
# ExifTool reads metadata, not pixels or frames: a few hundred MiB at most for real media, multi-GiB videos
# included (it seeks, with LargeFileSupport); a 1 GiB zTXt bomb needs 4 GiB.
DEFAULT_MEMORY_LIMIT_MB = 1024


def tool_memory_limit_mb() -> int:
    """The configured ceiling in MiB; 0 means none. A value that is not a whole number is refused."""
    raw = os.environ.get(MEMORY_LIMIT_ENV, "").strip()
    if not raw:
        return DEFAULT_MEMORY_LIMIT_MB
    try:
        limit = int(raw)
    except ValueError:
        raise ValueError(f"{MEMORY_LIMIT_ENV} must be a whole number of MiB (0 for no limit), not {raw!r}") from None
    if limit < 0:
        raise ValueError(f"{MEMORY_LIMIT_ENV} must not be negative, not {limit}")
    return limit


def process_memory_limit(pid: int) -> None:
    """Cap the address space of a running tool process (ours to start, so the limit is set before any input)."""
    limit_mb = tool_memory_limit_mb()
    if limit_mb:
        limit = limit_mb << 20
        resource.prlimit(pid, resource.RLIMIT_AS, (limit, limit))
