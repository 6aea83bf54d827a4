"""File type identification and the persistent ExifTool reader, against real libmagic and ExifTool."""

from __future__ import annotations

import json
import os
import shutil
import signal
from pathlib import Path

import pytest

from forensics.analysers import exiftool_metadata
from forensics.analysers.deadline import PendingCall
from forensics.analysers.exiftool_metadata import ExifToolTimeout, exiftool_read
from forensics.analysers.filetype import file_type_identify

from .conftest import exiftool_write, picture


def test_jpeg_renamed_to_png_is_caught_by_its_bytes(camera_jpeg: Path, tmp_path: Path) -> None:
    # given a JPEG saved under a .png name and declared as PNG
    renamed = tmp_path / "holiday.png"
    shutil.copy(camera_jpeg, renamed)

    # when its type is identified
    result = file_type_identify(renamed, declared_mime_type="image/png")

    # then libmagic sees a JPEG and both claims are flagged as wrong
    assert result.container == "jpeg"
    assert result.magic_mime == "image/jpeg"
    assert result.extension_matches is False
    assert result.declared_matches is False


def test_quicktime_bytes_declared_as_mp4_are_not_a_mismatch(ffmpeg_mp4: Path) -> None:
    result = file_type_identify(ffmpeg_mp4, declared_mime_type="video/quicktime", original_filename="clip.mov")

    assert result.container == "isobmff"
    assert result.extension_matches is True
    assert result.declared_matches is True


def test_exiftool_keeps_grouped_tags_and_every_validate_warning(camera_jpeg: Path) -> None:
    # given a camera-like JPEG missing two tags ExifTool's validation requires
    exiftool_write(camera_jpeg, "-ExifVersion=", "-ColorSpace=")
    # when ExifTool reads it
    result = exiftool_read(camera_jpeg)

    # then tags are keyed by family-1 group and the validate verdict is kept
    assert result.tags["IFD0:Make"] == "Canon"
    assert result.tags["IFD0:Model"] == "Canon PowerShot G11"
    assert result.tags["ExifIFD:ExifImageWidth"] == 640
    assert result.validate is not None
    assert "System:Directory" not in result.tags  # the server's path is not evidence
    assert result.validate == "2 Warnings"
    assert len(result.warnings) == 2  # both kept, not collapsed into one JSON key
    assert any("0x9000 ExifVersion" in warning for warning in result.warnings)
    assert any("0xa001 ColorSpace" in warning for warning in result.warnings)


def test_exiftool_summarises_binary_values_instead_of_dropping_them(camera_jpeg: Path, tmp_path: Path) -> None:
    # given a JPEG with an embedded EXIF thumbnail
    thumbnail = tmp_path / "thumb.jpg"
    picture(160, 120).save(thumbnail, quality=80)
    exiftool_write(camera_jpeg, f"-ThumbnailImage<={thumbnail}")

    # when ExifTool reads it
    result = exiftool_read(camera_jpeg)

    # then the thumbnail is present as a summary, and the result is JSON-serialisable
    assert "Binary data" in str(result.tags["IFD1:ThumbnailImage"])
    json.dumps(result.tags)


def test_exiftool_that_overruns_its_deadline_is_killed_and_the_next_call_works(camera_jpeg: Path) -> None:
    # given an ExifTool process that has hung (stopped with SIGSTOP: a real hang, not a race between a tiny
    # deadline and a fast answer)
    assert exiftool_read(camera_jpeg).tags["IFD0:Make"] == "Canon"
    os.kill(exiftool_metadata._running_helper()._process.pid, signal.SIGSTOP)

    # when a read is attempted with a one-second deadline
    with pytest.raises(ExifToolTimeout):
        exiftool_read(camera_jpeg, timeout=1.0)

    # then a fresh ExifTool process serves the next call
    assert exiftool_read(camera_jpeg).tags["IFD0:Make"] == "Canon"


