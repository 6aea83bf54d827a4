"""Metadata through ExifTool: one persistent `-stay_open` process per worker process, under a memory ceiling
(tool_limits), killed and restarted on a hang, and restarted when it dies (a decompression bomb hits the ceiling)."""

from __future__ import annotations

import atexit
import logging
import os
import re
import signal
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from exiftool import ExifToolHelper

from .common import MAX_TEXT_CHARS, clip_text
from .tool_limits import MEMORY_LIMIT_ENV, process_memory_limit, tool_memory_limit_mb

logger = logging.getLogger(__name__)

# -G1:4 rather than -G1: with -G1 alone, repeated tags of one group (every -validate Warning, a
# second Software in another copy of IFD0) collapse into one JSON key; family 4 names them CopyN.
# The System group is the server's own file-system view (path, access times), not evidence.
# pyexiftool's execute_json adds "-j" itself.
EXIFTOOL_ARGS = ("-G1:4", "-a", "-all", "--System:all", "-validate", "-warning", "-api", "LargeFileSupport=1")
DEFAULT_TIMEOUT_SECONDS = 30.0
# How often the watchdog looks whether ExifTool died during a call: pyexiftool itself would wait for the deadline.
_DEATH_POLL_SECONDS = 0.2
OUT_OF_MEMORY = "ExifTool ran out of memory"

_COPY_KEY = re.compile(r"^(?P<group>[^:]+):(?:Copy\d+:)?(?P<tag>[^:]+)$")
_BASE64_SUMMARY_OVER = 256

_lock = threading.Lock()
_helper: ExifToolHelper | None = None
# The version ExifTool reported when it started (a restarted ExifTool is the same program).
_version: str | None = None
# pyexiftool starts ExifTool with PR_SET_PDEATHSIG(SIGTERM), which Linux ties to the *thread* that forked it.
# Started from a short-lived analyser thread, the process was killed as soon as that thread ended: every file
# paid for a new Perl process, and a call racing the signal spun until its watchdog fired. One long-lived
# owner thread therefore starts every ExifTool process.
_owner = ThreadPoolExecutor(max_workers=1, thread_name_prefix="exiftool-owner")


@dataclass
class ExifToolResult:
    """ExifTool's grouped tags ("IFD0:Software", repeated copies as "ExifTool:Copy1:Warning"), plus its verdicts."""

    tags: dict[str, Any]
    warnings: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    validate: str | None = None

    def fields_named(self, tag: str) -> dict[str, Any]:
        """Every "Group:Tag" key (copies included) whose tag name is `tag`, in ExifTool's order.

        The rules ask this thousands of times per file; the index is built once, outside the dataclass
        fields, so it is neither stored nor compared.
        """
        index = self.__dict__.get("_by_tag")
        if index is None:
            index = {}
            for key, value in self.tags.items():
                if match := _COPY_KEY.match(key):
                    index.setdefault(match["tag"], {})[key] = value
            self.__dict__["_by_tag"] = index
        return index.get(tag, {})

    def values(self, name: str) -> list[Any]:
        """Every value of "Group:Tag" in file order, including ExifTool's duplicate copies of it."""
        group, _, tag = name.partition(":")
        values: list[Any] = []
        for key, value in self.fields_named(tag).items():
            if key.partition(":")[0] == group:
                values.extend(value if isinstance(value, list) else [value])
        return values


class ExifToolTimeout(TimeoutError):
    """ExifTool did not answer in time; its process was killed and will be restarted on the next call."""


class ExifToolDied(RuntimeError):
    """ExifTool exited during a call (out of memory under its ceiling, or a crash); restarted on the next call."""


@dataclass
class _Stop:
    """Set by the watchdog when it ends a call; `death` says why when ExifTool exited by itself."""

    done: threading.Event = field(default_factory=threading.Event)
    death: str | None = None


def exiftool_version() -> str:
    """The version of the ExifTool this process runs. Once ExifTool has started, read without waiting for the
    call in progress (the first file's analysis used to wait here for the next batch's read)."""
    if _version is None:
        with _lock:
            _running_helper()
    return _version


