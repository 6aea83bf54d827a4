"""The composite entry point: run every analyser that applies to the detected file type, each one isolated."""

from __future__ import annotations

import time
from collections.abc import Callable
from importlib.metadata import version
from pathlib import Path
from typing import Any

from .c2pa_manifest import c2pa_read, c2pa_supports, c2pa_versions
from .deadline import AnalyserTimeout, call_with_deadline
from .exiftool_metadata import ExifToolTimeout, exiftool_read, exiftool_version
from .filetype import FILETYPE_PARSER_VERSION, file_type_identify, libmagic_version
from .isobmff_structure import ISOBMFF_PARSER_VERSION, isobmff_structure_read
from .jpeg_structure import JPEG_PARSER_VERSION, jpeg_structure_read
from .mediainfo_tracks import mediainfo_read, mediainfo_version
from .png_stealth import STEALTH_PARSER_VERSION, stealth_parameters_read
from .png_structure import PNG_PARSER_VERSION, png_structure_read
from .results import AnalyserRun, AnalysisResult

# Seconds per analyser. ExifTool enforces its own limit by killing its process; the others are
# abandoned after this long (see deadline.call_with_deadline).
TIMEOUTS = {
    "file_type": 30.0,
    "exiftool": 60.0,
    "mediainfo": 60.0,
    "jpeg": 60.0,
    "png": 60.0,
    "png_stealth": 30.0,
    "isobmff": 60.0,
    "c2pa": 120.0,
}
# ExifTool's own watchdog fires first, so a hang ends with a killed process rather than an abandoned thread.
EXIFTOOL_KILL_AFTER = TIMEOUTS["exiftool"] - 10
# Still-image containers MediaInfo adds nothing to; everything else (video, audio, unknown) goes to it.
_NO_MEDIAINFO = {"jpeg", "png", "gif", "tiff"}


def analyse_file(
    path: str | Path, *, declared_mime_type: str | None = None, original_filename: str | None = None
) -> AnalysisResult:
    """Analyse one file. Never raises for a readable path: a failing analyser is recorded in `runs`."""
    path = Path(path)
    result = AnalysisResult(
        file_size=path.stat().st_size,
        original_filename=original_filename,
        declared_mime_type=declared_mime_type,
        detected_mime_type=None,
        container="unknown",
    )
    result.file_type = _run(
        result,
        "file_type",
        lambda: file_type_identify(path, declared_mime_type=declared_mime_type, original_filename=original_filename),
    )
    if result.file_type is not None:
        result.container = result.file_type.container
        result.detected_mime_type = result.file_type.magic_mime
    container = result.container

    if result.file_size == 0:
        _skip(result, "exiftool", "empty file")
    else:
        result.exiftool = _run(result, "exiftool", lambda: exiftool_read(path, timeout=EXIFTOOL_KILL_AFTER))
    if container == "jpeg":
        result.jpeg = _run(result, "jpeg", lambda: jpeg_structure_read(path))
    if container == "png":
        result.png = _run(result, "png", lambda: png_structure_read(path))
        if result.png is not None and result.png.complete:
            result.png_stealth = _run(result, "png_stealth", lambda: stealth_parameters_read(path))
    if container == "isobmff":
        result.isobmff = _run(result, "isobmff", lambda: isobmff_structure_read(path))
    if container in _NO_MEDIAINFO or result.file_size == 0:
        _skip(result, "mediainfo", f"not applicable to {container}")
    else:
        result.mediainfo = _run(result, "mediainfo", lambda: mediainfo_read(path))
    mime = _c2pa_mime(result)
    if c2pa_supports(mime):
        result.c2pa = _run(result, "c2pa", lambda: c2pa_read(path, mime_type=mime))
    else:
        _skip(result, "c2pa", f"C2PA reader does not support {mime}")
    result.tool_versions = _tool_versions()
    return result


def _run(result: AnalysisResult, name: str, analyser: Callable[[], Any]) -> Any:
    started = time.monotonic()
    status, error, value = "ok", None, None
    try:
        value = call_with_deadline(analyser, TIMEOUTS[name])
    except (AnalyserTimeout, ExifToolTimeout) as timeout:
        status, error = "timeout", str(timeout)
    except Exception as failure:  # an analyser's crash must not stop the others
        status, error = "failed", f"{type(failure).__name__}: {failure}"
    result.runs.append(AnalyserRun(name, status, round((time.monotonic() - started) * 1000), error))
    return value


def _skip(result: AnalysisResult, name: str, reason: str) -> None:
    result.runs.append(AnalyserRun(name, "skipped", 0, reason))


def _c2pa_mime(result: AnalysisResult) -> str | None:
    """The MIME type to give the C2PA reader: from the bytes, refined where libmagic is too generic."""
    container_mimes = {"jpeg": "image/jpeg", "png": "image/png", "isobmff": "video/mp4"}
    if result.container in ("jpeg", "png") or (
        result.container == "isobmff" and not c2pa_supports(result.detected_mime_type)
    ):
        return container_mimes[result.container]
    return result.detected_mime_type


_versions: dict[str, str] = {}


def _tool_versions() -> dict[str, str]:
    if not _versions:
        for name, probe in (
            ("exiftool", exiftool_version),
            ("mediainfo", mediainfo_version),
            ("libmagic", libmagic_version),
            ("python-magic", lambda: version("python-magic")),
            ("pyexiftool", lambda: version("PyExifTool")),
            ("pymediainfo", lambda: version("pymediainfo")),
            ("c2pa", c2pa_versions),
        ):
            try:
                _versions[name] = str(probe())
            except Exception as failure:  # a missing tool is reported, not fatal
                _versions[name] = f"unavailable ({type(failure).__name__})"
        _versions.update(
            {
                "filetype": FILETYPE_PARSER_VERSION,
                "jpeg": JPEG_PARSER_VERSION,
                "png": PNG_PARSER_VERSION,
                "png_stealth": STEALTH_PARSER_VERSION,
                "isobmff": ISOBMFF_PARSER_VERSION,
            }
        )
    return dict(_versions)
