"""Run analyser calls with a wall-clock limit, so a hostile file cannot stall the whole analysis, and so that
independent analysers (ExifTool's process, libmediainfo, c2pa, our parsers) can work on one file at once."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class AnalyserTimeout(Exception):
    """The analyser did not finish within its time limit."""


class PendingCall(Generic[T]):
    """A call started in its own daemon thread; `result()` waits for it until its deadline.

    Native libraries (libmediainfo, c2pa) cannot be interrupted from Python: on timeout the thread is abandoned
    rather than joined, and being a daemon it never blocks interpreter exit. Our own parsers are bounded by their
    read caps, so an abandoned thread of theirs ends by itself. `seconds=None` sets no deadline, for a call made of
    calls that each have one (a whole file's analysis, see pipeline.analyse_files), which ends by itself.
    """

    def __init__(self, function: Callable[[], T], seconds: float | None) -> None:
        self.seconds = seconds
        self.started = time.monotonic()
        # How long the call itself ran, set when it ends; waiting in result() is not counted.
        self.elapsed: float | None = None
        self._outcome: dict[str, object] = {}
        self._thread = threading.Thread(target=self._call, args=(function,), name="forensics-analyser", daemon=True)
        self._thread.start()

    def _call(self, function: Callable[[], T]) -> None:
        try:
            self._outcome["value"] = function()
        except BaseException as error:  # handed back to the caller in result()
            self._outcome["error"] = error
        finally:
            self.elapsed = time.monotonic() - self.started

    def result(self) -> T:
        """The call's return value; its exception is re-raised, AnalyserTimeout once the deadline has passed."""
        if self.seconds is None:
            self._thread.join()
        else:
            self._thread.join(max(0.0, self.started + self.seconds - time.monotonic()))
        if self._thread.is_alive():
            raise AnalyserTimeout(f"did not finish within {self.seconds:g} s")
        if "error" in self._outcome:
            raise self._outcome["error"]  # type: ignore[misc]
        return self._outcome["value"]  # type: ignore[return-value]
