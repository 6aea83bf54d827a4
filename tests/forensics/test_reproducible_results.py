"""The same bytes give the same analysis wherever they lie: on the server each analysis reads a plaintext copy with a
new random name, so nothing of the path may reach the result, and a court re-running the analysis of a file gets the
findings the report stated. Only when it ran (analysed_at) and how long each analyser took may differ."""

import json
import shutil
from pathlib import Path

import pytest

from cases.demo_media import (
    ai_declared_jpeg_create,
    camera_jpeg_create,
    edited_jpeg_create,
    generated_mp4_create,
    generated_png_create,
)
from forensics.analysers import analyse_file
from forensics.rules import evaluate


def _without_timing(result: dict) -> dict:
    result = json.loads(json.dumps(result))
    result.pop("analysed_at")
    for run in result["runs"]:
        run.pop("duration_ms")
    return result


def _broken_mp4(directory: Path) -> Path:
    path = directory / "broken.mp4"
    path.write_bytes(bytes.fromhex("0000001c66747970") + b"isom\x00\x00\x02\x00isomiso2mp41" + b"\xff" * 4096)
    return path


@pytest.mark.parametrize(
    "make",
    [
        camera_jpeg_create,
        lambda directory: edited_jpeg_create(directory, camera_jpeg_create(directory)),
        ai_declared_jpeg_create,
        generated_png_create,
        generated_mp4_create,
        _broken_mp4,
    ],
    ids=["camera-jpeg", "edited-jpeg", "ai-declared-jpeg", "generated-png", "mp4", "broken-mp4"],
)
def test_the_same_bytes_under_two_names_in_two_directories_give_the_same_result(tmp_path: Path, make) -> None:
    made = tmp_path / "made"
    made.mkdir()
    source = make(made)
    copies = []
    for directory, name in (("first", "1234-5678-abcdefgh"), ("second", "9876-5432-zyxwvuts")):
        (tmp_path / directory).mkdir()
        copies.append(shutil.copyfile(source, tmp_path / directory / f"{name}{source.suffix}"))

    first, second = (analyse_file(copy) for copy in copies)

    assert _without_timing(first.to_dict()) == _without_timing(second.to_dict())
    assert evaluate(first).to_dict() == evaluate(second).to_dict()
    assert str(tmp_path) not in json.dumps(first.to_dict())
