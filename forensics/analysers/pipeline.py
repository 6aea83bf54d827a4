"""The composite entry point: run every analyser that applies to the detected file type, each one isolated.

Analysers run concurrently, each in its own deadline thread: ExifTool is a separate process and libmagic,
libmediainfo, c2pa and hashlib release the GIL, so one file's analysis takes about as long as its slowest
analyser rather than the sum of all. Results are collected, and `runs` recorded, in a fixed order. Over many files
(`analyse_files`), two files are analysed at once, so that one file's slowest analyser overlaps the next file's.
"""

from __future__ import annotations

import functools
import re
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from typing import Any

from .c2pa_manifest import C2PA_READING_VERSION, C2paResult, c2pa_read, c2pa_supports, c2pa_versions
from .deadline import AnalyserTimeout, PendingCall
from .double_jpeg import DOUBLE_JPEG_VERSION, double_jpeg_estimate
from .ebml_structure import EBML_PARSER_VERSION, ebml_structure_read
from .exif_thumbnail import COMPARISON_VERSION, thumbnail_compare
from .exiftool_metadata import ExifToolResult, ExifToolTimeout, exiftool_read, exiftool_read_many, exiftool_version
from .file_pass import FilePass
from .filetype import FILETYPE_PARSER_VERSION, file_type_identify, libmagic_version, sniff_container
from .gif_structure import GIF_PARSER_VERSION, gif_structure_read
from .heif_items import HEIF_PARSER_VERSION
from .isobmff_structure import ISOBMFF_PARSER_VERSION, isobmff_structure_read
from .jpeg_structure import JPEG_PARSER_VERSION, jpeg_structure_read
from .mediainfo_tracks import mediainfo_read, mediainfo_version
from .png_stealth import STEALTH_PARSER_VERSION, stealth_parameters_read
from .png_structure import PNG_PARSER_VERSION, png_structure_read
from .results import AnalyserRun, AnalysisResult
from .riff_structure import RIFF_PARSER_VERSION, riff_structure_read
from .tiff_structure import TIFF_PARSER_VERSION, tiff_structure_read
from .video_probe import VIDEO_PROBE_VERSION, ffmpeg_version, video_probe_read

# Seconds per analyser. ExifTool enforces its own limit by killing its process; the others are
# abandoned after this long (see deadline.PendingCall).
TIMEOUTS = {
    "sha256": 600.0,
    "file_type": 30.0,
    "exiftool": 60.0,
    "mediainfo": 60.0,
    "jpeg": 60.0,
    "double_jpeg": 60.0,
    "exif_thumbnail": 30.0,
    "png": 60.0,
    "png_stealth": 30.0,
    "isobmff": 60.0,
    "riff": 60.0,
    "ebml": 60.0,
    "gif": 60.0,
    "tiff": 60.0,
    # The video probe's reads have their own limits (video_probe); this only catches a wait that outlives them.
    "video": 30.0,
    "c2pa": 120.0,
}
# ExifTool's own watchdog fires first, so a hang ends with a killed process rather than an abandoned thread.
EXIFTOOL_KILL_AFTER = TIMEOUTS["exiftool"] - 10
# Files per ExifTool call in `analyse_files`: enough to make the per-call round trip negligible, few enough that
# a batch abandoned to a hostile file costs little.
EXIFTOOL_BATCH = 32
# Files analysed at once in `analyse_files`. Two, whatever the number of cores: the second file fills the time the
# first spends waiting on its last analysers, and a third would mostly wait for the GIL. More cores are used by
# more processes (`manage.py analyse --jobs`), each with its own ExifTool.
FILES_IN_FLIGHT = 2
_SHA256_HEX = re.compile(r"[0-9a-f]{64}")


