"""Media fixtures generated in the test run with Pillow, PyAV and ExifTool (no copied files)."""

from __future__ import annotations

import struct
import subprocess
from fractions import Fraction
from pathlib import Path

import av
import pytest
from PIL import Image, ImageDraw

CORPUS = Path(__file__).resolve().parents[2] / ".." / "shared" / "corpus"


def exiftool_write(path: Path, *assignments: str) -> None:
    """Write tags with the real ExifTool, in place."""
    subprocess.run(["exiftool", "-q", "-overwrite_original", *assignments, str(path)], check=True)


def picture(width: int = 640, height: int = 480) -> Image.Image:
    image = Image.new("RGB", (width, height), (90, 140, 200))
    draw = ImageDraw.Draw(image)
    for step in range(0, width, 40):
        draw.line([(step, 0), (width - step, height)], fill=(step % 255, 80, 160), width=3)
    return image


def exif_with_canon_maker_note() -> bytes:
    """A minimal little-endian EXIF block whose ExifIFD holds a Canon-style maker note.

    Pillow cannot write a MakerNote of the right type and ExifTool will not create one, so the TIFF is laid out
    here: IFD0 points to the ExifIFD, whose MakerNote (0x927C, UNDEFINED) is a Canon maker-note IFD with one
    inline entry, CanonModelID (0x0010) = 0x02700000, which ExifTool decodes as "PowerShot G11".
    """
    maker_note = struct.pack("<H", 1) + struct.pack("<HHII", 0x0010, 4, 1, 0x02700000) + struct.pack("<I", 0)
    ifd0_at = 8
    exif_ifd_at = ifd0_at + 2 + 12 + 4
    maker_note_at = exif_ifd_at + 2 + 12 + 4
    tiff = b"II*\x00" + struct.pack("<I", ifd0_at)
    tiff += struct.pack("<H", 1) + struct.pack("<HHII", 0x8769, 4, 1, exif_ifd_at) + struct.pack("<I", 0)
    tiff += struct.pack("<H", 1) + struct.pack("<HHII", 0x927C, 7, len(maker_note), maker_note_at)
    tiff += struct.pack("<I", 0)
    return b"Exif\x00\x00" + tiff + maker_note


# What a Canon PowerShot writes, in the tags ExifTool's -validate expects of a camera JPEG; the capture was at
# 10:00 local time (UTC+2), so the GPS receiver's UTC clock says 08:00.
CAMERA_TAGS = (
    "-Make=Canon",
    "-Model=Canon PowerShot G11",
    "-DateTimeOriginal=2024:05:01 10:00:00",
    "-CreateDate=2024:05:01 10:00:00",
    "-ModifyDate=2024:05:01 10:00:00",
    "-OffsetTimeOriginal=+02:00",
    "-GPSDateStamp=2024:05:01",
    "-GPSTimeStamp=08:00:00",
    "-ExifImageWidth=640",
    "-ExifImageHeight=480",
    "-ExifVersion=0230",
    "-FlashpixVersion=0100",
    "-ColorSpace=sRGB",
    "-ComponentsConfiguration=Y, Cb, Cr, -",
    "-XResolution=180",
    "-YResolution=180",
    "-ResolutionUnit=inches",
    "-YCbCrPositioning=Co-sited",
)


@pytest.fixture
def camera_jpeg(tmp_path: Path) -> Path:
    """A JPEG with the EXIF a camera writes: make, model, maker note, capture date and GPS time, pixel size; and,
    like camera firmware, no JFIF header (libjpeg's, which Pillow writes)."""
    path = tmp_path / "IMG_0001.jpg"
    picture().save(path, quality=92, exif=exif_with_canon_maker_note())
    exiftool_write(path, "-JFIF:all=", *CAMERA_TAGS)
    return with_reserved_exif_space(path)


@pytest.fixture
def photoshop_jpeg(camera_jpeg: Path) -> Path:
    exiftool_write(camera_jpeg, "-Software=Adobe Photoshop 7.0", "-ModifyDate=2024:06:01 12:00:00")
    return camera_jpeg


@pytest.fixture
def sd_png(tmp_path: Path) -> Path:
    """A PNG carrying Stable Diffusion web UI parameters in a tEXt chunk, as the web UI saves it."""
    from PIL.PngImagePlugin import PngInfo

    info = PngInfo()
    info.add_text(
        "parameters",
        "a red fox in snow\nNegative prompt: blurry\nSteps: 20, Sampler: Euler a, CFG scale: 7, Seed: 42, Size: 64x64",
    )
    path = tmp_path / "00001-42.png"
    picture(64, 64).save(path, pnginfo=info)
    return path


@pytest.fixture
def ffmpeg_mp4(tmp_path: Path) -> Path:
    """A short H.264 MP4 written by PyAV, i.e. by FFmpeg's libavformat and libx264."""
    path = tmp_path / "clip.mp4"
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=25)
        stream.width, stream.height, stream.pix_fmt = 160, 120, "yuv420p"
        for index in range(25):
            frame = av.VideoFrame.from_image(picture(160, 120).rotate(index))
            frame.pts, frame.time_base = index, Fraction(1, 25)
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


@pytest.fixture
def corpus() -> Path:
    if not CORPUS.is_dir():
        pytest.skip(f"shared media corpus not found at {CORPUS} (it lives beside the repository, not in it)")
    return CORPUS.resolve()


def with_reserved_exif_space(path: Path, spare: int = 512) -> Path:
    """Firmware writes its EXIF into a fixed-size block with room to spare; ExifTool (used above to set the tags)
    serialises it tightly, so the spare room is put back at the end of the APP1 Exif segment, as a camera has it."""
    data = path.read_bytes()
    position = 2
    while data[position] == 0xFF and data[position + 1] != 0xDA:
        (length,) = struct.unpack(">H", data[position + 2 : position + 4])
        if data[position + 1] == 0xE1 and data[position + 4 : position + 10] == b"Exif\0\0":
            segment = data[position + 4 : position + 2 + length] + bytes(spare)
            header = b"\xff\xe1" + struct.pack(">H", len(segment) + 2)
            path.write_bytes(data[:position] + header + segment + data[position + 2 + length :])
            return path
        position += 2 + length
    raise AssertionError(f"{path} has no APP1 Exif segment")
