"""The HEIF/AVIF item walker: silent on files libheif's heif-enc writes, and on damaged copies made here an
EM-STRUCT-022 finding that names the offset and what was expected there."""

from __future__ import annotations

import shutil
import struct
import subprocess
from pathlib import Path

import pytest

from forensics.analysers import analyse_file
from forensics.analysers.isobmff_structure import isobmff_structure_read
from forensics.presentation import structure_tree
from forensics.rules import evaluate
from reports.content import structure_summary

from .conftest import CORPUS, picture

pytestmark = pytest.mark.skipif(shutil.which("heif-enc") is None, reason="libheif's heif-enc is not installed")


def _heif_enc(tmp_path: Path, name: str, *options: str) -> Path:
    source = tmp_path / "source.jpg"
    exif = picture().getexif()
    exif[0x010F], exif[0x0110] = "Apple", "iPhone 12"
    picture(640, 480).save(source, "JPEG", quality=90, exif=exif)
    output = tmp_path / name
    subprocess.run(["heif-enc", "-q", "60", *options, "-o", str(output), str(source)], check=True, capture_output=True)
    return output


@pytest.fixture
def heic(tmp_path: Path) -> Path:
    return _heif_enc(tmp_path, "photo.heic", "-t", "96")


def _box(data: bytes, kind: bytes, start: int = 0) -> int:
    """Offset of the first box of this type (its size field) at or after `start`."""
    return data.index(kind, start) - 4


def _damaged(source: Path, target: Path, change) -> Path:
    data = bytearray(source.read_bytes())
    change(data)
    target.write_bytes(bytes(data))
    return target


def _heif_findings(path: Path) -> list:
    return [finding for finding in evaluate(analyse_file(path)).findings if finding.rule_id == "EM-STRUCT-022"]


def test_heif_enc_output_walks_clean_with_primary_exif_and_thumbnail_items(heic: Path) -> None:
    heif = isobmff_structure_read(heic).heif

    assert heif.issues == []
    primary = heif.item(heif.primary_item_id)
    assert primary.item_type == "hvc1" and primary.role == "primary"
    assert (primary.width, primary.height) == (640, 480)
    thumbnail = heif.item(heif.thumbnail_item_ids[0])
    assert thumbnail.references["thmb"] == [primary.item_id] and thumbnail.width == 96
    assert heif.exif_item_id is not None
    assert heic.read_bytes()[heif.exif_header_offset : heif.exif_header_offset + 4] in (b"II*\x00", b"MM\x00*")
    assert all(extent.offset + extent.length <= heic.stat().st_size for item in heif.items for extent in item.extents)
    assert _heif_findings(heic) == []


def test_avif_walks_clean(tmp_path: Path) -> None:
    avif = _heif_enc(tmp_path, "photo.avif", "-A")

    heif = isobmff_structure_read(avif).heif

    assert heif.issues == []
    assert heif.item(heif.primary_item_id).item_type == "av01"
    assert _heif_findings(avif) == []


def test_truncated_heic_names_the_item_whose_data_lies_past_the_end(heic: Path, tmp_path: Path) -> None:
    cut = tmp_path / "cut.heic"
    cut.write_bytes(heic.read_bytes()[: heic.stat().st_size - 500])

    findings = _heif_findings(cut)

    assert len(findings) == 1
    problem = findings[0].evidence["structure:problems"][0]
    assert problem["code"] == "heif_extent_outside"
    assert f"which is {cut.stat().st_size:,} bytes long" in problem["message"]
    assert findings[0].severity == "warning"


def test_iloc_field_sizes_changed_as_in_the_corpus_crash_file(heic: Path, tmp_path: Path) -> None:
    """The corpus file NullPointerException.HeifPictureHandler.processBox.heif differs from a valid one in one
    byte: the iloc offset size set to 0, so every entry after the first is read from the wrong bytes."""

    def zero_offset_size(data: bytearray) -> None:
        iloc = _box(data, b"iloc")
        data[iloc + 12] &= 0x0F

    damaged = _damaged(heic, tmp_path / "iloc.heic", zero_offset_size)

    codes = {
        problem["code"] for finding in _heif_findings(damaged) for problem in finding.evidence["structure:problems"]
    }

    assert codes & {"heif_unknown_item", "heif_box_length", "heif_short_box", "heif_extent_outside"}


