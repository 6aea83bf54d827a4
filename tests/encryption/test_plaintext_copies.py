"""Tools that need a path get a private plaintext copy (0600, in a 0700 directory) removed when they finish; the
copies of a worker killed mid-analysis are swept when a worker next starts."""

import multiprocessing
import os
import signal
import stat
import time
from pathlib import Path

from django.conf import settings
from django_q.signals import post_spawn

from encryption.plaintext import plaintext_copy, plaintext_sweep, private_temporary_file


def test_a_plaintext_copy_is_private_and_removed_when_the_tool_is_done(alpha, analysed):
    item = analysed(alpha.case, alpha.investigator)

    with plaintext_copy(store="evidence", name=item.storage_key) as path:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
        assert path.parent == Path(settings.PLAINTEXT_TEMP_DIR)
        assert path.stat().st_size == item.size
        assert plaintext_sweep() == 0  # a live process's copy is never swept

    assert not path.exists()


def _worker_holding_a_copy(plaintext: bytes, ready) -> None:
    """What an analysing worker does: hold a plaintext copy while the tools run (here, forever)."""
    with private_temporary_file() as (handle, path):
        handle.write(plaintext)
        handle.flush()
        ready.put(str(path))
        while True:
            time.sleep(1)


def test_a_worker_killed_during_analysis_leaves_no_plaintext_after_the_next_start(alpha, analysed):
    # Given a worker process holding a plaintext copy of evidence, killed with SIGKILL (no clean-up runs)
    item = analysed(alpha.case, alpha.investigator)
    with plaintext_copy(store="evidence", name=item.storage_key) as path:
        plaintext = path.read_bytes()
    context = multiprocessing.get_context("fork")
    ready = context.Queue()
    worker = context.Process(target=_worker_holding_a_copy, args=(plaintext, ready))
    worker.start()
    left = Path(ready.get(timeout=30))
    os.kill(worker.pid, signal.SIGKILL)
    worker.join(timeout=30)
    assert left.exists() and left.read_bytes() == plaintext

    # When a worker next starts (django-q2 sends post_spawn in every new worker process)
    post_spawn.send(sender="django_q", proc_name="Process-1:1")

    # Then the dead worker's plaintext is gone
    assert not left.exists()
    assert not list(Path(settings.PLAINTEXT_TEMP_DIR).iterdir())
