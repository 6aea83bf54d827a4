"""analyse_files: two files analysed at once, results in the order given, each what analyse_file gives alone."""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

import magic
import pytest

from forensics.analysers import analyse_file, analyse_files, pipeline
from forensics.analysers.exiftool_metadata import _running_helper, exiftool_read
from forensics.analysers.results import AnalysisResult
from forensics.rules import evaluate

# Long enough for a small file's whole analysis on a loaded machine, short enough for a test.
WAIT_SECONDS = 10.0


def comparable(result: AnalysisResult) -> dict[str, Any]:
    """The result without what differs from one run to the next: times, and how ExifTool was called."""
    data = result.to_dict()
    data.pop("analysed_at")
    data["runs"] = [{"name": run["name"], "status": run["status"]} for run in data["runs"]]
    return data


def analysis_threads() -> set[threading.Thread]:
    return {thread for thread in threading.enumerate() if thread.name == "forensics-analyser"}


@pytest.fixture
def three_files(camera_jpeg: Path, sd_png: Path, ffmpeg_mp4: Path) -> list[Path]:
    return [camera_jpeg, sd_png, ffmpeg_mp4]


def test_next_file_is_analysed_while_the_first_one_finishes_and_results_keep_their_order(
    monkeypatch: pytest.MonkeyPatch, three_files: list[Path]
) -> None:
    # given a first file whose double JPEG estimate only ends once the second file's analysis has begun (or after
    # WAIT_SECONDS, when files are analysed one after the other)
    first, second, _ = three_files
    second_started = threading.Event()
    second_started_during_the_first: list[bool] = []
    real_file_type, real_estimate = pipeline.file_type_identify, pipeline.double_jpeg_estimate

    def file_type_noting_the_second(path, **kwargs):
        if Path(path) == second:
            second_started.set()
        return real_file_type(path, **kwargs)

    def estimate_waiting_for_the_second(path):
        if Path(path) == first:
            second_started_during_the_first.append(second_started.wait(WAIT_SECONDS))
        return real_estimate(path)

    monkeypatch.setattr(pipeline, "file_type_identify", file_type_noting_the_second)
    monkeypatch.setattr(pipeline, "double_jpeg_estimate", estimate_waiting_for_the_second)
    threads_before = analysis_threads()

    # when the three files are analysed together
    results = list(analyse_files(three_files))

    # then the second file's analysis began while the first one was still being analysed
    assert second_started_during_the_first == [True]
    # and each result, in the order given, is the one the file gets alone; no analysis thread is left behind
    assert [comparable(result) for result in results] == [comparable(analyse_file(path)) for path in three_files]
    assert [result.container for result in results] == ["jpeg", "png", "isobmff"]
    assert analysis_threads() <= threads_before


def test_a_file_whose_analyser_stalls_costs_its_deadline_but_not_the_other_files_results(
    monkeypatch: pytest.MonkeyPatch, three_files: list[Path]
) -> None:
    # given a first file whose double JPEG estimate hangs (as on a hostile file) past a 3-second deadline
    stalled = three_files[0]
    release = threading.Event()
    real_estimate = pipeline.double_jpeg_estimate
    finished_at: dict[Path, float] = {}
    real_analyse_file = pipeline.analyse_file

    def estimate_hanging_on_the_first(path):
        if Path(path) == stalled:
            release.wait(60)
        return real_estimate(path)

    def analyse_file_noting_its_end(path, **kwargs):
        result = real_analyse_file(path, **kwargs)
        finished_at[Path(path)] = time.monotonic()
        return result

    monkeypatch.setitem(pipeline.TIMEOUTS, "double_jpeg", 3.0)
    monkeypatch.setattr(pipeline, "double_jpeg_estimate", estimate_hanging_on_the_first)
    monkeypatch.setattr(pipeline, "analyse_file", analyse_file_noting_its_end)
    try:
        # when it is analysed with the others
        results = list(analyse_files(three_files))
    finally:
        release.set()  # the abandoned call ends, as a hostile file's analyser ends at its read caps

    # then the stalled analyser is recorded as timed out, and the rest of that file's analysis is kept
    assert results[0].run("double_jpeg").status == "timeout"
    assert results[0].run("jpeg").status == "ok"
    assert results[0].exiftool.tags["IFD0:Make"] == "Canon"
    # and the second file was analysed while the first one waited for its deadline, not after it
    assert finished_at[three_files[1]] < finished_at[stalled]
    # and the other files' results, in their places, are the ones they get alone
    assert [comparable(result) for result in results[1:]] == [
        comparable(real_analyse_file(path)) for path in three_files[1:]
    ]


