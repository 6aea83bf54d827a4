"""Small, generated media for the demo and the tests: a camera-like JPEG, an edited and a stripped copy of it,
a PNG carrying Stable-Diffusion-style generation parameters, a JPEG declared AI-generated, and a short MP4. All of
it is clearly demo data.

Every generator takes an output directory and returns the path it wrote. Output is deterministic for a given
Pillow, libjpeg, ExifTool and FFmpeg build, so reseeding gives the same digests (and so the same duplicates).
"""

import shutil
import subprocess
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
from PIL import Image, ImageDraw
from PIL.ExifTags import IFD, Base
from PIL.PngImagePlugin import PngInfo

CAMERA_SIZE = (640, 480)
EDITED_SIZE = (512, 384)
DATE_TIME_ORIGINAL = "2024:03:14 21:07:33"
EDITED_MODIFY_DATE = "2024:03:16 10:42:05"
EDITED_SOFTWARE = "Adobe Photoshop 25.0 (Windows)"

# Tags a compact camera writes, without a maker note. The EXIF: group keeps ExifTool from adding XMP, which a
# camera would not write.
CAMERA_EXIF = {
    "EXIF:Make": "Canon",
    "EXIF:Model": "Canon PowerShot G7 X Mark III",
    "EXIF:Orientation#": "1",
    "EXIF:XResolution": "180",
    "EXIF:YResolution": "180",
    "EXIF:ResolutionUnit": "inches",
    "EXIF:ModifyDate": DATE_TIME_ORIGINAL,
    "EXIF:DateTimeOriginal": DATE_TIME_ORIGINAL,
    "EXIF:CreateDate": DATE_TIME_ORIGINAL,
    "EXIF:OffsetTimeOriginal": "+01:00",
    "EXIF:SubSecTimeOriginal": "42",
    "EXIF:ExposureTime": "1/60",
    "EXIF:FNumber": "2.8",
    "EXIF:ExposureProgram": "Program AE",
    "EXIF:ISO": "400",
    "EXIF:ExifVersion": "0231",
    "EXIF:ShutterSpeedValue": "1/60",
    "EXIF:ApertureValue": "2.8",
    "EXIF:ExposureCompensation": "0",
    "EXIF:MeteringMode": "Multi-segment",
    "EXIF:Flash#": "16",  # off, did not fire
    "EXIF:FocalLength": "8.8",
    "EXIF:ColorSpace": "sRGB",
    "EXIF:ExifImageWidth": str(CAMERA_SIZE[0]),
    "EXIF:ExifImageHeight": str(CAMERA_SIZE[1]),
    "EXIF:WhiteBalance": "Auto",
    "EXIF:FocalLengthIn35mmFormat": "24",
    "EXIF:SceneCaptureType": "Standard",
    "EXIF:GPSLatitude": "51.50722",
    "EXIF:GPSLatitudeRef": "N",
    "EXIF:GPSLongitude": "0.12750",
    "EXIF:GPSLongitudeRef": "W",
    "EXIF:GPSAltitude": "11",
    "EXIF:GPSAltitudeRef": "Above Sea Level",
    "EXIF:ImageDescription": "Evidence Media demo image (generated, not a real photograph)",
}

SD_PARAMETERS = (
    "DEMO DATA - synthetic example written by Evidence Media, not a real generation. "
    "photo of a person standing on a beach at sunset, 35mm, detailed, high quality\n"
    "Negative prompt: blurry, lowres, watermark\n"
    "Steps: 25, Sampler: DPM++ 2M Karras, CFG scale: 7, Seed: 1234567890, Size: 512x512, "
    "Model hash: 0000000000, Model: demo-model-v1, Version: v1.7.0"
)


@dataclass(frozen=True)
class DemoMedia:
    """One generated file with the media type libmagic should detect in it."""

    path: Path
    mime_type: str


def camera_jpeg_create(directory: Path, name: str = "IMG_0412.JPG") -> Path:
    """A JPEG that looks straight out of a camera: consistent EXIF dates, exposure, GPS and pixel size."""
    path = Path(directory) / name
    _scene(CAMERA_SIZE).save(path, "JPEG", quality=92)
    exiftool_write(path, CAMERA_EXIF)
    return path


def edited_jpeg_create(directory: Path, source: Path, name: str = "IMG_0412-edited.jpg") -> Path:
    """The camera JPEG retouched and re-saved by an editor: Software names Photoshop, ModifyDate is later than
    DateTimeOriginal, and the pixels are resized while ExifImageWidth/Height still give the camera's size."""
    path = Path(directory) / name
    with Image.open(source) as original:
        exif = original.getexif()
        # Loading the sub-IFDs keeps them in the re-saved EXIF, as an editor that copies metadata forward would.
        exif.get_ifd(IFD.Exif)
        exif.get_ifd(IFD.GPSInfo)
        edited = original.convert("RGB").resize(EDITED_SIZE, Image.Resampling.LANCZOS)
    ImageDraw.Draw(edited).ellipse((300, 120, 380, 200), fill=(214, 182, 160))
    exif[Base.Software] = EDITED_SOFTWARE
    exif[Base.DateTime] = EDITED_MODIFY_DATE
    edited.save(path, "JPEG", quality=85, exif=exif.tobytes())
    return path


