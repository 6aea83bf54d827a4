"""Building a device-profile file: read folders of labelled originals, keep the camera originals, and generate the
quantisation tables software encoders write, by running those encoders here at every quality."""

from __future__ import annotations

import functools
import hashlib
import io
import re
import subprocess
import tempfile
from collections.abc import Iterable
from importlib.metadata import version
from pathlib import Path
from typing import Any

from PIL import Image

from forensics.analysers.exiftool_metadata import exiftool_read_many, exiftool_version
from forensics.analysers.h26x_bitstream import SOFTWARE_ENCODERS
from forensics.analysers.isobmff_structure import IsoBmffStructure, isobmff_structure_read
from forensics.analysers.jpeg_fingerprint import encoder_fingerprint
from forensics.analysers.jpeg_structure import jpeg_structure_read
from forensics.analysers.results import AnalysisResult
from forensics.analysers.video_probe import VideoProbe, video_probe_read
from forensics.analysers.video_traits import video_claimed_device, video_traits
from forensics.device_profiles import Original, VideoOriginal
from forensics.rules.facts import as_int, claimed_camera
from forensics.rules.video import FFMPEG_DATA_HANDLER, FFMPEG_MINOR_VERSION

JPEG_SUFFIXES = {".jpg", ".jpeg", ".jpe"}
CAMERA_ORIGINAL_CRITERION = (
    "ExifTool sees IFD0 Make and the ExifIFD has a maker note, no Software/CreatorTool/History field names an "
    "editor and there is no XMP history, and the coded pixel size is the size the EXIF recorded (turned when "
    "Orientation says so); duplicates by SHA-256 counted once"
)
VIDEO_SUFFIXES = {".mov", ".mp4", ".m4v", ".3gp"}
VIDEO_ORIGINAL_CRITERION = (
    "an MP4/MOV whose QuickTime Keys (or udta ©mak/©mod) name a make and a model, whose coded streams carry no "
    "software encoder's string (x264, x265, Lavc, Xvid, DivX) and whose container is not FFmpeg's (ftyp minor "
    "version 0x200, 'DataHandler' data handlers); duplicates by SHA-256 counted once"
)
QUALITIES = range(1, 101)
# libjpeg builds bundled with jpeglib: the IJG releases whose tables differ (6b and 9's chroma scaling),
# libjpeg-turbo, and mozjpeg, whose default tables are not the Annex K ones.
JPEGLIB_BUILDS = {"6b": "libjpeg 6b", "9e": "libjpeg 9e", "turbo210": "libjpeg-turbo", "mozjpeg403": "mozjpeg"}
# ExifTool's JPEGDigest.pm lists digests measured from Adobe products we cannot run here.
_EXIFTOOL_DIGEST_LINE = re.compile(r"^\s*'([0-9a-f]{32}(?::\d+)?)'\s*=>\s*'(Adobe (?:Photoshop|Lightroom)[^']*)'")


def originals_read(folders: Iterable[Path], *, calibration_half: bool) -> tuple[list[Original], dict[str, int]]:
    """Camera originals among the JPEGs under `folders`, with counts of what was skipped and why."""
    skipped = {"duplicate": 0, "held_out_half": 0, "not_camera_original": 0, "resized_or_rotated": 0, "unreadable": 0}
    paths = _distinct_files(folders, JPEG_SUFFIXES, calibration_half=calibration_half, skipped=skipped)
    metadata = exiftool_read_many(list(paths.values()), timeout=600) if paths else {}
    originals = []
    for path in paths.values():
        exiftool = metadata.get(str(path.resolve()))
        jpeg = jpeg_structure_read(path)
        fingerprint = encoder_fingerprint(jpeg, exiftool.tags if exiftool else None)
        if exiftool is None or fingerprint is None:
            skipped["unreadable"] += 1
            continue
        result = AnalysisResult(
            file_size=jpeg.file_size,
            original_filename=None,
            declared_mime_type=None,
            detected_mime_type="image/jpeg",
            container="jpeg",
            analysed_at="",
            exiftool=exiftool,
            jpeg=jpeg,
        )
        if claimed_camera(result) is None or not jpeg.exif_maker_note_length or _xmp_history(exiftool.tags):
            skipped["not_camera_original"] += 1
            continue
        if _resized_or_rotated(exiftool.tags, jpeg.frame.width, jpeg.frame.height):
            skipped["resized_or_rotated"] += 1
            continue
        originals.append(
            Original(
                make=str(exiftool.tags.get("IFD0:Make", "")),
                model=str(exiftool.tags.get("IFD0:Model", "")),
                fingerprint=fingerprint,
            )
        )
    return originals, skipped


def video_originals_read(
    folders: Iterable[Path], *, calibration_half: bool
) -> tuple[list[VideoOriginal], dict[str, int]]:
    """Camera videos among the MP4/MOV files under `folders`, with counts of what was skipped and why."""
    skipped = {"duplicate": 0, "held_out_half": 0, "no_make_and_model": 0, "software_written": 0, "unreadable": 0}
    paths = _distinct_files(folders, VIDEO_SUFFIXES, calibration_half=calibration_half, skipped=skipped)
    videos = []
    for path in paths.values():
        isobmff = isobmff_structure_read(path)
        probe = video_probe_read(path)
        device = video_claimed_device(isobmff)
        if probe.first("video") is None:
            skipped["unreadable"] += 1
        elif device is None:
            skipped["no_make_and_model"] += 1
        elif _software_written(isobmff, probe):
            skipped["software_written"] += 1
        else:
            videos.append(VideoOriginal(make=device[0], model=device[1], traits=video_traits(probe, isobmff)))
    return videos, skipped


