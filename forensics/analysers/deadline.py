"""Run one analyser call with a wall-clock limit, so a hostile file cannot stall the whole analysis."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


class AnalyserTimeout(Exception):
    """The analyser did not finish within its time limit."""


def call_with_deadline(function: Callable[[], T], seconds: float) -> T:
    """Return function() or raise AnalyserTimeout after `seconds`; exceptions from the call propagate.

    The call runs in a daemon thread because native libraries (libmediainfo, c2pa) cannot be
    interrupted from Python: on timeout the thread is abandoned rather than joined, and being a
    daemon it never blocks interpreter exit. Our own parsers are bounded by their read caps, so an
    abandoned thread of theirs ends by itself.
    """
    outcome: dict[str, object] = {}

    def target() -> None:
        try:
            outcome["value"] = function()
        except BaseException as error:  # handed back to the caller below
            outcome["error"] = error

    worker = threading.Thread(target=target, name="forensics-analyser", daemon=True)
    worker.start()
    worker.join(seconds)
    if worker.is_alive():
        raise AnalyserTimeout(f"did not finish within {seconds:g} s")
    if "error" in outcome:
        raise outcome["error"]  # type: ignore[misc]
    return outcome["value"]  # type: ignore[return-value]
