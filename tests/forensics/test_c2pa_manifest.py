"""C2PA reading through c2pa-python: files without manifests, and the public test files in the corpus."""

from __future__ import annotations

import io
import struct
import subprocess
from pathlib import Path

from forensics.analysers import analyse_file
from forensics.analysers.c2pa_manifest import c2pa_marker_find, c2pa_read
from forensics.rules import evaluate

from .conftest import picture


def test_file_without_manifest_reports_absence(camera_jpeg: Path) -> None:
    result = c2pa_read(camera_jpeg, mime_type="image/jpeg")

    assert result.present is False
    assert result.codes == []


def test_valid_manifest_reports_generator_actions_and_only_trust_codes(corpus: Path) -> None:
    result = c2pa_read(corpus / "images/ai-generated/firefly_ocsp.jpg", mime_type="image/jpeg")

    assert result.present
    assert result.validation_state == "Valid"
    assert result.codes == ["signingCredential.untrusted"]
    assert result.active_manifest.generator_names == ["Adobe Photoshop 26.9.0"]
    assert "c2pa.edited" in [action.action for action in result.active_manifest.actions]
    digital_source_types = {action.digital_source_type for m in result.manifests for action in m.actions}
    assert "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia" in digital_source_types


def test_altered_image_reports_the_data_hash_mismatch(corpus: Path) -> None:
    result = c2pa_read(corpus / "c2pa/c2pa-invalid/adobe-20220124-E-dat-CA.jpg", mime_type="image/jpeg")

    assert result.validation_state == "Invalid"
    assert "assertion.dataHash.mismatch" in result.codes


def test_remote_manifest_is_not_fetched(corpus: Path) -> None:
    result = c2pa_read(corpus / "c2pa/software-processed/cloud.jpg", mime_type="image/jpeg")

    assert result.present
    assert "remote" in result.read_error.lower()


def _ffmpeg_clip(path: Path, *options: str) -> Path:
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc=size=160x120:rate=10", "-t", "1",
         "-c:v", "mpeg4", *options, str(path)],
        check=True,
    )  # fmt: skip
    return path


def _quicktime_without_ftyp(tmp_path: Path) -> Path:
    """A QuickTime movie laid out as before ftyp existed: the ftyp box turned into a free box of the same size."""
    path = _ffmpeg_clip(tmp_path / "old.mov", "-f", "mov")
    data = bytearray(path.read_bytes())
    assert data[4:8] == b"ftyp"
    data[4:8] = b"free"
    path.write_bytes(bytes(data))
    return path


def _truncated_avi(tmp_path: Path) -> Path:
    path = _ffmpeg_clip(tmp_path / "clip.avi")
    path.write_bytes(path.read_bytes()[:3000])
    return path


def test_container_the_c2pa_reader_cannot_walk_is_not_reported_as_provenance(tmp_path: Path) -> None:
    for path in (_quicktime_without_ftyp(tmp_path), _truncated_avi(tmp_path)):
        read = c2pa_read(path, mime_type="video/quicktime" if path.suffix == ".mov" else "video/x-msvideo")
        result = analyse_file(path)

        assert read.read_error and read.present is False, path.name  # the SDK fails on the container
        # and the pipeline, finding no JUMBF box in the bytes, does not even ask it
        assert result.run("c2pa").status == "skipped", path.name
        assert result.c2pa.present is False, path.name
        assert "EM-PROV-003" not in [finding.rule_id for finding in evaluate(result).findings], path.name


def test_damaged_manifest_store_is_reported_as_c2pa_that_could_not_be_validated(tmp_path: Path) -> None:
    # given a JPEG whose APP11 segment holds a C2PA JUMBF superbox with nothing valid inside
    description = struct.pack(">I", 8 + 16 + 1 + 5) + b"jumd" + bytes.fromhex("6332706100110010800000aa00389b71")
    description += b"\x03c2pa\x00"
    junk = struct.pack(">I", 16) + b"junk" * 3
    superbox = struct.pack(">I", 8 + len(description) + len(junk)) + b"jumb" + description + junk
    payload = b"JP" + struct.pack(">HI", 1, 1) + superbox
    buffer = io.BytesIO()
    picture(64, 48).save(buffer, "JPEG")
    path = tmp_path / "damaged-c2pa.jpg"
    path.write_bytes(buffer.getvalue()[:2] + b"\xff\xeb" + struct.pack(">H", len(payload) + 2) + payload
                     + buffer.getvalue()[2:])  # fmt: skip

    result = analyse_file(path)

    assert result.c2pa.present and result.c2pa.read_error
    finding = next(finding for finding in evaluate(result).findings if finding.rule_id == "EM-PROV-003")
    assert finding.evidence["c2pa:store_marker"] == "JUMBF superbox at offset 18"
    assert "JUMBF superbox at offset 18" in finding.explanation


def test_c2pa_marker_is_found_across_the_scan_chunk_boundary() -> None:
    uuid_box = bytes.fromhex("d8fec3d61b0e483c92975828877ec481")
    data = bytes(4 * 2**20 - 7) + uuid_box + bytes(100)

    assert c2pa_marker_find(io.BytesIO(data)) == f"C2PA uuid box at offset {4 * 2**20 - 7:,}"
    assert c2pa_marker_find(io.BytesIO(bytes(5 * 2**20))) is None
