"""Manipulation recipes for the accuracy benchmark: each makes one altered copy of a camera original with an ordinary
tool (Pillow, ImageMagick, ExifTool, jpegtran, libheif, FFmpeg), the way someone altering evidence would.

A recipe takes the original, a donor (another camera original, for splices and transplants) and the output path;
it writes the copy and returns nothing, or raises `NotApplicable` when the original does not suit it (no
thumbnail to replace, no donor of another make). Recipes are grouped in classes that the benchmark reports
separately, because the targets differ per class.
"""

from __future__ import annotations

import io
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageEnhance, JpegImagePlugin

TOOL_SECONDS = 120


class NotApplicable(Exception):
    """The recipe cannot be applied to this original (the reason is the message)."""


@dataclass(frozen=True)
class Original:
    path: Path
    sha256: str
    kind: str  # "jpeg", "heic" or "video"
    make: str
    model: str


@dataclass(frozen=True)
class Recipe:
    name: str
    manipulation_class: str
    kinds: tuple[str, ...]
    suffix: str
    make: Callable[[Original, Original, Path], None]
    tools: tuple[str, ...] = ()


def run(*command: str | Path, timeout: float = TOOL_SECONDS) -> None:
    completed = subprocess.run(
        [str(part) for part in command], capture_output=True, timeout=timeout, check=False, text=True
    )
    if completed.returncode != 0:
        raise RuntimeError(f"{command[0]} failed ({completed.returncode}): {completed.stderr.strip()[:300]}")


def exiftool(*arguments: str | Path) -> None:
    run("exiftool", "-q", "-q", "-m", *arguments)


# ---- Pillow helpers --------------------------------------------------------------------------------------------


def camera_image(original: Original) -> Image.Image:
    image = Image.open(original.path)
    image.load()
    return image


def exif_bytes(image: Image.Image) -> bytes:
    exif = image.info.get("exif")
    if not exif:
        raise NotApplicable("no EXIF block")
    return exif


def save_like_camera(image: Image.Image, camera: Image.Image, output: Path) -> None:
    """Save with the camera's own quantization tables, chroma subsampling and EXIF block (thumbnail included)."""
    image.save(
        output,
        "JPEG",
        qtables=camera.quantization,
        subsampling=JpegImagePlugin.get_sampling(camera),
        exif=exif_bytes(camera),
    )


def pixels(image: Image.Image) -> Image.Image:
    return image.convert("RGB")


def donor_region(donor: Original, size: tuple[int, int]) -> Image.Image:
    return pixels(camera_image(donor)).resize(size, Image.Resampling.LANCZOS)


# ---- stripped ---------------------------------------------------------------------------------------------------


def strip_exiftool(original: Original, donor: Original, output: Path) -> None:
    exiftool("-all=", "-o", output, original.path)


def strip_pillow(original: Original, donor: Original, output: Path) -> None:
    pixels(camera_image(original)).save(output, "JPEG", quality=92)


def strip_jpegtran(original: Original, donor: Original, output: Path) -> None:
    run("jpegtran", "-copy", "none", "-outfile", output, original.path)


def strip_imagemagick(original: Original, donor: Original, output: Path) -> None:
    run("convert", original.path, "-strip", output)


def strip_video_remux(original: Original, donor: Original, output: Path) -> None:
    run("ffmpeg", "-v", "error", "-y", "-i", original.path, "-map", "0", "-map_metadata", "-1", "-c", "copy", output)


# ---- re-encoded (EXIF kept) --------------------------------------------------------------------------------------


def reencode_pillow(quality: int) -> Callable[[Original, Original, Path], None]:
    def make(original: Original, donor: Original, output: Path) -> None:
        image = camera_image(original)
        pixels(image).save(output, "JPEG", quality=quality, exif=exif_bytes(image))

    return make


def reencode_pillow_own_tables(original: Original, donor: Original, output: Path) -> None:
    image = camera_image(original)
    save_like_camera(pixels(image), image, output)


def reencode_imagemagick(quality: int) -> Callable[[Original, Original, Path], None]:
    def make(original: Original, donor: Original, output: Path) -> None:
        run("convert", original.path, "-quality", str(quality), output)

    return make


