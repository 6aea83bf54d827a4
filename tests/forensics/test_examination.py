"""What was examined: every check the engine made on a file, or why not, read from the stored result, so that a
verdict of "no obvious signs" is read with its reach."""

from pathlib import Path

from PIL import Image

from cases.demo_media import camera_jpeg_create
from forensics.analysers.pipeline import analyse_file
from forensics.examination import (
    EXAMINED,
    NOT_APPLICABLE,
    NOT_MADE,
    PARTLY_EXAMINED,
    examination_lines,
    incomplete_count,
)
from tests.forensics.test_exif_thumbnail import camera_jpeg


def _lines(path: Path) -> dict[str, tuple[str, str, str]]:
    return {line.check: (line.state, line.state_words, line.reason) for line in examination_lines(_result(path))}


def _result(path: Path) -> dict:
    return analyse_file(path).to_dict()


def test_a_camera_jpeg_lists_each_check_made_and_those_that_do_not_apply(tmp_path):
    path = tmp_path / "camera.jpg"
    camera_jpeg(path)  # with an EXIF thumbnail made from the same picture

    lines = _lines(path)

    assert lines["Double JPEG compression"][0] == EXAMINED
    assert lines["EXIF thumbnail compared with the image"] == (EXAMINED, "examined", "")
    assert lines["Metadata and its layout (ExifTool)"][:2] == (EXAMINED, "examined")
    assert lines["Audio and video tracks (MediaInfo)"] == (
        NOT_APPLICABLE,
        "not applicable",
        "not audio or video (image/jpeg)",
    )
    assert "PNG chunks" not in lines  # a walker of another container is not listed at all


def test_a_check_that_declined_the_file_is_said_not_made_with_its_reason(tmp_path):
    small = tmp_path / "small.jpg"
    Image.new("RGB", (64, 64), (90, 120, 30)).save(small, quality=90)

    result = _result(small)
    lines = examination_lines(result)
    by_check = {line.check: line for line in lines}

    double = by_check["Double JPEG compression"]
    assert (double.state, double.state_words, double.reason) == (NOT_MADE, "not made", "image too small")
    thumbnail = by_check["EXIF thumbnail compared with the image"]
    assert (thumbnail.state, thumbnail.reason) == (NOT_APPLICABLE, "the file holds no EXIF thumbnail")
    assert incomplete_count(lines) == 1


def test_a_failed_or_overrun_tool_is_said_not_completed_with_its_error(tmp_path):
    result = _result(camera_jpeg_create(tmp_path))
    for run in result["runs"]:
        if run["name"] == "c2pa":
            run.update(status="timeout", error="Analyser c2pa exceeded 120 s")
        if run["name"] == "jpeg":
            run.update(status="failed", error="ValueError: broken")

    by_check = {line.check: line for line in examination_lines(result)}

    c2pa, jpeg = by_check["C2PA provenance manifest"], by_check["JPEG segments and quantisation tables"]
    assert (c2pa.state, c2pa.state_words, c2pa.reason) == (
        NOT_MADE,
        "not completed: time limit reached",
        "Analyser c2pa exceeded 120 s",
    )
    assert (jpeg.state_words, jpeg.reason) == ("not completed: the tool failed", "ValueError: broken")


def test_a_result_without_runs_lists_nothing():
    assert examination_lines({}) == [] and examination_lines({"runs": []}) == []


def _analysed(alpha, capture, data: bytes, name: str):
    from cases import services
    from cases.models import EvidenceItem
    from tests.conftest import received

    with capture(execute=True):
        receipt = services.evidence_receive(case=alpha.case, received=received(data, name), actor=alpha.investigator)
    return EvidenceItem.objects.get(pk=receipt.item.pk)


def test_the_evidence_page_shows_what_was_examined_and_warns_of_a_check_not_made(
    client, alpha, django_capture_on_commit_callbacks
):
    from tests.conftest import PASSWORD, jpeg_bytes

    item = _analysed(alpha, django_capture_on_commit_callbacks, jpeg_bytes(), "small.jpg")
    client.login(username=alpha.investigator.username, password=PASSWORD)

    page = client.get(f"/evidence/{item.public_id}/").content.decode()

    assert '<details class="tools examination" open><summary>What was examined' in page
    assert "; 1 not made or not completed)" in page
    assert "A check that could not be made, or stopped before the end of the file, found nothing in what it did" in page
    assert (
        '<th scope="row">Double JPEG compression</th><td>not made: <span class="mono small">image too small</span></td>'
    ) in page