def test_a_dead_exiftool_is_replaced_without_touching_the_warning_filters(
    camera_jpeg: Path, monkeypatch, warning_filter_calls
) -> None:
    """pyexiftool warns when it notices a dead process; silencing that warning changed the filters, which are the
    whole process's, for every thread analysing or serving beside this one."""
    # given an ExifTool process that died between two calls
    assert exiftool_read(camera_jpeg).tags["IFD0:Make"] == "Canon"
    dead = exiftool_metadata._running_helper()
    os.kill(dead._process.pid, signal.SIGKILL)
    dead._process.wait()
    warning_filter_calls.clear()

    # when the next file is read
    result = exiftool_read(camera_jpeg)
    monkeypatch.undo()

    # then a fresh ExifTool serves it, the death is recorded in the dead helper (so its __del__ leaves it alone),
    # and nothing was warned or filtered
    assert result.tags["IFD0:Make"] == "Canon"
    assert exiftool_metadata._running_helper() is not dead
    assert dead._running is False and dead._process is None
    assert warning_filter_calls == []


def test_exiftool_version_does_not_wait_for_a_call_in_progress(camera_jpeg: Path) -> None:
    # given a running ExifTool busy with a call (its lock held)
    assert exiftool_read(camera_jpeg).tags["IFD0:Make"] == "Canon"
    version = exiftool_metadata._running_helper().version
    with exiftool_metadata._lock:
        # when its version is asked for (in another thread, as the pipeline asks)
        asked = PendingCall(exiftool_metadata.exiftool_version, 5.0)
        # then it is answered at once
        assert asked.result() == version


def test_exiftool_reports_an_empty_file_as_an_error(tmp_path: Path) -> None:
    empty = tmp_path / "empty.jpg"
    empty.write_bytes(b"")

    result = exiftool_read(empty)

    assert result.errors == ["File is empty"]


def test_exiftool_works_in_a_forked_worker_and_in_its_parent(camera_jpeg: Path) -> None:
    # given a process whose ExifTool, owner thread and watchdog are running, as in a task cluster's parent
    assert exiftool_read(camera_jpeg).tags["IFD0:Make"] == "Canon"

    # when a worker is forked from it and reads a file
    child = os.fork()
    if child == 0:
        signal.alarm(60)  # a hang ends the child with SIGALRM instead of stalling the test run
        healthy = False
        try:
            healthy = exiftool_read(camera_jpeg).tags["IFD0:Make"] == "Canon"
        finally:
            os._exit(0 if healthy else 1)
    _, status = os.waitpid(child, 0)

    # then the worker read it, and the parent's ExifTool still answers
    assert os.waitstatus_to_exitcode(status) == 0
    assert exiftool_read(camera_jpeg).tags["IFD0:Make"] == "Canon"


def test_a_jpeg_libmagic_cannot_describe_keeps_its_type_and_jpeg_analysis(camera_jpeg: Path, tmp_path: Path) -> None:
    from forensics.analysers.pipeline import analyse_file

    data = camera_jpeg.read_bytes()
    many_notes = tmp_path / "many-notes.jpg"
    many_notes.write_bytes(data[:2] + b"".join(b"\xff\xfe\x00\x06no. " for _ in range(200)) + data[2:])

    identified = file_type_identify(many_notes)
    result = analyse_file(many_notes)

    assert identified.magic_mime == "image/jpeg" and identified.container == "jpeg"
    assert identified.magic_description.startswith("libmagic could not describe these bytes: ")
    assert "name use count" in identified.magic_description
    assert result.run("file_type").status == "ok" and result.container == "jpeg"
    assert result.jpeg is not None and result.double_jpeg is not None


def test_a_libmagic_failure_still_leaves_the_container_to_its_walkers(camera_jpeg: Path, monkeypatch) -> None:
    import magic

    from forensics.analysers import filetype
    from forensics.analysers.pipeline import analyse_file
    from forensics.rules import evaluate

    def fails(*args, **kwargs):
        raise magic.MagicException(b"simulated failure")

    monkeypatch.setattr(filetype, "_idle_cookies", filetype.queue.SimpleQueue())  # no cookie opened before
    monkeypatch.setattr(magic.Magic, "from_buffer", fails)
    monkeypatch.setattr(magic.Magic, "from_file", fails)

    result = analyse_file(camera_jpeg)

    assert result.run("file_type").status == "failed" and "simulated failure" in result.run("file_type").error
    assert result.container == "jpeg" and result.jpeg is not None and result.double_jpeg is not None
    assert "EM-STRUCT-013" in {finding.rule_id for finding in evaluate(result).findings}
