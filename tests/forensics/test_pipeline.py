"""The composite analyse_file: analysers chosen by detected type, each isolated, output JSON-serialisable."""

from __future__ import annotations

import hashlib
import json
import struct
import zlib
from pathlib import Path

import pytest

from forensics.analysers import analyse_file, analyse_files

from .conftest import picture


def test_jpeg_analysis_runs_the_image_analysers_and_records_tool_versions(camera_jpeg: Path) -> None:
    result = analyse_file(camera_jpeg, declared_mime_type="image/jpeg", original_filename="IMG_0001.JPG")

    statuses = {run.name: run.status for run in result.runs}
    assert statuses == {
        "sha256": "ok",
        "file_type": "ok",
        "exiftool": "ok",
        "jpeg": "ok",
        "double_jpeg": "ok",
        "mediainfo": "skipped",
        "c2pa": "skipped",  # no JUMBF box or provenance reference in the bytes
    }
    assert result.container == "jpeg"
    assert result.jpeg.frame.width == 640
    assert result.tool_versions["exiftool"] == "12.57"
    assert {"mediainfo", "libmagic", "c2pa", "jpeg", "double_jpeg", "jpeglib", "png", "isobmff"} <= set(
        result.tool_versions
    )


def test_result_converts_to_json(ffmpeg_mp4: Path) -> None:
    result = analyse_file(ffmpeg_mp4)

    stored = json.loads(json.dumps(result.to_dict()))

    assert stored["container"] == "isobmff"
    assert stored["isobmff"]["major_brand"] == "isom"
    assert stored["mediainfo"]["tracks"][1]["track_type"] == "Video"
    assert [run["name"] for run in stored["runs"]][:2] == ["file_type", "sha256"]


def test_one_failing_analyser_does_not_stop_the_others(tmp_path: Path) -> None:
    # given a PNG whose chunks are well-formed but whose pixel data is not valid zlib
    path = tmp_path / "broken-pixels.png"
    picture(16, 16).convert("RGBA").save(path)
    data = path.read_bytes()
    start = data.index(b"IDAT") - 4
    length = struct.unpack(">I", data[start : start + 4])[0]
    garbage = b"\x00" * length
    idat = data[start : start + 4] + b"IDAT" + garbage + struct.pack(">I", zlib.crc32(b"IDAT" + garbage))
    path.write_bytes(data[:start] + idat + data[start + 12 + length :])

    # when analysed
    result = analyse_file(path)

    # then the pixel-reading analyser failed, and the chunk walk and ExifTool still ran
    assert result.run("png_stealth").status == "failed"
    assert result.run("png").status == "ok"
    assert result.run("exiftool").status == "ok"
    assert result.png.complete


def test_empty_file_is_analysed_without_error(tmp_path: Path) -> None:
    path = tmp_path / "empty.mp4"
    path.write_bytes(b"")

    result = analyse_file(path)

    assert result.container == "empty"
    assert all(run.status in ("ok", "skipped") for run in result.runs)


def test_sha256_of_the_bytes_is_recorded_with_the_expected_digest(camera_jpeg: Path) -> None:
    digest = hashlib.sha256(camera_jpeg.read_bytes()).hexdigest()

    result = analyse_file(camera_jpeg, expected_sha256=f" {digest.upper()} ")

    assert result.sha256 == digest
    assert result.expected_sha256 == digest


def test_expected_sha256_that_is_not_a_digest_is_refused(camera_jpeg: Path) -> None:
    with pytest.raises(ValueError, match="not a hex SHA-256"):
        analyse_file(camera_jpeg, expected_sha256="d41d8cd98f00b204e9800998ecf8427e")


def test_batched_analysis_gives_the_same_result_as_one_file_at_a_time(
    camera_jpeg: Path, ffmpeg_mp4: Path, tmp_path: Path
) -> None:
    # given a JPEG, an MP4 and an empty file, with a batch size that splits them across ExifTool calls
    empty = tmp_path / "empty.jpg"
    empty.write_bytes(b"")
    paths = [camera_jpeg, ffmpeg_mp4, empty]

    # when they are analysed in batches and one by one
    batched = list(analyse_files(paths, batch_size=2))
    single = [analyse_file(path) for path in paths]

    # then every file gets the same ExifTool tags, type and hash either way, in the order given
    assert [r.sha256 for r in batched] == [r.sha256 for r in single]
    assert [r.detected_mime_type for r in batched] == [r.detected_mime_type for r in single]
    assert [r.exiftool.tags if r.exiftool else None for r in batched] == [
        r.exiftool.tags if r.exiftool else None for r in single
    ]
    assert batched[0].exiftool.tags["IFD0:Make"] == "Canon"
    assert batched[2].exiftool is None