def test_the_api_gives_what_was_examined_with_stable_codes(client, alpha, django_capture_on_commit_callbacks):
    from tests.conftest import PASSWORD, jpeg_bytes

    item = _analysed(alpha, django_capture_on_commit_callbacks, jpeg_bytes(), "small.jpg")
    client.login(username=alpha.investigator.username, password=PASSWORD)

    body = client.get(f"/api/v1/evidence/{item.public_id}/findings/").json()

    by_name = {line["name"]: line for line in body["examination"]}
    assert by_name["double_jpeg"] == {
        "name": "double_jpeg",
        "check": "Double JPEG compression",
        "state": "not_made",
        "reason": "image too small",
    }
    assert by_name["sha256"]["state"] == "examined" and by_name["sha256"]["reason"] == ""
    assert by_name["mediainfo"]["state"] == "not_applicable"


def test_a_jpeg_walk_stopped_at_its_segment_limit_is_said_partly_examined(tmp_path, monkeypatch):
    from forensics.analysers import jpeg_structure

    monkeypatch.setattr(jpeg_structure, "MAX_SEGMENTS", 3)
    result = _result(camera_jpeg_create(tmp_path))

    lines = examination_lines(result)
    jpeg = {line.check: line for line in lines}["JPEG segments and quantisation tables"]

    assert (jpeg.state, jpeg.state_words) == (PARTLY_EXAMINED, "partly examined: stopped at its limit")
    assert jpeg.reason.startswith("Stopped after 3 segments at offset ")
    assert jpeg.reason.endswith("; the rest of the file was not examined")
    assert incomplete_count(lines) >= 1


def test_a_tool_error_naming_the_path_it_was_given_names_the_file_analysed_instead(tmp_path, monkeypatch):
    from forensics.analysers import pipeline

    def crashing(path):
        raise OSError(f"cannot read {path}: broken")

    monkeypatch.setattr(pipeline, "jpeg_structure_read", crashing)
    first, second = tmp_path / "a" / "copy-1.jpg", tmp_path / "b" / "copy-2.jpg"
    for copy in (first, second):
        copy.parent.mkdir()
        camera_jpeg(copy)

    runs = [{run["name"]: run for run in _result(copy)["runs"]}["jpeg"] for copy in (first, second)]

    assert runs[0]["error"] == runs[1]["error"] == "OSError: cannot read <the file analysed>: broken"


def test_ffmpegs_error_naming_the_path_names_the_file_analysed_instead(tmp_path):
    # A file that passes for an MP4 by its first bytes (an ftyp box) and then holds no boxes FFmpeg can read
    first, second = tmp_path / "a" / "clip.mp4", tmp_path / "b" / "clip.mp4"
    for copy in (first, second):
        copy.parent.mkdir()
        copy.write_bytes(bytes.fromhex("0000001c66747970") + b"isom\x00\x00\x02\x00isomiso2mp41" + b"\xff" * 4096)

    errors = [_result(copy)["video"]["errors"] for copy in (first, second)]

    assert errors[0] == errors[1] and errors[0]
    assert all(str(tmp_path) not in error for error in errors[0])
    assert any("<the file analysed>" in error for error in errors[0])


def test_a_video_ffmpeg_could_not_read_is_said_not_examined(tmp_path):
    path = tmp_path / "clip.mp4"
    path.write_bytes(bytes.fromhex("0000001c66747970") + b"isom\x00\x00\x02\x00isomiso2mp41" + b"\xff" * 4096)
    result = _result(path)

    lines = examination_lines(result)
    video = {line.name: line for line in lines}["video"]

    assert (video.state, video.state_words) == (NOT_MADE, "not completed: FFmpeg could not read the file")
    assert "Invalid data found when processing input: '<the file analysed>'" in video.reason
    assert incomplete_count(lines) >= 1

    # and a reading that stopped part-way, with its streams read, is said partly examined
    result["video"]["streams"] = [{"codec_type": "video"}]
    video = {line.name: line for line in examination_lines(result)}["video"]
    assert (video.state, video.state_words) == (PARTLY_EXAMINED, "partly examined: FFmpeg met errors")


def test_metadata_exiftool_reported_an_error_for_is_said_partly_examined(tmp_path):
    # A GIF cut right after its header: libmagic names it, ExifTool stops with a format error
    path = tmp_path / "cut.gif"
    path.write_bytes(b"GIF89a\x00\x00\x00")
    result = _result(path)

    line = {line.name: line for line in examination_lines(result)}["exiftool"]

    assert result["detected_mime_type"] == "image/gif"
    assert (line.state, line.state_words, line.reason) == (
        PARTLY_EXAMINED,
        "partly examined: ExifTool reported an error",
        "File format error",
    )