def exiftool_read(path: str | Path, *, timeout: float = DEFAULT_TIMEOUT_SECONDS) -> ExifToolResult:
    """Read every tag ExifTool finds in the file, with its -validate summary and warnings.

    Raises ExifToolTimeout when ExifTool takes longer than `timeout` seconds.
    """
    records = _execute([_target(path)], timeout)
    record = records[0] if records else {}
    return _result_from_record(record)


def exiftool_read_many(paths: Sequence[str | Path], *, timeout: float) -> dict[str, ExifToolResult]:
    """Read several files in one ExifTool call (the per-call round trip dominates small files).

    Keyed by the absolute path; a file ExifTool returned no record for is absent, so the caller reads it alone.
    Raises ExifToolTimeout when the whole call takes longer than `timeout` seconds.
    """
    records = _execute([_target(path) for path in paths], timeout)
    return {record["SourceFile"]: _result_from_record(record) for record in records if "SourceFile" in record}


def _target(path: str | Path) -> str:
    # An absolute path can never be mistaken by ExifTool for an option such as "-delete".
    return str(Path(path).resolve())


def _execute(targets: list[str], timeout: float) -> list[dict[str, Any]]:
    with _lock:
        helper = _running_helper()
        stop = _Stop()
        _watchdog.arm(helper, stop, timeout)
        try:
            return helper.execute_json(*EXIFTOOL_ARGS, *targets)
        except Exception as error:
            if stop.done.is_set() and stop.death is None:
                _discard(helper)
                raise ExifToolTimeout(f"ExifTool did not finish within {timeout:g} s") from error
            if stop.death is not None or not _is_running(helper):
                death = stop.death or _death_message(helper._process)
                _discard(helper)
                raise ExifToolDied(death) from error
            raise
        finally:
            _watchdog.disarm()


class _Watchdog:
    """One long-lived thread that kills ExifTool when a call overruns.

    A threading.Timer per call cost a thread start per file (about 1 ms, a tenth of a small file's analysis);
    arming this one costs a notify. Calls are serialised by _lock, so at most one deadline is armed.
    """

    def __init__(self) -> None:
        self._condition = threading.Condition()
        self._armed: tuple[float, ExifToolHelper, _Stop] | None = None
        self._thread: threading.Thread | None = None

    def arm(self, helper: ExifToolHelper, stop: _Stop, seconds: float) -> None:
        with self._condition:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._watch, name="exiftool-watchdog", daemon=True)
                self._thread.start()
            self._armed = (time.monotonic() + seconds, helper, stop)
            self._condition.notify()

    def disarm(self) -> None:
        with self._condition:
            self._armed = None

    def _watch(self) -> None:
        with self._condition:
            while True:
                if self._armed is None:
                    self._condition.wait()
                    continue
                deadline, helper, stop = self._armed
                remaining = deadline - time.monotonic()
                process = helper._process  # pyexiftool exposes no public handle to its subprocess
                exited = process is not None and process.poll() is not None
                if remaining > 0 and not exited:
                    self._condition.wait(min(remaining, _DEATH_POLL_SECONDS))
                    continue
                self._armed = None
                try:
                    if exited:
                        stop.death = _death_message(process)
                    _abort(helper, stop)
                except Exception:  # a watchdog that died here would let every later call run unbounded
                    logger.exception("Could not stop an overrunning ExifTool process")


_watchdog = _Watchdog()


def _after_fork_in_child() -> None:
    """Threads do not survive fork (django-q2 forks its workers): the child needs its own owner thread and
    watchdog, and a lock no vanished thread holds. The parent's ExifTool is seen as dead and replaced."""
    global _lock, _owner, _watchdog
    _lock = threading.Lock()
    _owner = ThreadPoolExecutor(max_workers=1, thread_name_prefix="exiftool-owner")
    _watchdog = _Watchdog()


os.register_at_fork(after_in_child=_after_fork_in_child)


