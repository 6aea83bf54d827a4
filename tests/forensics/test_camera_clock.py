"""Dates after the analysis: a camera clock set ahead stamps every date alike (information), an edit does not."""

from __future__ import annotations

from pathlib import Path

from forensics.analysers import analyse_file
from forensics.rules import evaluate

from .conftest import exiftool_write, with_reserved_exif_space


def test_camera_clock_set_ahead_is_information_not_a_future_date_warning(camera_jpeg: Path) -> None:
    # given a camera whose clock was set a dozen years ahead: every date it writes, GPS time included, agrees
    exiftool_write(
        camera_jpeg,
        "-AllDates=2038:05:01 10:00:00",
        "-GPSDateStamp=2038:05:01",
        "-GPSTimeStamp=08:00:00",
    )
    with_reserved_exif_space(camera_jpeg)  # as the camera wrote it, not as ExifTool re-laid it out

    evaluation = evaluate(analyse_file(camera_jpeg))

    rules = [finding.rule_id for finding in evaluation.findings]
    assert "EM-META-013" not in rules
    clock = next(finding for finding in evaluation.findings if finding.rule_id == "EM-META-014")
    assert "a clock set ahead" in clock.explanation
    assert clock.evidence["ExifIFD:DateTimeOriginal"] == "2038:05:01 10:00:00"
    assert evaluation.verdict_code == "ok"


def test_one_date_moved_into_the_future_is_still_a_warning(camera_jpeg: Path) -> None:
    exiftool_write(camera_jpeg, "-DateTimeOriginal=2038:05:01 10:00:00", "-CreateDate=2038:05:01 10:00:00")

    evaluation = evaluate(analyse_file(camera_jpeg))

    future = next(finding for finding in evaluation.findings if finding.rule_id == "EM-META-013")
    assert "ExifIFD:DateTimeOriginal says '2038:05:01 10:00:00'" in future.explanation
    assert "a clock set ahead" not in " ".join(finding.explanation for finding in evaluation.findings)
    assert evaluation.verdict_code == "attention"
