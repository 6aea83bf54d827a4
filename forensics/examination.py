"""What an analysis examined: each check the engine made on the file, or why it did not make it, read from the stored
result (the analysers' runs; the two checks that can decline a file they were given, the double JPEG estimate and
the EXIF thumbnail comparison; the structure walks, which stop at their limits on very large or hostile files; and
ExifTool and FFmpeg, which record what stopped them instead of failing).

Shown beside the verdict, on the evidence page and in the PDF report, so that a reader knows the reach of "no
obvious signs of tampering": a check that was not made found nothing because it looked at nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .analysers.common import WALK_LIMIT_CODES

# States of a check.
EXAMINED, PARTLY_EXAMINED, NOT_APPLICABLE, NOT_MADE = "examined", "partly_examined", "not_applicable", "not_made"
STATES = (EXAMINED, PARTLY_EXAMINED, NOT_APPLICABLE, NOT_MADE)

# Each analyser's run, by name, as what it examines; in the order the lines are shown.
CHECKS = {
    "sha256": gettext_lazy("SHA-256 of the bytes analysed"),
    "file_type": gettext_lazy("True type from the bytes (libmagic)"),
    "exiftool": gettext_lazy("Metadata and its layout (ExifTool)"),
    "jpeg": gettext_lazy("JPEG segments and quantisation tables"),
    "double_jpeg": gettext_lazy("Double JPEG compression"),
    "exif_thumbnail": gettext_lazy("EXIF thumbnail compared with the image"),
    "png": gettext_lazy("PNG chunks"),
    "png_stealth": gettext_lazy("Generator parameters hidden in the PNG's pixels"),
    "isobmff": gettext_lazy("MP4, MOV and HEIF boxes"),
    "riff": gettext_lazy("RIFF chunks (AVI, WebP, WAV)"),
    "ebml": gettext_lazy("Matroska and WebM elements"),
    "gif": gettext_lazy("GIF blocks"),
    "tiff": gettext_lazy("TIFF and DNG directories"),
    "video": gettext_lazy("Video and audio streams and their coded bytes (FFmpeg)"),
    "mediainfo": gettext_lazy("Audio and video tracks (MediaInfo)"),
    "c2pa": gettext_lazy("C2PA provenance manifest"),
}
# The runs that walk the file's structure; each keeps its walk, with its issues, under its own name in the result
# (the ISO-BMFF walk's HEIF item tables within it).
_WALKS = {"jpeg", "png", "isobmff", "riff", "ebml", "gif", "tiff"}
# How a thumbnail comparison that was not made ended (exif_thumbnail.ThumbnailComparison.status).
_THUMBNAIL_NOT_APPLICABLE = {"no_thumbnail", "not_jpeg"}


@dataclass(frozen=True)
class ExaminationLine:
    name: str  # the analyser's, as in the result's runs
    check: str
    state: str
    state_words: str
    reason: str


def examination_lines(result: dict) -> list[ExaminationLine]:
    """The checks of a stored analysis result, each with its state and, when it was not made, why; [] for a result
    that recorded no runs."""
    runs = {run["name"]: run for run in (result or {}).get("runs") or [] if run.get("name") in CHECKS}
    if runs and result.get("jpeg") and "exif_thumbnail" not in runs:
        runs["exif_thumbnail"] = {"status": "skipped", "error": _("the file holds no EXIF thumbnail")}
    lines = []
    for name, label in CHECKS.items():
        if name in runs:
            state, words, reason = _state(name, runs[name], result)
            lines.append(ExaminationLine(name, str(label), state, words, reason))
    return lines


def incomplete_count(lines: list[ExaminationLine]) -> int:
    """How many checks were not made, or made only in part (a walk stopped at its limit, a tool reported errors)."""
    return sum(line.state in (NOT_MADE, PARTLY_EXAMINED) for line in lines)


def _state(name: str, run: dict, result: dict) -> tuple[str, str, str]:
    """(state, the state in words, why) of one check."""
    status, error = run.get("status"), run.get("error") or ""
    if status == "skipped":
        return NOT_APPLICABLE, _("not applicable"), error
    if status == "timeout":
        return NOT_MADE, _("not completed: time limit reached"), error
    if status != "ok":
        return NOT_MADE, _("not completed: the tool failed"), error
    if name == "double_jpeg":
        estimate = result.get("double_jpeg") or {}
        if not estimate.get("analysed", True):
            return NOT_MADE, _("not made"), estimate.get("reason") or ""
    if name == "exif_thumbnail":
        comparison = result.get("exif_thumbnail") or {}
        status = comparison.get("status", "compared")
        if status in _THUMBNAIL_NOT_APPLICABLE:
            return NOT_APPLICABLE, _("not applicable"), comparison.get("detail") or status.replace("_", " ")
        if status != "compared":
            return NOT_MADE, _("not made"), comparison.get("detail") or status.replace("_", " ")
    if name == "exiftool" and (errors := (result.get("exiftool") or {}).get("errors")):
        # ExifTool says what stopped it (an unknown file type, a format error) and answers with what it read.
        return PARTLY_EXAMINED, _("partly examined: ExifTool reported an error"), "; ".join(errors[:3])
    if name == "video":
        # The probe records what FFmpeg could not read instead of failing: with no stream read, nothing was.
        video = result.get("video") or {}
        if video.get("errors"):
            if not video.get("streams"):
                return NOT_MADE, _("not completed: FFmpeg could not read the file"), "; ".join(video["errors"][:3])
            return PARTLY_EXAMINED, _("partly examined: FFmpeg met errors"), "; ".join(video["errors"][:3])
    if stops := _walk_stops(name, result):
        return PARTLY_EXAMINED, _("partly examined: stopped at its limit"), "; ".join(stops)
    return EXAMINED, _("examined"), ""


def _walk_stops(name: str, result: dict) -> list[str]:
    """Where the run's structure walk stopped at one of its limits, in words ([] when it walked the whole file)."""
    walk = (result.get(name) or {}) if name in _WALKS else {}
    issues = [*(walk.get("issues") or []), *((walk.get("heif") or {}).get("issues") or [])]
    stops = []
    for issue in issues:
        if issue.get("code") in WALK_LIMIT_CODES:
            offset = issue.get("offset")
            where = _(" at offset %(offset)s") % {"offset": f"{offset:,}"} if offset is not None else ""
            stops.append(
                _("%(message)s%(where)s; the rest of the file was not examined")
                % {"message": str(issue.get("message") or "").rstrip("."), "where": where}
            )
    return stops
