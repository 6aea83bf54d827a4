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


def test_a_long_fragmented_recording_is_walked_whole_and_not_called_damaged(tmp_path: Path) -> None:
    import subprocess

    from forensics.analysers.pipeline import analyse_file
    from forensics.rules import evaluate

    # given five minutes cut into a fragment per frame, as low-latency recorders write: about 21,000 boxes
    path = tmp_path / "fragmented.mp4"
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc=size=64x48:rate=10", "-t", "300",
         "-c:v", "libx264", "-preset", "ultrafast", "-g", "1", "-movflags", "frag_keyframe+empty_moov", str(path)],
        check=True, timeout=120,
    )  # fmt: skip

    result = analyse_file(path)
    rules = {finding.rule_id for finding in evaluate(result).findings}

    assert result.isobmff.box_count > 20_000 and result.isobmff.issues == []
    assert "EM-STRUCT-002" not in rules and "EM-STRUCT-013" not in rules


def test_a_walk_stopped_at_its_limit_is_said_incomplete_not_damaged(tmp_path: Path, monkeypatch) -> None:
    from forensics.analysers import isobmff_structure
    from forensics.analysers.pipeline import analyse_file
    from forensics.rules import evaluate

    # given more boxes than the walk reads (its limit lowered, so that the file stays small)
    monkeypatch.setattr(isobmff_structure, "MAX_BOXES", 50)
    path = tmp_path / "many.mp4"
    path.write_bytes(struct.pack(">I4s4sI", 16, b"ftyp", b"isom", 0) + struct.pack(">I4s", 8, b"free") * 100)

    findings = {finding.rule_id: finding for finding in evaluate(analyse_file(path)).findings}

    assert "EM-STRUCT-002" not in findings
    stopped = findings["EM-STRUCT-013"]
    assert stopped.explanation == (
        "the isobmff walk stopped at its limit: Stopped after 50 boxes (at offset 408); the rest of the file was not "
        "examined."
    )
    assert stopped.evidence["structure:walk_limits"][0]["code"] == "box_limit"
