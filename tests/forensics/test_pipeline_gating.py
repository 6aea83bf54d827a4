"""Which analysers the pipeline runs on a file: the C2PA reader only where C2PA data can be, MediaInfo only for
audio and video, and the single pass over the bytes (file_pass) that decides the first and hashes them."""

from __future__ import annotations

import hashlib
import io
import subprocess
from pathlib import Path

import pytest

from forensics.analysers import analyse_file
from forensics.analysers.file_pass import HEAD_BYTES, FilePass
from forensics.rules import evaluate

from .conftest import picture


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


@pytest.mark.parametrize("trace", [b"jumb", b"dcterms:provenance"])
def test_file_pass_finds_a_c2pa_trace_across_its_read_boundaries_and_hashes_every_byte(tmp_path, trace) -> None:
    # given traces straddling the end of the head and a later chunk boundary, and a file with none
    for at in (HEAD_BYTES - 2, HEAD_BYTES + (1 << 20) - 3):
        data = bytes(at) + trace + bytes(3 << 20)
        file_pass = FilePass(_write(tmp_path / "trace.bin", data))

        digest = file_pass.finish()

        assert digest.c2pa_trace, at
        assert digest.sha256 == hashlib.sha256(data).hexdigest()
        assert file_pass.head == data[:HEAD_BYTES]
    clean = bytes(HEAD_BYTES + (2 << 20)).replace(b"\0" * 4, b"jum\0", 1000)
    assert FilePass(_write(tmp_path / "clean.bin", clean)).finish().c2pa_trace is False


def test_jpeg_without_c2pa_data_is_not_given_to_the_c2pa_reader(camera_jpeg: Path) -> None:
    result = analyse_file(camera_jpeg)

    assert result.run("c2pa").status == "skipped"
    assert result.c2pa is not None and result.c2pa.present is False  # as the reader would have said
    assert result.sha256 == hashlib.sha256(camera_jpeg.read_bytes()).hexdigest()


@pytest.mark.parametrize(
    ("name", "rule"),
    [
        ("c2pa/c2pa-valid/CIE-sig-CA.jpg", "EM-PROV-001"),
        ("video/c2pa-valid/video1.mp4", "EM-PROV-001"),
        ("c2pa/c2pa-invalid/adobe-20220124-E-dat-CA.jpg", "EM-INT-001"),
        ("c2pa/software-processed/cloud.jpg", "EM-PROV-003"),  # only an XMP reference to a remote manifest
    ],
)
def test_files_with_c2pa_data_are_read_and_judged_as_before(corpus: Path, name: str, rule: str) -> None:
    result = analyse_file(corpus / name)

    assert result.run("c2pa").status == "ok"
    assert result.c2pa.present
    assert rule in [finding.rule_id for finding in evaluate(result).findings]


def test_damaged_jumbf_in_a_file_is_still_read_and_reported(tmp_path: Path) -> None:
    # given a JPEG whose comment holds a JUMBF box header: the C2PA reader is asked and finds no manifest in APP11
    buffer = io.BytesIO()
    picture(64, 48).save(buffer, "JPEG", comment=b"\x00\x00\x00\x10jumb\x00\x00\x00\x08jumd")
    result = analyse_file(_write(tmp_path / "comment.jpg", buffer.getvalue()))

    assert result.run("c2pa").status == "ok"
    assert result.c2pa.present is False
    assert "EM-PROV-003" not in [finding.rule_id for finding in evaluate(result).findings]


def test_mediainfo_runs_for_audio_and_video_only(tmp_path: Path, camera_jpeg: Path) -> None:
    clip = tmp_path / "clip.mp4"
    sound = tmp_path / "sound.wav"
    still = tmp_path / "still.webp"
    for path, source in ((clip, "testsrc=size=160x120:rate=10"), (sound, "sine=frequency=440")):
        subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", source, "-t", "1", str(path)], check=True)
    picture(64, 48).save(still, "WEBP")

    runs = {path.name: analyse_file(path).run("mediainfo") for path in (clip, sound, still, camera_jpeg)}

    assert runs["clip.mp4"].status == "ok" and runs["sound.wav"].status == "ok"
    assert runs["still.webp"].status == "skipped" and runs[camera_jpeg.name].status == "skipped"
    assert "image/webp" in runs["still.webp"].error