def analyse_file(
    path: str | Path,
    *,
    declared_mime_type: str | None = None,
    original_filename: str | None = None,
    expected_sha256: str | None = None,
    exiftool_prefetched: ExifToolResult | None = None,
) -> AnalysisResult:
    """Analyse one file. Never raises for a readable path: a failing analyser is recorded in `runs`.

    `expected_sha256` is the hex SHA-256 recorded when the file was received; the file's bytes are hashed
    again here so that a rule can say when the stored copy no longer matches it. `exiftool_prefetched` is this
    file's ExifTool result from a batch read (see `analyse_files`); without it ExifTool reads the file here.
    """
    path = Path(path)
    if expected_sha256 is not None:
        expected_sha256 = expected_sha256.strip().lower()
        if not _SHA256_HEX.fullmatch(expected_sha256):
            raise ValueError(f"expected_sha256 is not a hex SHA-256 digest: {expected_sha256!r}")
    result = AnalysisResult(
        file_size=path.stat().st_size,
        original_filename=original_filename,
        declared_mime_type=declared_mime_type,
        detected_mime_type=None,
        container="unknown",
        analysed_at=datetime.now(UTC).isoformat(timespec="seconds"),
        expected_sha256=expected_sha256,
    )
    # ExifTool and the pass over every byte (hash, C2PA traces) need nothing from the other analysers: they start
    # first and run alongside them. libmagic reads the head that pass has already read.
    exiftool = None
    if result.file_size and exiftool_prefetched is None:
        exiftool = _start("exiftool", lambda: exiftool_read(path, timeout=EXIFTOOL_KILL_AFTER))
    file_pass = FilePass(path)
    digest = _start("sha256", file_pass.finish)
    file_type = _start(
        "file_type",
        lambda: file_type_identify(
            path, declared_mime_type=declared_mime_type, original_filename=original_filename, head=file_pass.head
        ),
    )
    result.file_type = _collect(result, "file_type", file_type)
    if result.file_type is not None:
        result.container = result.file_type.container
        result.detected_mime_type = result.file_type.magic_mime
    else:  # libmagic failed: the container's own signature still sends the file to its walkers
        result.container = sniff_container(file_pass.head[:64])
    container = result.container

    parsers = {
        name: _start(name, parse)
        for name, parse, applies in (
            ("jpeg", lambda: jpeg_structure_read(path), container == "jpeg"),
            ("double_jpeg", lambda: double_jpeg_estimate(path), container == "jpeg"),
            ("png", lambda: png_structure_read(path), container == "png"),
            ("isobmff", lambda: isobmff_structure_read(path), container == "isobmff"),
            ("riff", lambda: riff_structure_read(path), container == "riff"),
            ("ebml", lambda: ebml_structure_read(path), container == "ebml"),
            ("gif", lambda: gif_structure_read(path), container == "gif"),
            ("tiff", lambda: tiff_structure_read(path), container == "tiff"),
            ("video", lambda: video_probe_read(path), _has_streams(result)),
        )
        if applies
    }
    mediainfo = _start("mediainfo", lambda: mediainfo_read(path)) if _audio_or_video(result) else None
    file_digest = _collect(result, "sha256", digest)
    result.sha256 = file_digest.sha256 if file_digest is not None else None
    mime = _c2pa_mime(result)
    c2pa = None
    # Without a trace of C2PA data the reader could only say "no manifest": it is not worth its time.
    if c2pa_supports(mime) and (file_digest is None or file_digest.c2pa_trace):
        c2pa = _start("c2pa", lambda: c2pa_read(path, mime_type=mime))

    if exiftool is not None:
        result.exiftool = _collect(result, "exiftool", exiftool)
    elif exiftool_prefetched is not None:
        result.exiftool = exiftool_prefetched
        result.runs.append(AnalyserRun("exiftool", "ok", 0, "read in a batch with other files"))
    else:
        _skip(result, "exiftool", "empty file")
    if "jpeg" in parsers:
        result.jpeg = _collect(result, "jpeg", parsers["jpeg"])
        thumbnail = None
        if result.jpeg is not None and result.jpeg.thumbnail is not None:
            jpeg = result.jpeg
            # Started before the double JPEG estimate is collected: both decode the whole file, one core each.
            thumbnail = _start("exif_thumbnail", lambda: thumbnail_compare(path, jpeg))
        result.double_jpeg = _collect(result, "double_jpeg", parsers["double_jpeg"])
        if thumbnail is not None:
            result.exif_thumbnail = _collect(result, "exif_thumbnail", thumbnail)
    if "png" in parsers:
        result.png = _collect(result, "png", parsers["png"])
        if result.png is not None and result.png.complete:
            result.png_stealth = _collect(
                result, "png_stealth", _start("png_stealth", lambda: stealth_parameters_read(path))
            )
    for name in ("isobmff", "riff", "ebml", "gif", "tiff", "video"):
        if name in parsers:
            setattr(result, name, _collect(result, name, parsers[name]))
    if mediainfo is None:
        _skip(result, "mediainfo", f"not audio or video ({result.detected_mime_type})")
    else:
        result.mediainfo = _collect(result, "mediainfo", mediainfo)
    if c2pa is not None:
        result.c2pa = _collect(result, "c2pa", c2pa)
    elif c2pa_supports(mime):
        result.c2pa = C2paResult(present=False, mime_type=mime)
        _skip(result, "c2pa", "no JUMBF box or provenance reference in the bytes: no manifest to read")
    else:
        _skip(result, "c2pa", f"C2PA reader does not support {mime}")
    result.tool_versions = _tool_versions()
    _path_left_out(result, path)
    return result


