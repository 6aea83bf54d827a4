"""Stream facts through MediaInfo (pymediainfo): tracks, codecs, encoder library and settings, durations, rates."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pymediainfo import MediaInfo

from .common import clip_text

MAX_VALUE_CHARS = 4096
# Cover art and similar embedded binaries are reported by length only.
_BINARY_FIELDS = {"cover_data"}
# The server's own view of the stored copy (its path and file-system dates) is not evidence about the media.
_SERVER_FIELDS = {"complete_name", "folder_name", "file_name", "file_name_extension", "file_extension"}
_SERVER_FIELD_PREFIXES = ("file_last_modification_date", "file_created_date")


@dataclass
class MediaInfoResult:
    """Every track MediaInfo reports, as its own field names (lower case, e.g. "encoded_library_settings")."""

    tracks: list[dict[str, Any]] = field(default_factory=list)

    def tracks_of(self, track_type: str) -> list[dict[str, Any]]:
        return [track for track in self.tracks if track.get("track_type") == track_type]


def mediainfo_version() -> str:
    return MediaInfo._get_library()[2]  # pymediainfo offers the loaded library's version only here


def mediainfo_read(path: str | Path) -> MediaInfoResult:
    """Parse the file with libmediainfo and keep every track's fields, bounded in size."""
    info = MediaInfo.parse(str(path))
    return MediaInfoResult(tracks=[_bounded(track.to_data()) for track in info.tracks])


def _bounded(track: dict[str, Any]) -> dict[str, Any]:
    bounded: dict[str, Any] = {}
    for key, value in track.items():
        if key in _SERVER_FIELDS or key.startswith(_SERVER_FIELD_PREFIXES):
            continue
        if key in _BINARY_FIELDS:
            bounded[key] = f"(binary data, {len(str(value)):,} characters of base64, summarised)"
        elif isinstance(value, str):
            bounded[key] = clip_text(value, MAX_VALUE_CHARS)
        elif isinstance(value, list):
            bounded[key] = [clip_text(item, MAX_VALUE_CHARS) if isinstance(item, str) else item for item in value]
        else:
            bounded[key] = value
    return bounded
