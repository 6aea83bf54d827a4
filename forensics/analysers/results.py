"""The composite analysis result: every analyser's output, how each run went, and the tool versions used."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .c2pa_manifest import C2paResult
from .common import jsonable
from .double_jpeg import DoubleJpegEstimate
from .ebml_structure import EbmlStructure
from .exif_thumbnail import ThumbnailComparison
from .exiftool_metadata import ExifToolResult
from .filetype import FileTypeResult
from .gif_structure import GifStructure
from .isobmff_structure import IsoBmffStructure
from .jpeg_structure import JpegStructure
from .mediainfo_tracks import MediaInfoResult
from .png_stealth import StealthParameters
from .png_structure import PngStructure
from .riff_structure import RiffStructure
from .tiff_structure import TiffStructure
from .video_probe import VideoProbe

ENGINE_VERSION = "evidence-media-forensics/1"


@dataclass
class AnalyserRun:
    """How one analyser ended: ok, failed (it raised), timeout, or skipped (not applicable), and why."""

    name: str
    status: str
    duration_ms: int
    error: str | None = None


@dataclass
class AnalysisResult:
    """Everything the analysers found in one file.

    `sha256` is computed from the bytes read for this analysis; `expected_sha256` is the digest the caller
    recorded at ingest, if it gave one. `analysed_at` (UTC, ISO 8601) is the moment the analysis began:
    rules that judge "future" dates compare with it, so re-evaluating a stored result gives the same verdict.
    """

    file_size: int
    original_filename: str | None
    declared_mime_type: str | None
    detected_mime_type: str | None
    container: str
    analysed_at: str
    sha256: str | None = None
    expected_sha256: str | None = None
    file_type: FileTypeResult | None = None
    exiftool: ExifToolResult | None = None
    mediainfo: MediaInfoResult | None = None
    jpeg: JpegStructure | None = None
    double_jpeg: DoubleJpegEstimate | None = None
    exif_thumbnail: ThumbnailComparison | None = None
    png: PngStructure | None = None
    png_stealth: StealthParameters | None = None
    isobmff: IsoBmffStructure | None = None
    riff: RiffStructure | None = None
    ebml: EbmlStructure | None = None
    gif: GifStructure | None = None
    tiff: TiffStructure | None = None
    video: VideoProbe | None = None  # FFmpeg's view of the streams plus our reading of their coded bytes
    c2pa: C2paResult | None = None
    runs: list[AnalyserRun] = field(default_factory=list)
    tool_versions: dict[str, str] = field(default_factory=dict)
    engine_version: str = ENGINE_VERSION

    def run(self, name: str) -> AnalyserRun | None:
        return next((run for run in self.runs if run.name == name), None)

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable form (bytes as base64, dataclasses as dicts), for storage in a JSONField."""
        return jsonable(self)