def _path_left_out(result: AnalysisResult, path: Path) -> None:
    """A tool's error may name the path it was given (an analyser's crash; FFmpeg's "Invalid data found when
    processing input: '<path>'"): on the server a private copy's name, new on every run. It is said as "<the file
    analysed>" instead, so that the same bytes give the same result, and no directory is named."""
    said = str(path)
    for run in result.runs:
        if run.error and said in run.error:
            run.error = run.error.replace(said, "<the file analysed>")
    if result.video is not None:
        result.video.errors = [error.replace(said, "<the file analysed>") for error in result.video.errors]


def analyse_files(paths: Sequence[str | Path], *, batch_size: int = EXIFTOOL_BATCH) -> Iterator[AnalysisResult]:
    """Analyse many files, with one ExifTool call per batch instead of one per file; each result, in the order
    of `paths`, is what `analyse_file` gives for that file alone.

    FILES_IN_FLIGHT files are analysed at once, each in its own thread (its analysers in theirs), and the next
    batch's ExifTool call runs alongside. A batch that fails or overruns (one hostile file can stall ExifTool)
    leaves its files to be read one by one, each with its own deadline, so a bad file costs time but never a result.
    """
    in_flight: deque[PendingCall[AnalysisResult]] = deque()
    for path, prefetched in _with_batch_reads(paths, batch_size):
        if prefetched is None:
            # ExifTool reads this file alone (if it is not empty), and that read's deadline runs while it waits for
            # ExifTool: no other file's read may come first, so the files before it finish before it starts.
            while in_flight:
                yield in_flight.popleft().result()
            yield analyse_file(path)
            continue
        # Started before the finished result is handed over, so that two files are analysed while it is used.
        finished = in_flight.popleft().result() if len(in_flight) == FILES_IN_FLIGHT else None
        in_flight.append(PendingCall(functools.partial(analyse_file, path, exiftool_prefetched=prefetched), None))
        if finished is not None:
            yield finished
    while in_flight:
        yield in_flight.popleft().result()


def _with_batch_reads(
    paths: Sequence[str | Path], batch_size: int
) -> Iterator[tuple[str | Path, ExifToolResult | None]]:
    """Each path with its ExifTool result from a batch read, or None when ExifTool is to read it alone (a failed
    batch, an empty file). The next batch is read while this batch's files are analysed."""
    batches = [list(paths[start : start + batch_size]) for start in range(0, len(paths), batch_size)]
    pending = _exiftool_batch(batches[0]) if batches else None
    for number, batch in enumerate(batches):
        try:
            prefetched = pending.result()
        except Exception:  # read singly, where each file's failure is recorded against that file
            prefetched = {}
        pending = _exiftool_batch(batches[number + 1]) if number + 1 < len(batches) else None
        for path in batch:
            yield path, prefetched.get(str(Path(path).resolve()))