def reencode_ffmpeg(original: Original, donor: Original, output: Path) -> None:
    """FFmpeg's MJPEG encoder, then the camera's metadata written back with ExifTool."""
    run("ffmpeg", "-v", "error", "-y", "-i", original.path, "-q:v", "2", "-frames:v", "1", output)
    exiftool("-overwrite_original", "-tagsfromfile", original.path, "-all:all", output)


def heic_to_jpeg_libheif(original: Original, donor: Original, output: Path) -> None:
    run("heif-convert", "-q", "92", original.path, output)
    exiftool("-overwrite_original", "-tagsfromfile", original.path, "-all:all", output)


def heic_to_jpeg_imagemagick(original: Original, donor: Original, output: Path) -> None:
    run("convert", original.path, "-quality", "90", output)


def reencode_video_x264(original: Original, donor: Original, output: Path) -> None:
    run(
        "ffmpeg", "-v", "error", "-y", "-i", original.path, "-map_metadata", "0", "-c:v", "libx264", "-preset",
        "veryfast", "-c:a", "aac", output,
    )  # fmt: skip


# ---- edited -------------------------------------------------------------------------------------------------------


def crop_pillow(original: Original, donor: Original, output: Path) -> None:
    image = camera_image(original)
    width, height = image.size
    cropped = pixels(image).crop((width // 10, height // 10, width - width // 10, height - height // 10))
    cropped.save(output, "JPEG", quality=92, exif=exif_bytes(image))


def crop_jpegtran_lossless(original: Original, donor: Original, output: Path) -> None:
    with Image.open(original.path) as image:
        width, height = image.size
    run("jpegtran", "-copy", "all", "-crop", f"{width * 3 // 4}x{height * 3 // 4}+0+0", "-outfile", output,
        original.path)  # fmt: skip


def brightness_pillow(original: Original, donor: Original, output: Path) -> None:
    image = camera_image(original)
    brighter = ImageEnhance.Brightness(pixels(image)).enhance(1.15)
    brighter.save(output, "JPEG", quality=92, exif=exif_bytes(image))


def colour_imagemagick(original: Original, donor: Original, output: Path) -> None:
    run("convert", original.path, "-modulate", "100,130,100", output)


def model_edit(original: Original, donor: Original, output: Path) -> None:
    exiftool("-Model=" + (original.model + " Pro").strip(), "-o", output, original.path)


def dates_shift(original: Original, donor: Original, output: Path) -> None:
    exiftool("-AllDates-=0:2:3 4:5:6", "-o", output, original.path)


def date_original_only(original: Original, donor: Original, output: Path) -> None:
    exiftool("-DateTimeOriginal-=0:0:10 0:0:0", "-o", output, original.path)


def video_dates_edit(original: Original, donor: Original, output: Path) -> None:
    exiftool("-QuickTime:CreateDate-=1:0:0 0:0:0", "-o", output, original.path)


def append_after_eoi(original: Original, donor: Original, output: Path) -> None:
    """A second picture glued after the end of the image (the classic hidden-payload and 'two images' trick)."""
    buffer = io.BytesIO()
    pixels(camera_image(donor)).resize((320, 240)).save(buffer, "JPEG", quality=80)
    output.write_bytes(original.path.read_bytes() + buffer.getvalue())


def gps_edit(original: Original, donor: Original, output: Path) -> None:
    exiftool("-GPSLatitude=48.8584", "-GPSLatitudeRef=N", "-GPSLongitude=2.2945", "-GPSLongitudeRef=E", "-o", output,
             original.path)  # fmt: skip


def orientation_edit(original: Original, donor: Original, output: Path) -> None:
    exiftool("-n", "-IFD0:Orientation=6", "-o", output, original.path)


# ---- resized / rotated --------------------------------------------------------------------------------------------


def resize_pillow(original: Original, donor: Original, output: Path) -> None:
    image = camera_image(original)
    half = pixels(image).resize((image.width // 2, image.height // 2), Image.Resampling.LANCZOS)
    half.save(output, "JPEG", quality=92, exif=exif_bytes(image))


def resize_imagemagick(original: Original, donor: Original, output: Path) -> None:
    run("convert", original.path, "-resize", "75%", output)


def resize_own_tables(original: Original, donor: Original, output: Path) -> None:
    image = camera_image(original)
    smaller = pixels(image).resize((image.width * 2 // 3, image.height * 2 // 3), Image.Resampling.LANCZOS)
    save_like_camera(smaller, image, output)


def rotate_pillow(original: Original, donor: Original, output: Path) -> None:
    image = camera_image(original)
    pixels(image).transpose(Image.Transpose.ROTATE_90).save(output, "JPEG", quality=92, exif=exif_bytes(image))


def rotate_jpegtran_lossless(original: Original, donor: Original, output: Path) -> None:
    run("jpegtran", "-copy", "all", "-rotate", "90", "-outfile", output, original.path)


# ---- subtle -------------------------------------------------------------------------------------------------------


def splice(original: Original, donor: Original, output: Path) -> None:
    image = camera_image(original)
    edited = pixels(image)
    size = (image.width // 4, image.height // 4)
    edited.paste(donor_region(donor, size), (image.width // 2, image.height // 3))
    save_like_camera(edited, image, output)


def copy_move(original: Original, donor: Original, output: Path) -> None:
    image = camera_image(original)
    edited = pixels(image)
    width, height = image.width // 5, image.height // 5
    patch = edited.crop((width, height, 2 * width, 2 * height))
    edited.paste(patch, (3 * width, 2 * height))
    save_like_camera(edited, image, output)


def exif_transplant_camera(original: Original, donor: Original, output: Path) -> None:
    """Another camera's JPEG, its metadata replaced by this camera's."""
    shutil.copyfile(donor.path, output)
    exiftool("-overwrite_original", "-all=", output)
    exiftool("-overwrite_original", "-tagsfromfile", original.path, "-all:all", output)


def exif_transplant_software(original: Original, donor: Original, output: Path) -> None:
    """A picture saved by software at the camera's size, with this camera's metadata copied on."""
    with Image.open(original.path) as image:
        size = image.size
    donor_region(donor, size).save(output, "JPEG", quality=95)
    exiftool("-overwrite_original", "-tagsfromfile", original.path, "-all:all", output)


def main_replaced_under_thumbnail(original: Original, donor: Original, output: Path) -> None:
    image = camera_image(original)
    if not thumbnail_present(original):
        raise NotApplicable("no EXIF thumbnail")
    save_like_camera(donor_region(donor, image.size), image, output)


def thumbnail_removed(original: Original, donor: Original, output: Path) -> None:
    if not thumbnail_present(original):
        raise NotApplicable("no EXIF thumbnail")
    exiftool("-IFD1:all=", "-o", output, original.path)


def thumbnail_replaced(original: Original, donor: Original, output: Path) -> None:
    if not thumbnail_present(original):
        raise NotApplicable("no EXIF thumbnail")
    thumbnail = output.with_suffix(".thumb.jpg")
    pixels(camera_image(donor)).resize((160, 120)).save(thumbnail, "JPEG", quality=80)
    try:
        exiftool(f"-ThumbnailImage<={thumbnail}", "-o", output, original.path)
    finally:
        thumbnail.unlink(missing_ok=True)


def make_model_of_other_maker(original: Original, donor: Original, output: Path) -> None:
    if not donor.make or donor.make.split()[0].lower() == original.make.split()[0].lower():
        raise NotApplicable("no donor of another make")
    exiftool(f"-Make={donor.make}", f"-Model={donor.model}", "-o", output, original.path)


def thumbnail_present(original: Original) -> bool:
    completed = subprocess.run(
        ["exiftool", "-b", "-ThumbnailImage", str(original.path)], capture_output=True, timeout=TOOL_SECONDS
    )
    return completed.stdout[:2] == b"\xff\xd8"


JPEG, HEIC, VIDEO = ("jpeg",), ("heic",), ("video",)

RECIPES: tuple[Recipe, ...] = (
    Recipe("strip-exiftool-all", "stripped", (*JPEG, *HEIC), "", strip_exiftool, ("exiftool",)),
    Recipe("strip-pillow-resave", "stripped", JPEG, ".jpg", strip_pillow),
    Recipe("strip-jpegtran-copy-none", "stripped", JPEG, ".jpg", strip_jpegtran, ("jpegtran",)),
    Recipe("strip-imagemagick", "stripped", JPEG, ".jpg", strip_imagemagick, ("convert",)),
    Recipe("strip-ffmpeg-remux", "stripped", VIDEO, "", strip_video_remux, ("ffmpeg",)),
    Recipe("reencode-pillow-q95", "re-encoded", JPEG, ".jpg", reencode_pillow(95)),
    Recipe("reencode-pillow-q85", "re-encoded", JPEG, ".jpg", reencode_pillow(85)),
    Recipe("reencode-pillow-q75", "re-encoded", JPEG, ".jpg", reencode_pillow(75)),
    Recipe("reencode-pillow-own-tables", "re-encoded", JPEG, ".jpg", reencode_pillow_own_tables),
    Recipe("reencode-imagemagick-q92", "re-encoded", JPEG, ".jpg", reencode_imagemagick(92), ("convert",)),
    Recipe("reencode-imagemagick-q80", "re-encoded", JPEG, ".jpg", reencode_imagemagick(80), ("convert",)),
    Recipe("reencode-ffmpeg-exif-back", "re-encoded", JPEG, ".jpg", reencode_ffmpeg, ("ffmpeg", "exiftool")),
    Recipe("heic-to-jpeg-libheif", "re-encoded", HEIC, ".jpg", heic_to_jpeg_libheif, ("heif-convert", "exiftool")),
    Recipe("heic-to-jpeg-imagemagick", "re-encoded", HEIC, ".jpg", heic_to_jpeg_imagemagick, ("convert",)),
    Recipe("reencode-ffmpeg-x264", "re-encoded", VIDEO, ".mp4", reencode_video_x264, ("ffmpeg",)),
    Recipe("crop-pillow", "edited", JPEG, ".jpg", crop_pillow),
    Recipe("crop-jpegtran-lossless", "edited", JPEG, ".jpg", crop_jpegtran_lossless, ("jpegtran",)),
    Recipe("brightness-pillow", "edited", JPEG, ".jpg", brightness_pillow),
    Recipe("colour-imagemagick", "edited", JPEG, ".jpg", colour_imagemagick, ("convert",)),
    Recipe("model-edit", "edited", (*JPEG, *HEIC), "", model_edit, ("exiftool",)),
    Recipe("dates-shift", "edited", (*JPEG, *HEIC), "", dates_shift, ("exiftool",)),
    Recipe("date-original-only", "edited", (*JPEG, *HEIC), "", date_original_only, ("exiftool",)),
    Recipe("video-date-edit", "edited", VIDEO, "", video_dates_edit, ("exiftool",)),
    Recipe("append-after-eoi", "edited", JPEG, ".jpg", append_after_eoi),
    Recipe("resize-pillow", "resized-rotated", JPEG, ".jpg", resize_pillow),
    Recipe("resize-imagemagick", "resized-rotated", JPEG, ".jpg", resize_imagemagick, ("convert",)),
    Recipe("resize-own-tables", "resized-rotated", JPEG, ".jpg", resize_own_tables),
    Recipe("rotate90-pillow", "resized-rotated", JPEG, ".jpg", rotate_pillow),
    Recipe("rotate90-jpegtran-lossless", "resized-rotated", JPEG, ".jpg", rotate_jpegtran_lossless, ("jpegtran",)),
    Recipe("splice-own-tables", "subtle", JPEG, ".jpg", splice),
    Recipe("copy-move-own-tables", "subtle", JPEG, ".jpg", copy_move),
    Recipe("exif-transplant-camera", "subtle", JPEG, ".jpg", exif_transplant_camera, ("exiftool",)),
    Recipe("exif-transplant-software", "subtle", JPEG, ".jpg", exif_transplant_software, ("exiftool",)),
    Recipe("main-replaced-under-thumbnail", "subtle", JPEG, ".jpg", main_replaced_under_thumbnail, ("exiftool",)),
    Recipe("thumbnail-removed", "subtle", JPEG, "", thumbnail_removed, ("exiftool",)),
    Recipe("thumbnail-replaced", "subtle", JPEG, "", thumbnail_replaced, ("exiftool",)),
    Recipe("make-model-other-maker", "subtle", (*JPEG, *HEIC), "", make_model_of_other_maker, ("exiftool",)),
    Recipe("gps-edit", "metadata-only", (*JPEG, *HEIC), "", gps_edit, ("exiftool",)),
    Recipe("orientation-edit", "metadata-only", JPEG, "", orientation_edit, ("exiftool",)),
)


# ---- video: re-encoded, remuxed, trimmed or joined, re-labelled (FFmpeg, ExifTool) -----------------------------
# A copy that also drops every container tag (-map_metadata -1) and FFmpeg's own name (bitexact) leaves only the
# bitstream and the container's layout to tell; the "spoofed" copies write a phone's handler names and Apple's
# Keys back, as someone passing a re-encode off as a phone recording would.

_QUIET_FFMPEG = ("ffmpeg", "-v", "error", "-y", "-nostdin")
# Re-encoding a Mac's 60 fps 2750x1834 recording takes minutes on two cores shared with the analysis.
VIDEO_TOOL_SECONDS = 900


def ffmpeg_run(*arguments: str | Path) -> None:
    run(*_QUIET_FFMPEG, *arguments, timeout=VIDEO_TOOL_SECONDS)


_NO_TAGS = ("-map_metadata", "-1", "-fflags", "+bitexact", "-flags:v", "+bitexact", "-flags:a", "+bitexact")
_PHONE_HANDLERS = ("-metadata:s:v", "handler_name=Core Media Video", "-metadata:s:a", "handler_name=Core Media Audio")


def video_reencode(codec: str, *extra: str, strip: bool = False) -> Callable[[Original, Original, Path], None]:
    def make(original: Original, donor: Original, output: Path) -> None:
        tags = _NO_TAGS if strip else ("-map_metadata", "0")
        ffmpeg_run("-i", original.path, "-map", "0:v:0", "-map", "0:a?", *tags, "-c:v", codec, *extra,
            "-c:a", "aac", output)  # fmt: skip

    return make


def video_reencode_spoofed(original: Original, donor: Original, output: Path) -> None:
    """libx264 with FFmpeg's traces removed and the phone's handler names and Keys (make, model, date) written back."""
    ffmpeg_run("-i", original.path, "-map", "0:v:0", "-map", "0:a?", "-map_metadata", "0", "-fflags",
        "+bitexact", "-flags:v", "+bitexact", "-flags:a", "+bitexact", *_PHONE_HANDLERS, "-movflags",
        "use_metadata_tags", "-c:v", "libx264", "-preset", "veryfast", "-c:a", "aac", output)  # fmt: skip


def video_reencode_spoofed_without_sei(original: Original, donor: Original, output: Path) -> None:
    """As above, and x264's version-and-settings SEI removed from the bitstream (filter_units), so that no encoder
    string is left in the coded video either."""
    ffmpeg_run("-i", original.path, "-map", "0:v:0", "-map", "0:a?", "-map_metadata", "0", "-fflags",
        "+bitexact", "-flags:v", "+bitexact", "-flags:a", "+bitexact", *_PHONE_HANDLERS, "-movflags",
        "use_metadata_tags", "-c:v", "libx264", "-preset", "veryfast", "-bsf:v", "filter_units=remove_types=6",
        "-c:a", "aac", output)  # fmt: skip


def video_remux(*extra: str, strip: bool = False) -> Callable[[Original, Original, Path], None]:
    def make(original: Original, donor: Original, output: Path) -> None:
        tags = (*_NO_TAGS, *_PHONE_HANDLERS) if strip else ("-map_metadata", "0")
        ffmpeg_run("-i", original.path, "-map", "0:v", "-map", "0:a?", *tags, "-c", "copy", *extra, output)

    return make


def video_duration(path: Path) -> float:
    completed = subprocess.run(
        ["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", str(path)],
        capture_output=True, text=True, timeout=TOOL_SECONDS, check=False,
    )  # fmt: skip
    try:
        return float(completed.stdout.strip())
    except ValueError:
        raise NotApplicable("ffprobe gives no duration") from None


def video_trim_start(original: Original, donor: Original, output: Path) -> None:
    """The first third cut off without re-encoding (stream copy from the keyframe before the cut)."""
    start = video_duration(original.path) / 3
    ffmpeg_run("-ss", f"{start:.3f}", "-i", original.path, "-map", "0:v", "-map", "0:a?", "-map_metadata",
        "0", "-c", "copy", output)  # fmt: skip


def video_trim_end(original: Original, donor: Original, output: Path) -> None:
    """The last half cut off without re-encoding."""
    keep = video_duration(original.path) / 2
    ffmpeg_run("-i", original.path, "-map", "0:v", "-map", "0:a?", "-map_metadata", "0", "-t",
        f"{keep:.3f}", "-c", "copy", output)  # fmt: skip


def video_concat(original: Original, donor: Original, output: Path) -> None:
    """The recording joined to itself without re-encoding (FFmpeg's concat demuxer)."""
    listing = output.with_suffix(".txt")
    quoted = str(Path(original.path).resolve()).replace("'", "'\\''")
    listing.write_text(f"file '{quoted}'\nfile '{quoted}'\n", encoding="utf-8")
    try:
        ffmpeg_run("-f", "concat", "-safe", "0", "-i", listing, "-map", "0:v", "-map", "0:a?",
            "-c", "copy", output)  # fmt: skip
    finally:
        listing.unlink(missing_ok=True)


def video_model_edit(original: Original, donor: Original, output: Path) -> None:
    exiftool("-Keys:Model=iPhone 15 Pro", "-QuickTime:Model=iPhone 15 Pro", "-o", output, original.path)


def video_audio_sample_rate(original: Original) -> int:
    completed = subprocess.run(
        ["ffprobe", "-v", "error", "-select_streams", "a:0", "-show_entries", "stream=sample_rate", "-of", "csv=p=0",
         str(original.path)],
        capture_output=True, text=True, timeout=TOOL_SECONDS, check=False,
    )  # fmt: skip
    try:
        return int(completed.stdout.strip())
    except ValueError:
        raise NotApplicable("no audio stream") from None


def video_audio_reencode(*, other_rate: bool) -> Callable[[Original, Original, Path], None]:
    """The coded video copied untouched and only the audio re-encoded with FFmpeg's AAC (at the recording's rate, or
    at the other common rate), the phone's tags and Keys kept: a dub or an audio edit passed off as the original."""

    def make(original: Original, donor: Original, output: Path) -> None:
        rate = video_audio_sample_rate(original)
        if other_rate:
            rate = 44100 if rate == 48000 else 48000
        ffmpeg_run("-i", original.path, "-map", "0:v:0", "-map", "0:a:0", "-map_metadata", "0", "-movflags",
            "use_metadata_tags", "-c:v", "copy", "-c:a", "aac", "-ar", str(rate), output)  # fmt: skip

    return make


def video_header_shortened(original: Original, donor: Original, output: Path) -> None:
    """The second half hidden without touching the media: the movie header, every track header and every edit list
    rewritten to half their durations, so players stop halfway while the coded media stays whole."""
    from forensics.analysers.isobmff_structure import isobmff_structure_read

    data = bytearray(original.path.read_bytes())
    structure = isobmff_structure_read(original.path)
    # Version-0 boxes only: mvhd duration 16 bytes into the body, tkhd duration 20, elst segment_duration 8 (+12 each).
    headers = [times for times in structure.times if times.box in ("mvhd", "tkhd")]
    if not headers or any(data[times.offset + 8] != 0 for times in headers):
        raise NotApplicable("no version-0 movie and track headers")
    for times in headers:
        at = times.offset + 8 + (16 if times.box == "mvhd" else 20)
        data[at : at + 4] = (int.from_bytes(data[at : at + 4], "big") // 2).to_bytes(4, "big")
    for edit_list in structure.edit_lists:
        if data[edit_list.offset + 8] != 0:
            raise NotApplicable("a version-1 edit list")
        for number in range(len(edit_list.entries)):
            at = edit_list.offset + 16 + 12 * number
            data[at : at + 4] = (int.from_bytes(data[at : at + 4], "big") // 2).to_bytes(4, "big")
    output.write_bytes(bytes(data))


def video_track_date_edit(original: Original, donor: Original, output: Path) -> None:
    """The track headers' creation time moved two days back, the movie header and the Keys date left alone."""
    exiftool("-TrackCreateDate-=0:0:2 0:0:0", "-o", output, original.path)


def video_keys_date_edit(original: Original, donor: Original, output: Path) -> None:
    """Only Apple's Keys creation date moved two days back (what a photo app's 'adjust date' may write)."""
    exiftool("-Keys:CreationDate-=0:0:2 0:0:0", "-o", output, original.path)


VIDEO_RECIPES = (
    Recipe("video-x264-tags-stripped", "video re-encoded", VIDEO, ".mp4",
           video_reencode("libx264", "-preset", "veryfast", strip=True), ("ffmpeg",)),
    Recipe("video-x264-phone-labels", "video re-encoded", VIDEO, ".mov", video_reencode_spoofed, ("ffmpeg",)),
    Recipe("video-x264-no-sei-phone-labels", "video re-encoded", VIDEO, ".mov", video_reencode_spoofed_without_sei,
           ("ffmpeg",)),
    Recipe("video-x265", "video re-encoded", VIDEO, ".mp4",
           video_reencode("libx265", "-preset", "ultrafast", "-tag:v", "hvc1"), ("ffmpeg",)),
    Recipe("video-mpeg4-tags-stripped", "video re-encoded", VIDEO, ".mp4", video_reencode("mpeg4", "-q:v", "3",
           strip=True), ("ffmpeg",)),
    Recipe("video-remux-mp4", "video remuxed", VIDEO, ".mp4", video_remux(), ("ffmpeg",)),
    Recipe("video-remux-phone-labels", "video remuxed", VIDEO, "", video_remux(strip=True), ("ffmpeg",)),
    Recipe("video-faststart", "video remuxed", VIDEO, "", video_remux("-movflags", "+faststart"), ("ffmpeg",)),
    Recipe("video-trim-start", "video trimmed-joined", VIDEO, "", video_trim_start, ("ffmpeg", "ffprobe")),
    Recipe("video-trim-end", "video trimmed-joined", VIDEO, "", video_trim_end, ("ffmpeg", "ffprobe")),
    Recipe("video-concat", "video trimmed-joined", VIDEO, "", video_concat, ("ffmpeg",)),
    Recipe("video-header-shortened", "video trimmed-joined", VIDEO, "", video_header_shortened),
    Recipe("video-model-edit", "video relabelled", VIDEO, "", video_model_edit, ("exiftool",)),
    Recipe("video-aac-only", "video re-encoded", VIDEO, "", video_audio_reencode(other_rate=False),
           ("ffmpeg", "ffprobe")),
    Recipe("video-aac-other-rate", "video re-encoded", VIDEO, "", video_audio_reencode(other_rate=True),
           ("ffmpeg", "ffprobe")),
    Recipe("video-track-date-edit", "video relabelled", VIDEO, "", video_track_date_edit, ("exiftool",)),
    Recipe("video-keys-date-edit", "video relabelled", VIDEO, "", video_keys_date_edit, ("exiftool",)),
)  # fmt: skip
RECIPES = (*RECIPES, *VIDEO_RECIPES)


def found_as_is(original: Original, donor: Original, output: Path) -> None:
    """Not a recipe to run: stands for camera files found already resized or rotated by someone else."""
    raise NotApplicable("found files are measured as they are")


# The share of each class the targets ask to be flagged; classes without a target are reported only.
TARGETS = {
    "stripped": 0.95,
    "re-encoded": 0.95,
    "edited": 0.95,
    "resized-rotated": 0.95,
    "resized-rotated (found)": 0.95,
    "subtle": 0.90,
    # Issue 12: every re-encoded, remuxed, trimmed or re-labelled camera video caught.
    "video re-encoded": 1.0,
    "video remuxed": 1.0,
    "video trimmed-joined": 1.0,
    "video relabelled": 1.0,
    # Issue 12: at least 95 % of damaged or fuzzed files flagged with a structural finding (forensic_accuracy.py).
    "container damaged": 0.95,
}
