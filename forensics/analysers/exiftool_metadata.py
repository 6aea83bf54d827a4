"""Metadata through ExifTool: one persistent `-stay_open` process per worker process, killed and restarted on a hang."""

from __future__ import annotations

import atexit
import os
import re
import threading
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from exiftool import ExifToolHelper

from .common import MAX_TEXT_CHARS, clip_text

# -G1:4 rather than -G1: with -G1 alone, repeated tags of one group (every -validate Warning, a
# second Software in another copy of IFD0) collapse into one JSON key; family 4 names them CopyN.
# The System group is the server's own file-system view (path, access times), not evidence.
# pyexiftool's execute_json adds "-j" itself.
EXIFTOOL_ARGS = ("-G1:4", "-a", "-all", "--System:all", "-validate", "-warning", "-api", "LargeFileSupport=1")
DEFAULT_TIMEOUT_SECONDS = 30.0

_COPY_KEY = re.compile(r"^(?P<group>[^:]+):(?:Copy\d+:)?(?P<tag>[^:]+)$")
_BASE64_SUMMARY_OVER = 256

_lock = threading.Lock()
_helper: ExifToolHelper | None = None


@dataclass
class ExifToolResult:
    """ExifTool's grouped tags ("IFD0:Software", repeated copies as "ExifTool:Copy1:Warning"), plus its verdicts."""

    tags: dict[str, Any]
    warnings: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    validate: str | None = None


class ExifToolTimeout(TimeoutError):
    """ExifTool did not answer in time; its process was killed and will be restarted on the next call."""


def exiftool_version() -> str:
    with _lock:
        return _running_helper().version


def exiftool_read(path: str | Path, *, timeout: float = DEFAULT_TIMEOUT_SECONDS) -> ExifToolResult:
    """Read every tag ExifTool finds in the file, with its -validate summary and warnings.

    Raises ExifToolTimeout when ExifTool takes longer than `timeout` seconds.
    """
    # An absolute path can never be mistaken by ExifTool for an option such as "-delete".
    target = str(Path(path).resolve())
    with _lock:
        helper = _running_helper()
        fired = threading.Event()
        watchdog = threading.Timer(timeout, _abort, args=(helper, fired))
        watchdog.daemon = True
        watchdog.start()
        try:
            records = helper.execute_json(*EXIFTOOL_ARGS, target)
        except Exception as error:
            if fired.is_set():
                _discard(helper)
                raise ExifToolTimeout(f"ExifTool did not finish within {timeout:g} s") from error
            if not _is_running(helper):
                _discard(helper)
            raise
        finally:
            watchdog.cancel()
    record = records[0] if records else {}
    return _result_from_record(record)


def exif_values(tags: dict[str, Any], name: str) -> list[Any]:
    """Every value of "Group:Tag" in file order, including ExifTool's duplicate copies of it."""
    group, _, tag = name.partition(":")
    values = []
    for key, value in tags.items():
        match = _COPY_KEY.match(key)
        if match and match["group"] == group and match["tag"] == tag:
            values.extend(value if isinstance(value, list) else [value])
    return values


def exif_values_any_group(tags: dict[str, Any], tag: str) -> dict[str, Any]:
    """Every "Group:Tag" key (copies included) whose tag name is `tag`, whatever the group."""
    return {key: value for key, value in tags.items() if (match := _COPY_KEY.match(key)) and match["tag"] == tag}


def _running_helper() -> ExifToolHelper:
    global _helper
    if _helper is None or not _is_running(_helper):
        # The common args go on every command; ours are per call, so none are shared.
        _helper = ExifToolHelper(common_args=[], check_execute=False)
        _helper.run()
    return _helper


def _is_running(helper: ExifToolHelper) -> bool:
    # pyexiftool warns when it notices a dead process; the caller handles that case itself.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return helper.running


def _abort(helper: ExifToolHelper, fired: threading.Event) -> None:
    """Kill a hung ExifTool and unblock pyexiftool's reader.

    pyexiftool reads with select()+os.read() until it sees its "{ready}" sentinel and has no timeout.
    Once the process is dead, os.read returns b"" forever, so that loop would spin at full CPU.
    Pointing the pipe descriptors at a directory makes the next os.read raise IsADirectoryError,
    which ends execute() with an exception that exiftool_read turns into ExifToolTimeout.
    """
    fired.set()
    process = helper._process  # pyexiftool exposes no public handle to its subprocess
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
    tags = {key: _summarise(value) for key, value in record.items() if key != "SourceFile"}
    return ExifToolResult(
        tags=tags,
        warnings=[str(value) for value in exif_values(tags, "ExifTool:Warning")],
        errors=[str(value) for value in exif_values(tags, "ExifTool:Error")],
        validate=tags.get("ExifTool:Validate"),
    )


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