def _exiftool_batch(paths: list[str | Path]) -> PendingCall:
    readable = [path for path in paths if Path(path).is_file() and Path(path).stat().st_size]
    return PendingCall(lambda: exiftool_read_many(readable, timeout=EXIFTOOL_KILL_AFTER), TIMEOUTS["exiftool"])


def _has_streams(result: AnalysisResult) -> bool:
    """Video and audio containers go to the video probe; still images (HEIF, WebP, AVIF) do not."""
    mime = result.detected_mime_type or ""
    return result.container in ("isobmff", "riff", "ebml") and mime.startswith(("video/", "audio/"))


def _audio_or_video(result: AnalysisResult) -> bool:
    """MediaInfo reads streams: audio and video files go to it, still images and other files do not."""
    return bool(result.file_size) and (result.detected_mime_type or "").startswith(("audio/", "video/"))


def _start(name: str, analyser: Callable[[], Any]) -> PendingCall:
    return PendingCall(analyser, TIMEOUTS[name])


def _collect(result: AnalysisResult, name: str, pending: PendingCall) -> Any:
    """The analyser's value, or None with the failure or timeout recorded; its run is recorded either way."""
    status, error, value = "ok", None, None
    try:
        value = pending.result()
    except (AnalyserTimeout, ExifToolTimeout) as timeout:
        status, error = "timeout", str(timeout)
    except Exception as failure:  # an analyser's crash must not stop the others
        status, error = "failed", f"{type(failure).__name__}: {failure}"
    elapsed = pending.elapsed if pending.elapsed is not None else time.monotonic() - pending.started
    result.runs.append(AnalyserRun(name, status, round(elapsed * 1000), error))
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


_versions: dict[str, str] | None = None


def _tool_versions() -> dict[str, str]:
    global _versions
    if _versions is None:
        # Published whole: a file analysed alongside the first one sees every version or reads them itself.
        _versions = _tool_versions_read()
    return dict(_versions)


def _tool_versions_read() -> dict[str, str]:
    versions: dict[str, str] = {}
    for name, probe in (
        ("exiftool", exiftool_version),
        ("mediainfo", mediainfo_version),
        ("libmagic", libmagic_version),
        ("python-magic", lambda: version("python-magic")),
        ("pyexiftool", lambda: version("PyExifTool")),
        ("pymediainfo", lambda: version("pymediainfo")),
        ("c2pa", c2pa_versions),
        ("ffmpeg", ffmpeg_version),
    ):
        try:
            versions[name] = str(probe())
        except Exception as failure:  # a missing tool is reported, not fatal
            versions[name] = f"unavailable ({type(failure).__name__})"
    versions.update(
        {
            "filetype": FILETYPE_PARSER_VERSION,
            "jpeg": JPEG_PARSER_VERSION,
            "double_jpeg": DOUBLE_JPEG_VERSION,
            "exif_thumbnail": COMPARISON_VERSION,
            "jpeglib": version("jpeglib"),
            "png": PNG_PARSER_VERSION,
            "png_stealth": STEALTH_PARSER_VERSION,
            "isobmff": ISOBMFF_PARSER_VERSION,
            "riff": RIFF_PARSER_VERSION,
            "ebml": EBML_PARSER_VERSION,
            "gif": GIF_PARSER_VERSION,
            "tiff": TIFF_PARSER_VERSION,
            "heif": HEIF_PARSER_VERSION,
            "c2pa_manifest": C2PA_READING_VERSION,
            "video": VIDEO_PROBE_VERSION,
        }
    )
    return versions
