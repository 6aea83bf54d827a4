"""`manage.py rules` and `manage.py analyse`: the catalogue as published, and analysis of files from the command line.

These tests do not request the `db` fixture, so pytest-django fails any database query they would make: the
commands must work without one.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from forensics.rules import RULES, RULESET_VERSION, ruleset_version

from .conftest import exiftool_write, picture

PROJECT = Path(__file__).resolve().parents[2]
FINDING_KEYS = {"rule", "severity", "category", "title", "explanation", "evidence"}


class TerminalStream(io.StringIO):
    """Captured output that says it is a terminal, as stderr is in an interactive shell."""

    def isatty(self) -> bool:
        return True


def analyse(*arguments: str, stderr: io.StringIO | None = None) -> tuple[str, str]:
    stdout, stderr = io.StringIO(), stderr if stderr is not None else io.StringIO()
    call_command("analyse", *arguments, stdout=stdout, stderr=stderr)
    return stdout.getvalue(), stderr.getvalue()


@pytest.fixture
def evidence_folder(tmp_path: Path, camera_jpeg: Path) -> Path:
    """A folder holding the camera JPEG and, one level down, a copy edited in Photoshop."""
    folder = tmp_path / "evidence"
    (folder / "edited").mkdir(parents=True)
    original = folder / "a-original.jpg"
    camera_jpeg.rename(original)
    edited = folder / "edited" / "b-edited.jpg"
    edited.write_bytes(original.read_bytes())
    exiftool_write(edited, "-Software=Adobe Photoshop 7.0")
    return folder


def test_rules_lists_every_rule_with_its_severity() -> None:
    stdout = io.StringIO()

    call_command("rules", stdout=stdout)

    lines = stdout.getvalue().splitlines()
    assert lines[0] == f"Ruleset {RULESET_VERSION}: {len(RULES)} rules"
    listed = {line.split()[0]: line.split()[1] for line in lines[1:]}
    assert listed == {rule.id: str(rule.severity) for rule in RULES}


def test_rules_markdown_is_what_docs_rules_md_holds() -> None:
    stdout = io.StringIO()

    call_command("rules", "--markdown", stdout=stdout)

    assert stdout.getvalue() == (PROJECT / "docs" / "rules.md").read_text(encoding="utf-8")


def test_analyse_json_prints_one_object_per_file_found_in_the_folder(evidence_folder: Path) -> None:
    stdout, stderr = analyse("--json", str(evidence_folder))

    records = [json.loads(line) for line in stdout.splitlines()]
    original, edited = evidence_folder / "a-original.jpg", evidence_folder / "edited" / "b-edited.jpg"
    assert [record["path"] for record in records] == [str(original), str(edited)]
    assert [record["verdict"] for record in records] == ["ok", "attention"]
    assert records[1]["verdict_text"] == "Potential integrity anomalies detected"
    assert records[0]["sha256"] == hashlib.sha256(original.read_bytes()).hexdigest()
    assert {record["rule_set_version"] for record in records} == {ruleset_version()}
    software = next(item for item in records[1]["findings"] if item["rule"] == "EM-META-001")
    assert set(software) >= FINDING_KEYS
    assert software["evidence"]["IFD0:Software"] == "Adobe Photoshop 7.0"
    assert (software["severity"], software["category"]) == ("warning", "metadata")
    assert stderr == ""  # no progress when stderr is not a terminal


def test_analyse_in_worker_processes_gives_the_same_verdicts_in_the_same_order(evidence_folder: Path) -> None:
    serial, _ = analyse("--json", str(evidence_folder))
    parallel, _ = analyse("--json", "--jobs", "2", str(evidence_folder))

    def verdicts(output: str) -> list[tuple[str, str, str, list[str]]]:
        records = [json.loads(line) for line in output.splitlines()]
        return [(r["path"], r["sha256"], r["verdict"], [f["rule"] for f in r["findings"]]) for r in records]

    assert verdicts(parallel) == verdicts(serial)
    assert len(verdicts(serial)) == 2


def test_analyse_prints_a_readable_report_by_default(evidence_folder: Path) -> None:
    stdout, _ = analyse(str(evidence_folder / "edited" / "b-edited.jpg"))

    assert "Verdict  Potential integrity anomalies detected (attention)" in stdout
    assert "[warning] EM-META-001 Metadata names editing or conversion software" in stdout
    assert "IFD0:Software says 'Adobe Photoshop 7.0'" in stdout


def test_analyse_shows_progress_on_a_terminal_only(evidence_folder: Path) -> None:
    _, progress = analyse("--json", str(evidence_folder), stderr=TerminalStream())

    assert "[1/2]" in progress and "[2/2]" in progress


def test_unreadable_paths_fail_the_command_after_the_rest_is_analysed(evidence_folder: Path, tmp_path: Path) -> None:
    (evidence_folder / "c-dangling.jpg").symlink_to(tmp_path / "gone.jpg")
    stdout, stderr = io.StringIO(), io.StringIO()

    with pytest.raises(CommandError, match=r"2 path\(s\) not analysed; 2 file\(s\) analysed"):
        call_command(
            "analyse", "--json", str(evidence_folder), str(tmp_path / "missing.mp4"), stdout=stdout, stderr=stderr
        )

    assert len(stdout.getvalue().splitlines()) == 2
    assert f"Cannot read {tmp_path / 'missing.mp4'}: No such file or directory" in stderr.getvalue()
    assert f"Cannot read {evidence_folder / 'c-dangling.jpg'}" in stderr.getvalue()


def test_exit_status_says_whether_every_file_was_analysed(tmp_path: Path) -> None:
    image = tmp_path / "plain.png"
    picture(32, 32).save(image)
    environment = {**os.environ, "DJANGO_SETTINGS_MODULE": "evidencemedia.settings.test"}

    def run(*paths: Path) -> subprocess.CompletedProcess:
        command = [sys.executable, "manage.py", "analyse", "--json", *map(str, paths)]
        return subprocess.run(command, cwd=PROJECT, env=environment, capture_output=True, text=True, timeout=120)

    analysed, failed = run(image), run(image, tmp_path / "missing.png")

    assert analysed.returncode == 0, analysed.stderr
    assert json.loads(analysed.stdout)["path"] == str(image)
    assert failed.returncode != 0
    assert "1 path(s) not analysed; 1 file(s) analysed" in failed.stderr


def test_bytes_that_are_no_accepted_media_get_no_verdict(evidence_folder: Path, tmp_path: Path) -> None:
    # Given a text file named as a photograph, and an empty file, beside two real photographs
    (evidence_folder / "note.jpg").write_text("not a photograph\n")
    (evidence_folder / "empty.png").write_bytes(b"")
    stdout, stderr = io.StringIO(), io.StringIO()

    # When the folder is analysed
    with pytest.raises(CommandError, match=r"2 path\(s\) not analysed; 2 file\(s\) analysed"):
        call_command("analyse", "--json", str(evidence_folder), stdout=stdout, stderr=stderr)

    # Then the photographs get their verdicts and the others none ("no obvious signs" of nothing examined), each
    # refusal naming what the bytes are
    assert [json.loads(line)["detected_mime_type"] for line in stdout.getvalue().splitlines()] == ["image/jpeg"] * 2
    assert (
        f"Not analysed {evidence_folder / 'note.jpg'}: its bytes are text/plain (ASCII text), not a media type the "
        "system accepts as evidence (3G2, 3GP, AVI, GIF, HEIC, HEIF, JPEG, "
    ) in stderr.getvalue()
    assert f"Not analysed {evidence_folder / 'empty.png'}: its bytes are inode/x-empty" in stderr.getvalue()