def stripped_jpeg_create(directory: Path, source: Path, name: str = "received-via-messenger.jpg") -> Path:
    """The camera JPEG with every metadata segment removed (as messaging apps do); the pixel data is untouched."""
    path = Path(directory) / name
    _exiftool(["-all=", "-o", str(path), "--", str(source)])
    return path


def generated_png_create(directory: Path, name: str = "00042-1234567890.png") -> Path:
    """A PNG shaped like a Stable Diffusion web UI output, with its tEXt "parameters" chunk marked as demo data."""
    path = Path(directory) / name
    info = PngInfo()
    info.add_text("parameters", SD_PARAMETERS)
    _scene((512, 512), sky=(250, 170, 110), ground=(222, 196, 150)).save(path, "PNG", pnginfo=info)
    return path


# The IPTC digital source type Adobe Firefly and other generators declare for wholly AI-made pictures.
TRAINED_ALGORITHMIC_MEDIA = "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"


def ai_declared_jpeg_create(directory: Path, name: str = "firefly-output.jpg") -> Path:
    """A JPEG declared AI-generated the way Adobe Firefly declares it, without C2PA: XMP DigitalSourceType
    trainedAlgorithmicMedia and CreatorTool "Adobe Firefly" (written by ExifTool; a demo, not Firefly output)."""
    path = Path(directory) / name
    _scene((512, 512), sky=(170, 120, 220), ground=(90, 60, 140)).save(path, "JPEG", quality=90)
    exiftool_write(
        path, {"XMP-iptcExt:DigitalSourceType": TRAINED_ALGORITHMIC_MEDIA, "XMP-xmp:CreatorTool": "Adobe Firefly"}
    )
    return path


def generated_mp4_create(directory: Path, name: str = "VID_20240314_210800.mp4", seconds: int = 3) -> Path:
    """A few seconds of generated frames in an MP4: H.264 when the PyAV build has an encoder for it, else MPEG-4."""
    path = Path(directory) / name
    fps, (width, height) = 25, (320, 240)
    codec = _mp4_video_codec()
    with av.open(str(path), mode="w", format="mp4") as container:
        stream = container.add_stream(codec, rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.time_base = Fraction(1, fps)
        if codec == "libx264":
            # One thread and fixed options keep the bitstream identical from run to run.
            stream.options = {"crf": "28", "preset": "veryfast", "threads": "1"}
        for index in range(fps * seconds):
            frame_image = _scene((width, height))
            draw = ImageDraw.Draw(frame_image)
            x = 10 + index * 3
            draw.rectangle((x, 150, x + 40, 190), fill=(30, 30, 160))
            draw.text((8, 8), f"DEMO {index:03d}", fill=(255, 255, 255))
            frame = av.VideoFrame.from_image(frame_image)
            frame.pts = index
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return path


def demo_media_create(directory: Path) -> dict[str, DemoMedia]:
    """Every demo file, keyed by a short role name, with the media type each one is."""
    directory = Path(directory)
    camera = camera_jpeg_create(directory)
    return {
        "camera": DemoMedia(camera, "image/jpeg"),
        "edited": DemoMedia(edited_jpeg_create(directory, camera), "image/jpeg"),
        "stripped": DemoMedia(stripped_jpeg_create(directory, camera), "image/jpeg"),
        "generated": DemoMedia(generated_png_create(directory), "image/png"),
        "video": DemoMedia(generated_mp4_create(directory), "video/mp4"),
    }


def exiftool_write(path: Path, tags: dict[str, str]) -> None:
    """Write `tags` into `path` in place with ExifTool (a trailing # in a tag name means a raw numeric value)."""
    _exiftool(["-overwrite_original", *(f"-{tag}={value}" for tag, value in tags.items()), "--", str(path)])


def _exiftool(arguments: list[str]) -> None:
    executable = shutil.which("exiftool")
    if executable is None:
        raise RuntimeError("ExifTool is not installed (the exiftool command was not found on PATH).")
    # A fixed argument list, never a shell: file names cannot become options or commands.
    subprocess.run([executable, "-q", "-q", *arguments], check=True, capture_output=True, timeout=60)


def _mp4_video_codec() -> str:
    for codec in ("libx264", "mpeg4"):
        try:
            av.codec.Codec(codec, "w")
        except Exception:  # noqa: BLE001, S112 - PyAV raises different errors for "unknown" across versions
            continue
        return codec
    raise RuntimeError("This PyAV build has neither an H.264 (libx264) nor an MPEG-4 Part 2 encoder.")


def _scene(size: tuple[int, int], sky=(90, 140, 210), ground=(70, 120, 60)) -> Image.Image:
    """A plain outdoor-looking picture: a graded sky, a horizon, a sun and a few shapes."""
    width, height = size
    image = Image.new("RGB", size, ground)
    draw = ImageDraw.Draw(image)
    horizon = height * 3 // 5
    for y in range(horizon):
        shade = y / max(horizon - 1, 1)
        draw.line((0, y, width, y), fill=tuple(int(c + (255 - c) * shade * 0.5) for c in sky))
    draw.ellipse((width * 3 // 4, height // 10, width * 3 // 4 + width // 10, height // 10 + width // 10), fill="white")
    draw.rectangle((width // 8, horizon - height // 4, width // 8 + width // 6, horizon), fill=(120, 90, 70))
    draw.polygon(
        [(width // 2, horizon - height // 6), (width // 2 - width // 10, horizon), (width // 2 + width // 10, horizon)],
        fill=(60, 60, 60),
    )
    return image
