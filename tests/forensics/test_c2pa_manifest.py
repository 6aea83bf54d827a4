"""C2PA reading through c2pa-python: files without manifests, and the public test files in the corpus."""

from __future__ import annotations

import io
import json
import struct
import subprocess
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict
from pathlib import Path

from forensics.analysers import analyse_file
from forensics.analysers.c2pa_manifest import _result_from_store, c2pa_marker_find, c2pa_read
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


def _store(manifest_order: list[str], parameter_order: list[str]) -> dict:
    """A manifest store shaped like c2pa-rs's Reader JSON, its manifests and each action's parameters in the given key
    orders (c2pa-rs keeps both in hash maps): an edit (active) whose parent is a capture that took a component
    from a third manifest, and a fourth manifest no ingredient leads to."""
    parameters = {"com.example.tool": "crop", "description": "Cropped", "instanceId": "xmp:iid:1"}

    def manifest(title: str, action: str, ingredients: list[tuple[str, str | None]]) -> dict:
        return {
            "claim_generator": "Example/1.0",
            "title": title,
            "format": "image/jpeg",
            "ingredients": [
                {
                    "title": f"{label}.jpg",
                    "format": "image/jpeg",
                    "relationship": relationship,
                    "active_manifest": label,
                }
                for relationship, label in ingredients
            ],
            "assertions": [
                {
                    "label": "c2pa.actions.v2",
                    "data": {
                        "actions": [{"action": action, "parameters": {k: parameters[k] for k in parameter_order}}]
                    },
                }
            ],
            "signature_info": {"issuer": "Example CA", "time": "2026-01-01T00:00:00+00:00"},
            "label": title,
        }

    manifests = {
        "urn:c2pa:d-edit": manifest("urn:c2pa:d-edit", "c2pa.cropped", [("parentOf", "urn:c2pa:b-capture")]),
        "urn:c2pa:b-capture": manifest(
            "urn:c2pa:b-capture", "c2pa.created", [("componentOf", "urn:c2pa:c-logo"), ("componentOf", None)]
        ),
        "urn:c2pa:c-logo": manifest("urn:c2pa:c-logo", "c2pa.created", [("parentOf", "urn:c2pa:d-edit")]),
        "urn:c2pa:a-orphan": manifest("urn:c2pa:a-orphan", "c2pa.created", []),
    }
    return {
        "active_manifest": "urn:c2pa:d-edit",
        "manifests": {label: manifests[label] for label in manifest_order},
        "validation_status": [{"code": "signingCredential.untrusted", "url": "self#jumbf=x", "explanation": "x"}],
        "validation_state": "Valid",
    }


def test_manifests_are_in_provenance_order_whatever_the_order_of_the_stores_keys() -> None:
    labels = ["urn:c2pa:d-edit", "urn:c2pa:b-capture", "urn:c2pa:c-logo", "urn:c2pa:a-orphan"]
    keys = ["com.example.tool", "description", "instanceId"]

    results = [
        _result_from_store(_store(manifest_order, parameter_order), "image/jpeg")
        for manifest_order in (labels, labels[::-1], sorted(labels))
        for parameter_order in (keys, keys[::-1])
    ]

    # the active manifest, its parent, the parent's component (whose ingredient leads back to the active manifest:
    # each manifest once), then the manifest nothing leads to
    assert [manifest.label for manifest in results[0].manifests] == [
        "urn:c2pa:d-edit",
        "urn:c2pa:b-capture",
        "urn:c2pa:c-logo",
        "urn:c2pa:a-orphan",
    ]
    assert results[0].active_manifest.label == "urn:c2pa:d-edit"
    # and the whole result, the kept store's key order included, is the same for every order of the keys
    serialised = {json.dumps(asdict(result)) for result in results}
    assert len(serialised) == 1


def test_provenance_order_passes_over_labels_the_store_does_not_hold() -> None:
    store = _store(["urn:c2pa:d-edit", "urn:c2pa:b-capture", "urn:c2pa:c-logo", "urn:c2pa:a-orphan"], [])
    store["active_manifest"] = "urn:c2pa:missing"
    store["manifests"]["urn:c2pa:b-capture"]["ingredients"][0]["active_manifest"] = ["not", "a", "label"]

    result = _result_from_store(store, "image/jpeg")

    assert result.active_manifest is None
    assert [manifest.label for manifest in result.manifests] == sorted(store["manifests"])


def test_the_same_file_read_in_several_threads_gives_the_same_result(corpus: Path) -> None:
    # c2pa-rs orders the store's manifests, and an action's parameters, differently from one reading to the next
    # (most readings of these files differ, in the reader's JSON, from the one before)
    paths = [
        corpus / "c2pa/c2pa-valid/adobe-20220124-CAIAIIICAICIICAIICICA.jpg",  # six manifests
        corpus / "images/ai-generated/firefly_ocsp.jpg",  # action parameters
    ]
    with ThreadPoolExecutor(max_workers=4) as pool:
        readings = list(pool.map(lambda path: c2pa_read(path, mime_type="image/jpeg"), paths * 6))

    for index, path in enumerate(paths):
        assert len({json.dumps(asdict(reading)) for reading in readings[index :: len(paths)]}) == 1, path.name
    assert [manifest.label for manifest in readings[0].manifests] == [
        "contentauth:urn:uuid:05d8710f-0f8e-4fc0-9c9f-065a84099cc7",
        "contentauth:urn:uuid:4d971750-1db4-4492-a87c-5c3e7ed33efc",
        "contentauth:urn:uuid:04cdf4ec-f713-4e47-a8d6-7af56501ce4b",
        "contentauth:urn:uuid:f37fff21-e50f-4777-9978-835f9fa18bac",
        "contentauth:urn:uuid:8bb8ad50-ef2f-4f75-b709-a0e302d58019",
        "contentauth:urn:uuid:1a2e69c6-a405-4ed7-a33f-d9183ffda710",
    ]