def _running_helper() -> ExifToolHelper:
    global _helper, _version
    if _helper is None or not _is_running(_helper):
        # The common args go on every command; ours are per call, so none are shared.
        helper = ExifToolHelper(common_args=[], check_execute=False)
        _owner.submit(helper.run).result()
        process_memory_limit(helper._process.pid)  # before any file is given to it
        _helper = helper
        _version = helper.version
    return _helper


def _is_running(helper: ExifToolHelper) -> bool:
    """Whether the helper's ExifTool is alive. pyexiftool's `running` property warns when it notices a dead process,
    and silencing that warning meant changing the warning filters, which are the whole process's (other threads
    analyse beside this one, and gunicorn's threads serve requests). Its state is read directly instead, and a death
    recorded the way that property records it (`_flag_running_false`), so its __del__ does not stop it again."""
    process = helper._process
    if process is not None and process.poll() is None:
        return helper._running
    if helper._running:
        helper._flag_running_false()
    return False


def _abort(helper: ExifToolHelper, stop: _Stop) -> None:
    """Kill a hung (or reap a dead) ExifTool and unblock pyexiftool's reader.

    pyexiftool reads with select()+os.read() until it sees its "{ready}" sentinel and has no timeout.
    Once the process is dead, os.read returns b"" forever, so that loop would spin at full CPU.
    Pointing the pipe descriptors at a directory makes the next os.read raise IsADirectoryError,
    which ends execute() with an exception that exiftool_read turns into ExifToolTimeout.
    """
    stop.done.set()
    process = helper._process
    if process is None:
        return
    process.kill()
    directory_fd = os.open("/", os.O_RDONLY)
    try:
        for stream in (process.stdout, process.stderr):
            if stream is not None:
                os.dup2(directory_fd, stream.fileno())
    finally:
        os.close(directory_fd)


def _death_message(process) -> str:
    """Why ExifTool exited by itself, from its exit status and its last words on standard error."""
    last_words = ""
    if process is not None and process.stderr is not None:
        try:
            os.set_blocking(process.stderr.fileno(), False)  # the writer is dead: never wait for more
            last_words = os.read(process.stderr.fileno(), 65536).decode("utf-8", "replace").strip()
        except OSError:
            pass
    status = process.poll() if process is not None else None
    if "Out of memory" in last_words or status == -signal.SIGKILL:
        limit = tool_memory_limit_mb()
        ceiling = f"its {limit} MiB memory limit ({MEMORY_LIMIT_ENV})" if limit else "the memory available"
        return f"{OUT_OF_MEMORY} under {ceiling} and was stopped; the file may be a decompression bomb."
    return f"ExifTool exited unexpectedly (exit status {status}): {last_words[-300:] or 'no message'}"


def _discard(helper: ExifToolHelper) -> None:
    global _helper
    process = helper._process
    if process is not None:
        process.kill()
        process.wait()
    _is_running(helper)  # lets pyexiftool notice the death, so its __del__ does not try to stop it again
    if _helper is helper:
        _helper = None


def _shutdown() -> None:
    with _lock:
        if _helper is not None and _is_running(_helper):
            _helper.terminate()


atexit.register(_shutdown)


def _result_from_record(record: dict[str, Any]) -> ExifToolResult:
    result = ExifToolResult(tags={key: _summarise(value) for key, value in record.items() if key != "SourceFile"})
    result.warnings = [str(value) for value in result.values("ExifTool:Warning")]
    result.errors = [str(value) for value in result.values("ExifTool:Error")]
    result.validate = result.tags.get("ExifTool:Validate")
    return result


def _summarise(value: Any) -> Any:
    """Keep every value, but summarise large binary ones instead of storing them."""
    if isinstance(value, list):
        return [_summarise(item) for item in value]
    if isinstance(value, dict):
        return {key: _summarise(item) for key, item in value.items()}
    if isinstance(value, str):
        if value.startswith("base64:") and len(value) > _BASE64_SUMMARY_OVER:
            return f"(Binary data {len(value[7:]) * 3 // 4} bytes, summarised)"
        return clip_text(value, MAX_TEXT_CHARS)
    return value
