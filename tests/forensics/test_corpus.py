"""The whole pipeline over the labelled real-media corpus in ../shared/corpus, judged against its labels."""

from __future__ import annotations

import csv
import json
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytest

from forensics.analysers import analyse_file
from forensics.rules import Evaluation, evaluate

from .conftest import CORPUS

# Measured on the corpus (ruleset 2026.1): 45 of 47 camera originals are "ok". The two others carry
# real evidence the label's criteria (Software/CreatorTool/History only) do not look at:
# Minolta_DiMAGE_S404.jpg has 51 KB of undeclared data after its EOI, and Panasonic_DMC-LC70 has a
# Photoshop 6.0 resource block (Photoshop:WriterName). "The great majority" is held to 90 %.
CAMERA_ORIGINAL_OK_SHARE = 0.90
# Structurally valid at box level; its defect lies in HEIF item semantics (iloc/iinf), which we do not parse.
MALFORMED_WITHOUT_STRUCTURE_FINDING = {"malformed/heif/NullPointerException.HeifPictureHandler.processBox.heif"}
_GENERATOR_OF_PREFIX = {
    "AUTOMATIC1111": "AUTOMATIC1111",
    "ComfyUI": "ComfyUI",
    "Fooocus": "Fooocus",
    "InvokeAI": "InvokeAI",
    "NovelAI": "NovelAI",
    "firefly": "Firefly",
}


@dataclass(frozen=True)
class Judged:
    path: str
    label: str
    note: str
    evaluation: Evaluation

    def text(self) -> str:
        return " ".join(f"{finding.explanation} {finding.evidence}" for finding in self.evaluation.findings)


@pytest.fixture(scope="module")
def judged() -> list[Judged]:
    if not CORPUS.is_dir():
        pytest.skip(f"shared media corpus not found at {CORPUS} (it lives beside the repository, not in it)")
    rows = list(csv.DictReader((CORPUS / "manifest.csv").open(encoding="utf-8")))
    outcomes = []
    for row in rows:
        result = analyse_file(CORPUS / row["path"], original_filename=Path(row["path"]).name)
        json.dumps(result.to_dict())  # storable, whatever the file
        outcomes.append(Judged(row["path"], row["label"], row["note"], evaluate(result)))
    return outcomes


def _labelled(judged: list[Judged], label: str) -> list[Judged]:
    items = [item for item in judged if item.label == label]
    assert items, f"no {label} files in the manifest"
    return items


def test_camera_originals_are_never_compromised_and_mostly_ok(judged: list[Judged]) -> None:
    originals = _labelled(judged, "camera-original")
    verdicts = Counter(item.evaluation.verdict_code for item in originals)

    assert verdicts["compromised"] == 0
    assert verdicts["ok"] / len(originals) >= CAMERA_ORIGINAL_OK_SHARE, verdicts


def test_software_processed_files_need_attention_and_name_the_software(judged: list[Judged]) -> None:
    for item in _labelled(judged, "software-processed"):
        assert item.evaluation.verdict_code in ("attention", "compromised"), item.path
        named = [f for f in item.evaluation.findings if f.rule_id in ("EM-META-001", "EM-META-004", "EM-META-008")]
        assert named, item.path
        # the manifest's note starts with the software as the file itself names it
        note = re.sub(r"^CC BY-SA 4\.0;\s*", "", item.note).strip()
        if note:
            first_word = note.split()[0].strip(",;")
            assert first_word.lower() in item.text().lower(), (item.path, first_word)


def test_derived_files_need_attention_quoting_both_sizes(judged: list[Judged]) -> None:
    for item in _labelled(judged, "derived"):
        coded, recorded = re.search(r"coded (\d+x\d+), EXIF says (\d+x\d+)", item.note).groups()
        assert item.evaluation.verdict_code in ("attention", "compromised"), item.path
        size_finding = next(f for f in item.evaluation.findings if f.rule_id == "EM-META-002")
        assert coded in size_finding.explanation and recorded in size_finding.explanation, item.path


def test_ai_generated_files_are_flagged_as_synthetic_naming_the_generator(judged: list[Judged]) -> None:
    for item in _labelled(judged, "ai-generated"):
        prefix = Path(item.path).name.split("_")[0]
        synthetic = [f for f in item.evaluation.findings if f.category == "synthetic_media"]
        assert synthetic, item.path
        assert any(_GENERATOR_OF_PREFIX[prefix] in f.explanation for f in synthetic), item.path
        assert item.evaluation.verdict_code != "ok", item.path


def test_valid_c2pa_is_never_compromised_on_c2pa_grounds(judged: list[Judged]) -> None:
    for item in _labelled(judged, "c2pa-valid"):
        assert "EM-INT-001" not in [f.rule_id for f in item.evaluation.findings], item.path
        assert "EM-PROV-001" in [f.rule_id for f in item.evaluation.findings], item.path


def test_invalid_c2pa_is_compromised_naming_the_validation_code(judged: list[Judged]) -> None:
    for item in _labelled(judged, "c2pa-invalid"):
        assert item.evaluation.verdict_code == "compromised", item.path
        finding = next(f for f in item.evaluation.findings if f.rule_id == "EM-INT-001")
        assert re.search(r"'[a-zA-Z]+(\.[a-zA-Z]+)*\.(mismatch|missing)'", finding.explanation), item.path


def test_camera_exif_in_png_is_flagged(judged: list[Judged]) -> None:
    for item in _labelled(judged, "camera-exif-in-png"):
        assert "EM-META-007" in [f.rule_id for f in item.evaluation.findings], item.path
        assert item.evaluation.verdict_code != "ok"


def test_malformed_files_complete_with_a_structural_finding(judged: list[Judged]) -> None:
    malformed = _labelled(judged, "malformed")
    without = {item.path for item in malformed if not any(f.category == "structure" for f in item.evaluation.findings)}

    assert without == MALFORMED_WITHOUT_STRUCTURE_FINDING


def test_every_file_in_the_manifest_was_evaluated(judged: list[Judged]) -> None:
    rows = list(csv.DictReader((CORPUS / "manifest.csv").open(encoding="utf-8")))

    assert len(judged) == len(rows)
    assert all(item.evaluation.verdict_code in ("ok", "attention", "compromised") for item in judged)
