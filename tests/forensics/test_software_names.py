"""Desktop and lab software that rewrites a camera's EXIF is named (EM-META-001), firmware strings are not."""

from __future__ import annotations

from pathlib import Path

import pytest

from forensics.analysers import analyse_file
from forensics.rules import evaluate

from .conftest import exiftool_write


@pytest.mark.parametrize(
    ("software", "program"),
    [
        ("FinePixViewer Ver.3.2", "Fujifilm FinePix Viewer"),
        ("FinePix Viewer Ver.1.1", "Fujifilm FinePix Viewer"),
        ("KODAK PROFESSIONAL DCS Photo Desk JPEG Export v3.2 W", "Kodak DCS Photo Desk"),
        ("Kodak Digital Central Lab System", "Kodak Digital Central lab software"),
    ],
)
def test_camera_vendor_desktop_and_lab_software_is_named(camera_jpeg: Path, software: str, program: str) -> None:
    exiftool_write(camera_jpeg, f"-Software={software}")

    evaluation = evaluate(analyse_file(camera_jpeg))

    finding = next(finding for finding in evaluation.findings if finding.rule_id == "EM-META-001")
    assert finding.evidence["software"] == program
    assert finding.evidence["IFD0:Software"] == software
    assert evaluation.verdict_code == "attention"


@pytest.mark.parametrize("firmware", ["Digital Camera FinePix40i Ver1.39", "Optio S4 Ver 1.00", "E5700v1.0"])
def test_camera_firmware_in_software_is_not_named(camera_jpeg: Path, firmware: str) -> None:
    exiftool_write(camera_jpeg, f"-Software={firmware}")

    evaluation = evaluate(analyse_file(camera_jpeg))

    assert "EM-META-001" not in [finding.rule_id for finding in evaluation.findings]