def test_files_of_a_batch_that_exiftool_does_not_finish_are_read_one_by_one(
    monkeypatch: pytest.MonkeyPatch, three_files: list[Path]
) -> None:
    # given an ExifTool that hangs (stopped with SIGSTOP) on the first batch, and a one-second limit for its calls
    assert exiftool_read(three_files[0]).tags["IFD0:Make"] == "Canon"
    os.kill(_running_helper()._process.pid, signal.SIGSTOP)
    monkeypatch.setattr(pipeline, "EXIFTOOL_KILL_AFTER", 1.0)

    # when the files are analysed in batches of two
    results = list(analyse_files(three_files, batch_size=2))

    # then the first batch's files were read by ExifTool one by one, and the second batch's in a batch again
    exiftool_runs = [result.run("exiftool") for result in results]
    assert [run.status for run in exiftool_runs] == ["ok", "ok", "ok"]
    assert [run.error for run in exiftool_runs] == [None, None, "read in a batch with other files"]
    # and every file, in its place, has the result it gets alone
    assert [comparable(result) for result in results] == [comparable(analyse_file(path)) for path in three_files]
    assert results[0].exiftool.tags["IFD0:Make"] == "Canon"


def test_a_file_that_stalls_libmagic_does_not_hold_up_the_identification_of_the_file_alongside(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, camera_jpeg: Path
) -> None:
    # given a first file on which libmagic hangs (as on a hostile file) past a 2-second deadline, then a JPEG
    stalled = tmp_path / "stalls-libmagic.bin"
    stalled.write_bytes(b"STALL" + bytes(range(256)))
    release = threading.Event()
    real_from_buffer = magic.Magic.from_buffer

    def from_buffer_hanging_on_the_first(self, buffer):
        if buffer.startswith(b"STALL"):
            release.wait(60)
        return real_from_buffer(self, buffer)

    monkeypatch.setitem(pipeline.TIMEOUTS, "file_type", 2.0)
    monkeypatch.setattr(magic.Magic, "from_buffer", from_buffer_hanging_on_the_first)
    try:
        # when both are analysed
        results = list(analyse_files([stalled, camera_jpeg]))
    finally:
        release.set()

    # then only the first file's identification timed out; the JPEG was identified as it is alone
    assert [result.run("file_type").status for result in results] == ["timeout", "ok"]
    assert results[1].container == "jpeg"
    assert comparable(results[1]) == comparable(analyse_file(camera_jpeg))


def test_two_videos_and_two_c2pa_files_in_flight_read_as_each_alone(corpus: Path, tmp_path: Path) -> None:
    """With two files in flight, libmediainfo, the probe server and the C2PA reader are asked for two files at once."""
    # given two videos and two JPEGs with C2PA manifests (one valid, one whose image was altered), interleaved
    videos = [tmp_path / "first.mp4", tmp_path / "second.mp4"]
    for path, size in zip(videos, ("160x120", "320x240"), strict=True):
        subprocess.run(
            ["ffmpeg", "-loglevel", "error", "-f", "lavfi", "-i", f"testsrc=size={size}:rate=25:duration=1", str(path)],
            check=True,
        )
    signed = [
        corpus / "images/ai-generated/firefly_ocsp.jpg",
        corpus / "c2pa/c2pa-invalid/adobe-20220124-E-dat-CA.jpg",
    ]
    paths = [videos[0], signed[0], videos[1], signed[1]] * 2

    # when they are analysed together
    results = list(analyse_files(paths))

    # then each reads as it does alone: its streams, its tracks, its provenance and its findings
    def read(result: AnalysisResult) -> tuple:
        c2pa = result.c2pa
        provenance = (c2pa.present, c2pa.validation_state, sorted(c2pa.codes)) if c2pa else None
        findings = sorted(finding.rule_id for finding in evaluate(result).findings)
        return result.to_dict()["video"], result.to_dict()["mediainfo"], provenance, findings

    assert [read(result) for result in results] == [read(analyse_file(path)) for path in paths]
    assert [result.c2pa.validation_state for result in results[1::2]] == ["Valid", "Invalid"] * 2
    assert all(result.video and result.mediainfo.tracks_of("Video") for result in results[0::2])
