"""The assessment answers "AI? edited? signed? metadata?" from the findings of a real analysis (ExifTool, libmagic,
c2pa-python and the walkers run on generated files and on public C2PA test files), and says it in plain words."""

from pathlib import Path

import pytest
from PIL import Image

from cases.demo_media import ai_declared_jpeg_create, camera_jpeg_create, edited_jpeg_create, stripped_jpeg_create
from forensics.analysers.pipeline import analyse_file
from forensics.assessment import assessment_make
from forensics.presentation import assessment_lines
from forensics.rules.engine import evaluate


def _assess(path: Path) -> dict:
    result = analyse_file(path)
    return assessment_make(evaluate(result).to_dict()["findings"], result.to_dict())


def _words(assessment: dict) -> dict[str, str]:
    return {line.aspect: line.text for line in assessment_lines(assessment)}


def test_ai_declared_file_names_its_generator_and_nothing_else(tmp_path):
    assessment = _assess(ai_declared_jpeg_create(tmp_path))

    assert assessment["synthetic_media"] == {
        "state": "declared",
        "by": ["Adobe Firefly"],
        "rules": ["EM-SYN-003", "EM-SYN-004"],
    }
    assert assessment["editing"]["state"] == "none"
    assert assessment["provenance"]["state"] == "none"
    assert assessment["metadata"]["state"] == "present"
    assert _words(assessment)["synthetic_media"] == "declared by Adobe Firefly"


def test_photoshop_edit_is_evidence_of_editing_with_the_software_named(tmp_path):
    edited = edited_jpeg_create(tmp_path, camera_jpeg_create(tmp_path))

    assessment = _assess(edited)

    assert assessment["synthetic_media"]["state"] == "none"
    assert assessment["editing"]["state"] == "found"
    assert assessment["editing"]["software"] == ["Adobe Photoshop"]
    assert assessment["editing"]["kinds"] == ["software", "resized", "modified"]
    assert _words(assessment)["editing"] == (
        "evidence of editing software (Adobe Photoshop); resizing or cropping; a modification after capture"
    )


def test_camera_like_original_has_nothing_to_answer_but_its_metadata(tmp_path):
    assessment = _assess(camera_jpeg_create(tmp_path))

    assert {aspect: answer["state"] for aspect, answer in assessment.items()} == {
        "synthetic_media": "none",
        "editing": "none",
        "provenance": "none",
        "metadata": "present",
    }
    assert all(line.short == "" for line in assessment_lines(assessment))


def test_stripped_copy_says_metadata_removed_and_a_blank_test_image_has_none(tmp_path):
    stripped = stripped_jpeg_create(tmp_path, camera_jpeg_create(tmp_path))
    pixel = tmp_path / "pixel.png"
    Image.new("RGB", (1, 1)).save(pixel)

    assert _assess(stripped)["metadata"] == {"state": "removed"}
    assert _words(_assess(stripped))["metadata"] == "removed"
    assert _assess(pixel)["metadata"] == {"state": "none"}
    assert _assess(pixel)["editing"]["state"] == "none"


def test_signed_c2pa_file_is_intact_and_a_changed_one_broken(corpus):
    intact = _assess(corpus / "images/ai-generated/firefly_ocsp.jpg")
    broken = _assess(corpus / "c2pa/c2pa-invalid/adobe-20220124-E-dat-CA.jpg")

    assert intact["provenance"]["state"] == "intact"
    assert intact["provenance"]["signer"]
    # No trust list is configured here, so the signer is named but not trusted.
    assert intact["provenance"]["trusted"] is False
    assert _words(intact)["provenance"].startswith(f"signed by {intact['provenance']['signer']}, intact")
    assert broken["provenance"]["state"] == "broken"
    assert "broken" in _words(broken)["provenance"]


def test_no_assessment_gives_no_lines():
    assert assessment_lines({}) == []
    assert assessment_lines(None) == []


@pytest.mark.parametrize(
    ("findings", "state"),
    [
        ([{"rule_id": "EM-PROV-003", "category": "provenance", "evidence": {}}], "unreadable"),
        ([{"rule_id": "EM-STRUCT-008", "category": "structure", "evidence": {}}], "none"),
    ],
)
def test_unreadable_c2pa_and_software_encoder_hint_alone(findings, state):
    assessment = assessment_make(findings, {})

    aspect = "provenance" if state == "unreadable" else "editing"
    assert assessment[aspect]["state"] == state


def test_video_written_by_ffmpeg_is_evidence_of_re_encoding(ffmpeg_mp4):
    assessment = _assess(ffmpeg_mp4)

    assert assessment["editing"]["state"] == "found"
    assert "reencoded" in assessment["editing"]["kinds"]
    assert "re-encoding by software" in _words(assessment)["editing"]
