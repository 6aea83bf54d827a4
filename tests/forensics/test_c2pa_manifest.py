"""C2PA reading through c2pa-python: files without manifests, and the public test files in the corpus."""

from __future__ import annotations

from pathlib import Path

from forensics.analysers.c2pa_manifest import c2pa_read


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
