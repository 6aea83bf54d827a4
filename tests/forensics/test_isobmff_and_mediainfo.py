"""Our ISO-BMFF box walk and the MediaInfo reader, on an MP4 written by PyAV (FFmpeg) and hostile variants."""

from __future__ import annotations

import struct
import time
from pathlib import Path

from forensics.analysers.isobmff_structure import MAX_DEPTH, isobmff_structure_read
from forensics.analysers.mediainfo_tracks import mediainfo_read


def test_ffmpeg_mp4_shows_its_writer_in_brands_handlers_and_encoder_tag(ffmpeg_mp4: Path) -> None:
    # given an MP4 muxed by FFmpeg's libavformat
    # when its boxes are walked
    result = isobmff_structure_read(ffmpeg_mp4)

    # then FFmpeg's fingerprints are all there
    assert result.complete
    assert result.major_brand == "isom"
    assert result.minor_version == 0x200
    assert "iso2" in result.compatible_brands
    assert [box.type for box in result.top_level] == ["ftyp", "free", "mdat", "moov"]
    assert ("vide", "VideoHandler") in [(handler.handler_type, handler.name) for handler in result.handlers]
    assert result.vendor_tags["©too"].startswith("Lavf")
    assert result.times[0].box == "mvhd"
    assert result.times[0].raw_creation == 0  # FFmpeg leaves it unset unless told


def test_truncated_mp4_reports_the_box_that_overruns(ffmpeg_mp4: Path) -> None:
    data = ffmpeg_mp4.read_bytes()
    ffmpeg_mp4.write_bytes(data[: len(data) - 100])

    result = isobmff_structure_read(ffmpeg_mp4)

    assert not result.complete
    assert result.issues[0].code == "truncated_box"
    assert "'moov'" in result.issues[0].message
    assert [box.type for box in result.top_level] == ["ftyp", "free", "mdat"]


def test_deeply_nested_moov_stops_at_the_depth_limit_quickly(tmp_path: Path) -> None:
    # given 5000 moov boxes each nested in the previous one
    depth = 5000
    body = b""
    for _ in range(depth):
        body = struct.pack(">I4s", 8 + len(body), b"moov") + body
    path = tmp_path / "nested.mp4"
    path.write_bytes(struct.pack(">I4s4sI", 16, b"ftyp", b"isom", 0) + body)

    # when walked
    started = time.monotonic()
    result = isobmff_structure_read(path)

    # then it stops at the limit, fast
    assert time.monotonic() - started < 1
    assert result.issues[0].code == "depth_limit"
    assert max(box.depth for box in result.boxes) == MAX_DEPTH - 1


def test_box_claiming_more_than_the_file_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "liar.mp4"
    path.write_bytes(
        struct.pack(">I4s4sI", 16, b"ftyp", b"isom", 0) + struct.pack(">I4s", 1 << 30, b"mdat") + b"x" * 10
    )

    result = isobmff_structure_read(path)

    assert result.issues[0].code == "truncated_box"
    assert result.issues[0].offset == 16


def test_mediainfo_reports_codec_frame_rate_and_encoder_settings(ffmpeg_mp4: Path) -> None:
    result = mediainfo_read(ffmpeg_mp4)

    video = result.tracks_of("Video")[0]
    assert video["format"] == "AVC"
    assert video["frame_rate"] == "25.000"
    assert video["encoded_library_name"] == "x264"
    assert "cabac=" in video["encoding_settings"]
    general = result.tracks_of("General")[0]
    assert general["writing_application"].startswith("Lavf")
    assert "complete_name" not in general  # the server's path is not evidence