def _distinct_files(
    folders: Iterable[Path], suffixes: set[str], *, calibration_half: bool, skipped: dict[str, int]
) -> dict[str, Path]:
    """The files with these suffixes under `folders`, one per content (by SHA-256), and with `calibration_half` only
    the half whose digest starts with 0-7 (the other half is held out); counts duplicates and held-out files."""
    paths: dict[str, Path] = {}
    for folder in folders:
        for path in sorted(Path(folder).rglob("*")):
            if path.suffix.lower() not in suffixes or not path.is_file():
                continue
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
            if digest in paths:
                skipped["duplicate"] += 1
            elif calibration_half and digest[0] not in "01234567":
                skipped["held_out_half"] += 1
            else:
                paths[digest] = path
    return paths


def _software_written(isobmff: IsoBmffStructure, probe: VideoProbe) -> bool:
    signatures = [s for stream in probe.streams if stream.bitstream for s in stream.bitstream.signatures]
    data_handlers = [h.name for h in isobmff.handlers if h.path.endswith("/minf/hdlr")]
    return (
        any(signature.encoder in SOFTWARE_ENCODERS for signature in signatures)
        or isobmff.minor_version == FFMPEG_MINOR_VERSION
        or (bool(data_handlers) and all(name == FFMPEG_DATA_HANDLER for name in data_handlers))
    )


def _xmp_history(tags: dict[str, Any]) -> bool:
    return any(key.startswith("XMP") and key.rpartition(":")[2].startswith("History") for key in tags)


def _resized_or_rotated(tags: dict[str, Any], width: int, height: int) -> bool:
    """True when EXIF recorded another pixel size than the frame's (the corpus's "derived" files)."""
    recorded = (as_int(tags.get("ExifIFD:ExifImageWidth")), as_int(tags.get("ExifIFD:ExifImageHeight")))
    if None in recorded or recorded == (width, height):
        return False
    turned = any(word in str(tags.get("IFD0:Orientation", "")) for word in ("Rotate 90", "Rotate 270"))
    return not (turned and recorded == (height, width))


@functools.cache
def software_tables_generate() -> dict[str, Any]:
    """Table digests of software encoders, each made by running the encoder here on a generated image.

    The same encoder versions give the same tables, so one process computes them once."""
    quant: dict[str, set[str]] = {}
    with tempfile.TemporaryDirectory() as folder:
        source = Path(folder) / "source.png"
        _test_image().save(source)
        for quality in QUALITIES:
            buffer = io.BytesIO()
            Image.open(source).convert("RGB").save(buffer, "JPEG", quality=quality)
            _add(quant, buffer.getvalue(), folder, f"Pillow, quality {quality}")
            output = Path(folder) / "magick.jpg"
            subprocess.run(["convert", str(source), "-quality", str(quality), str(output)], check=True, timeout=60)
            _add(quant, output.read_bytes(), folder, f"ImageMagick, quality {quality}")
            for build, name in JPEGLIB_BUILDS.items():
                _add(quant, _jpeglib_encode(source, build, quality, folder), folder, f"{name}, quality {quality}")
    return {
        "made_by": [
            f"Pillow {version('Pillow')}, ImageMagick {_imagemagick_version()} (convert -quality Q) and jpeglib "
            f"{version('jpeglib')} builds {', '.join(JPEGLIB_BUILDS)}, each at qualities 1-100, run by "
            "`manage.py device_profiles build` on a generated 64x64 image",
            f"Adobe Photoshop and Lightroom JPEGDigest values from ExifTool {exiftool_version()}'s JPEGDigest.pm",
        ],
        "quant_digests": {digest: sorted(labels) for digest, labels in sorted(quant.items())},
        "jpeg_digests": _exiftool_adobe_digests(),
    }


def _add(quant: dict[str, set[str]], data: bytes, folder: str, label: str) -> None:
    path = Path(folder) / "encoded.jpg"
    path.write_bytes(data)
    fingerprint = encoder_fingerprint(jpeg_structure_read(path), None)
    if fingerprint is not None:
        quant.setdefault(fingerprint.quant_digest, set()).add(label)


def _jpeglib_encode(source: Path, build: str, quality: int, folder: str) -> bytes:
    import jpeglib
    import numpy as np

    output = Path(folder) / f"jpeglib-{build}.jpg"
    with jpeglib.version(build):
        jpeglib.from_spatial(np.asarray(Image.open(source).convert("RGB"))).write_spatial(str(output), qt=quality)
    return output.read_bytes()


def _test_image() -> Image.Image:
    image = Image.new("RGB", (64, 64))
    image.putdata([((x * 4) % 256, (y * 4) % 256, ((x + y) * 2) % 256) for y in range(64) for x in range(64)])
    return image


def _imagemagick_version() -> str:
    output = subprocess.run(["convert", "-version"], capture_output=True, text=True, timeout=30).stdout
    match = re.search(r"ImageMagick (\S+)", output)
    return match.group(1) if match else "unknown"


def _exiftool_adobe_digests() -> dict[str, list[str]]:
    located = subprocess.run(
        ["perl", "-MImage::ExifTool::JPEGDigest", "-e", 'print $INC{"Image/ExifTool/JPEGDigest.pm"}'],
        capture_output=True,
        text=True,
        timeout=30,
    )
    digests: dict[str, set[str]] = {}
    if located.returncode == 0 and located.stdout:
        for line in Path(located.stdout).read_text(encoding="latin-1").splitlines():
            if match := _EXIFTOOL_DIGEST_LINE.match(line):
                digests.setdefault(match.group(1), set()).add(match.group(2))
    return {digest: sorted(labels) for digest, labels in sorted(digests.items())}
