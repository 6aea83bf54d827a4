"""The rule engine on generated files: verdicts, findings that quote their evidence, and determinism."""

from __future__ import annotations

import re
from pathlib import Path

from PIL import Image

from forensics.analysers import analyse_file
from forensics.rules import RULES, RULESET_VERSION, evaluate, ruleset_version
from forensics.rules.documentation import catalogue_markdown

from .conftest import exiftool_write

DOCS = Path(__file__).resolve().parents[2] / "docs" / "rules.md"


def _ids(evaluation) -> list[str]:
    return [finding.rule_id for finding in evaluation.findings]


def test_camera_like_jpeg_shows_no_signs_of_tampering(camera_jpeg: Path) -> None:
    evaluation = evaluate(analyse_file(camera_jpeg))

    assert evaluation.verdict_code == "ok"
    assert evaluation.verdict_sentence == "No obvious signs of tampering detected"
    assert evaluation.ruleset_version == ruleset_version()
    assert evaluation.ruleset_version.startswith(f"{RULESET_VERSION}+dp.")
    assert all(finding.severity == "info" for finding in evaluation.findings)


def test_photoshop_edit_needs_attention_and_names_photoshop(photoshop_jpeg: Path) -> None:
    evaluation = evaluate(analyse_file(photoshop_jpeg))

    assert evaluation.verdict_code == "attention"
    assert evaluation.verdict_sentence == "Potential integrity anomalies detected"
    software = next(finding for finding in evaluation.findings if finding.rule_id == "EM-META-001")
    assert software.evidence["IFD0:Software"] == "Adobe Photoshop 7.0"
    assert "IFD0:Software says 'Adobe Photoshop 7.0'" in software.explanation
    assert software.innocent_explanation


def test_appended_bytes_are_quoted_with_count_and_offset(camera_jpeg: Path) -> None:
    end = camera_jpeg.stat().st_size
    with camera_jpeg.open("ab") as handle:
        handle.write(b"x" * 31)

    evaluation = evaluate(analyse_file(camera_jpeg))

    finding = next(finding for finding in evaluation.findings if finding.rule_id == "EM-INT-002")
    assert f"31 bytes follow the end of the image at offset {end:,}" in finding.explanation
    assert finding.evidence["jpeg:undeclared_regions"][0]["offset"] == end
    assert evaluation.verdict_code == "attention"


def test_resized_jpeg_quotes_both_sizes(camera_jpeg: Path, tmp_path: Path) -> None:
    # given the camera JPEG resized by a program that kept the EXIF block
    resized = tmp_path / "small.jpg"
    with Image.open(camera_jpeg) as image:
        image.resize((320, 240)).save(resized, exif=image.getexif())

    evaluation = evaluate(analyse_file(resized))

    finding = next(finding for finding in evaluation.findings if finding.rule_id == "EM-META-002")
    assert "640x480" in finding.explanation and "320x240" in finding.explanation


def test_stable_diffusion_png_is_flagged_as_synthetic_naming_the_generator(sd_png: Path) -> None:
    evaluation = evaluate(analyse_file(sd_png))

    finding = next(finding for finding in evaluation.findings if finding.category == "synthetic_media")
    assert finding.rule_id == "EM-SYN-001"
    assert "AUTOMATIC1111" in finding.explanation
    assert finding.evidence["PNG text:parameters"].startswith("a red fox")
    assert evaluation.verdict_code == "attention"


def test_camera_exif_in_png_is_flagged(camera_jpeg: Path, tmp_path: Path) -> None:
    png = tmp_path / "export.png"
    with Image.open(camera_jpeg) as image:
        image.save(png, exif=image.getexif())

    evaluation = evaluate(analyse_file(png))

    finding = next(finding for finding in evaluation.findings if finding.rule_id == "EM-META-007")
    assert "Canon" in finding.explanation


def test_truncated_file_gets_a_structural_finding(camera_jpeg: Path) -> None:
    data = camera_jpeg.read_bytes()
    camera_jpeg.write_bytes(data[: len(data) // 3])

    evaluation = evaluate(analyse_file(camera_jpeg))

    assert "EM-STRUCT-002" in _ids(evaluation)


def test_ffmpeg_video_names_ffmpeg(ffmpeg_mp4: Path) -> None:
    evaluation = evaluate(analyse_file(ffmpeg_mp4))

    explanations = " ".join(finding.explanation for finding in evaluation.findings)
    assert {"EM-META-001", "EM-META-008", "EM-META-010"} <= set(_ids(evaluation))
    assert "Lavf" in explanations and "x264" in explanations
    assert evaluation.verdict_code == "attention"


def test_evaluation_is_deterministic(photoshop_jpeg: Path) -> None:
    result = analyse_file(photoshop_jpeg)

    assert evaluate(result).to_dict() == evaluate(result).to_dict()
    assert evaluate(result).to_dict() == evaluate(analyse_file(photoshop_jpeg)).to_dict()


def test_every_rule_has_a_unique_stable_id() -> None:
    ids = [rule.id for rule in RULES]

    assert len(ids) == len(set(ids))
    assert all(
        re.fullmatch(r"EM-(INT|STRUCT|META|PROV|SYN|ENC|THUMB|STRIP|MAKER|VIDEO)-\d{3}", rule_id) for rule_id in ids
    )


def test_docs_rules_md_is_the_generated_catalogue() -> None:
    # regenerate with: python manage.py rules --markdown > docs/rules.md
    assert DOCS.read_text(encoding="utf-8") == catalogue_markdown()
    assert set(re.findall(r"^#### (EM-[A-Z]+-\d{3}) ", DOCS.read_text(encoding="utf-8"), re.MULTILINE)) == {
        rule.id for rule in RULES
    }


def test_c2pa_tampering_is_critical_and_quotes_the_code(corpus: Path) -> None:
    evaluation = evaluate(analyse_file(corpus / "c2pa/c2pa-invalid/adobe-20220124-E-sig-CA.jpg"))

    assert evaluation.verdict_code == "compromised"
    assert evaluation.verdict_sentence == "Integrity compromised"
    assert "'claimSignature.mismatch'" in evaluation.findings[0].explanation


def test_exiftool_edit_of_a_signed_camera_file_breaks_its_c2pa_hash(corpus: Path, tmp_path: Path) -> None:
    # given the genuine Nikon Z 9 C2PA file, edited with ExifTool
    edited = tmp_path / "nikon.jpg"
    edited.write_bytes((corpus / "c2pa/c2pa-valid/nikon-20221019-building.jpeg").read_bytes())
    exiftool_write(edited, "-DateTimeOriginal=2021:01:01 00:00:00")

    evaluation = evaluate(analyse_file(edited))

    assert evaluation.verdict_code == "compromised"
    assert "assertion.dataHash.mismatch" in evaluation.findings[0].explanation