def test_primary_item_that_iinf_does_not_declare(heic: Path, tmp_path: Path) -> None:
    def primary_999(data: bytearray) -> None:
        pitm = _box(data, b"pitm")
        struct.pack_into(">H", data, pitm + 12, 999)

    damaged = _damaged(heic, tmp_path / "pitm.heic", primary_999)

    (finding,) = _heif_findings(damaged)
    problem = finding.evidence["structure:problems"][0]
    assert problem["code"] == "heif_unknown_primary" and problem["offset"] == _box(damaged.read_bytes(), b"pitm")
    assert "item 999, which 'iinf' does not declare" in finding.explanation


def test_exif_item_whose_header_offset_points_elsewhere(heic: Path, tmp_path: Path) -> None:
    heif = isobmff_structure_read(heic).heif
    exif_at = heif.item(heif.exif_item_id).extents[0].offset

    damaged = _damaged(heic, tmp_path / "exif.heic", lambda data: struct.pack_into(">I", data, exif_at, 40))

    (finding,) = _heif_findings(damaged)
    assert finding.evidence["structure:problems"][0]["code"] == "heif_exif_header"
    assert f"at offset {exif_at:,}" in finding.explanation


def test_exif_deleted_by_exiftool_leaves_an_emptied_exif_item(heic: Path, tmp_path: Path) -> None:
    stripped = tmp_path / "stripped.heic"
    subprocess.run(["exiftool", "-q", "-q", "-all=", "-o", str(stripped), str(heic)], check=True)

    (finding,) = _heif_findings(stripped)

    assert [problem["code"] for problem in finding.evidence["structure:problems"]] == ["heif_exif_emptied"]
    assert "ExifTool leaves this" in finding.explanation


def test_evidence_page_tree_and_report_list_the_items(heic: Path) -> None:
    result = analyse_file(heic).to_dict()

    tree = structure_tree(result)
    meta = next(node for node in tree.nodes if node.name == "meta")
    items = [node.name for node in meta.children if node.name.startswith("item ")]
    assert any(name.endswith("hvc1 (primary)") for name in items)
    assert any(name.endswith("(thumbnail)") for name in items) and any(name.endswith("(exif)") for name in items)
    summary = structure_summary(result)["container"]
    assert summary["title"].startswith("HEIF/AVIF items")
    assert len(summary["units"]) == len(result["isobmff"]["heif"]["items"])


def test_the_corpus_heif_with_damaged_item_tables_is_flagged() -> None:
    path = CORPUS / "malformed" / "heif" / "NullPointerException.HeifPictureHandler.processBox.heif"
    if not path.is_file():
        pytest.skip(f"shared media corpus not found at {CORPUS}")

    evaluation = evaluate(analyse_file(path))

    assert evaluation.verdict_code == "attention"
    (finding,) = [finding for finding in evaluation.findings if finding.rule_id == "EM-STRUCT-022"]
    assert "item 1005 ('hvc1') has no entry in the 'iloc' box at offset 83" in finding.explanation.lower()


@pytest.mark.parametrize(
    ("limit", "value", "stop"),
    [
        ("MAX_ITEMS", 2, "Item tables: Stopped after 2 boxes."),
        ("MAX_EXTENTS", 1, "Item tables: Stopped after 1 'iloc' extents."),
        ("MAX_REFERENCES", 0, "Item tables: Stopped after 0 'iref' references."),
        ("MAX_META_READ", 64, "Item tables: Not read: the 'meta' box is {size} bytes, over 64."),
    ],
)
def test_item_tables_walked_to_a_limit_say_so_and_call_nothing_damaged(
    heic: Path, monkeypatch, limit: str, value: int, stop: str
) -> None:
    from forensics.analysers import heif_items
    from forensics.examination import PARTLY_EXAMINED, examination_lines

    # Given a file heif-enc wrote, and one of the item walk's limits lowered under what it holds
    monkeypatch.setattr(heif_items, limit, value)

    result = analyse_file(heic)
    findings = {finding.rule_id: finding for finding in evaluate(result).findings}

    # Then the stop is said, where it happened, and nothing the walk did not read is called missing or damaged
    stop = stop.format(size=f"{next(box.size for box in result.isobmff.boxes if box.type == 'meta'):,}")
    assert [issue.message for issue in result.isobmff.heif.issues] == [stop]
    assert "EM-STRUCT-022" not in findings
    stopped = findings["EM-STRUCT-013"].evidence["structure:walk_limits"]
    assert [(entry["parser"], entry["code"]) for entry in stopped] == [("heif", "walk_limit")]
    line = {line.name: line for line in examination_lines(result.to_dict())}["isobmff"]
    assert line.state == PARTLY_EXAMINED and line.reason.startswith(stop.rstrip("."))
