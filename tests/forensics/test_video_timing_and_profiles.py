"""Timing and device-profile rules for videos (EM-VIDEO-007, EM-VIDEO-008, and EM-META-015 for creation times) on
files FFmpeg and ExifTool make here: a trim without re-encoding, a header shortened to hide the end, creation_time
changed in one box only, a B-frame x264 re-encode and an FFmpeg AAC re-encode at another sample rate under an
iPhone's own tags; and genuine-looking files that must not fire."""

from __future__ import annotations

import json
import shutil
import struct
import subprocess
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.management import call_command

from forensics.analysers import analyse_file
from forensics.analysers.isobmff_structure import isobmff_structure_read
from forensics.analysers.video_traits import video_traits
from forensics.assessment import assessment_make
from forensics.device_profiles import PROFILE_ENV, profiles_build, profiles_write
from forensics.device_profiles_build import video_originals_read
from forensics.rules import evaluate

from .conftest import CORPUS, exiftool_write
from .test_encoding import camera_original

pytestmark = pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="FFmpeg is not installed")

IPHONE = CORPUS / "video" / "camera-original" / "with-gps.mov"
MAC = CORPUS / "video" / "camera-original" / "c.mov"
KEEP_TAGS = ["-map_metadata", "0", "-movflags", "use_metadata_tags"]
VIDEO_RULES = ("EM-VIDEO-007", "EM-VIDEO-008")


def ffmpeg(path: Path, *arguments: str) -> Path:
    subprocess.run(["ffmpeg", "-hide_banner", "-loglevel", "error", "-y", *arguments, str(path)], check=True)
    return path


def clip(path: Path, seconds: float = 4) -> Path:
    """A short H.264 + AAC clip with consistent headers, as FFmpeg writes any file."""
    return ffmpeg(
        path,
        *("-f", "lavfi", "-i", f"testsrc2=size=320x240:rate=25:duration={seconds}"),
        *("-f", "lavfi", "-i", f"sine=frequency=440:sample_rate=48000:duration={seconds}"),
        *("-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac"),
    )


def rules_of(path: Path) -> dict[str, list]:
    found: dict[str, list] = {}
    for finding in evaluate(analyse_file(path)).findings:
        found.setdefault(finding.rule_id, []).append(finding)
    return found


def patch(path: Path, offset: int, fmt: str, value: int) -> None:
    data = bytearray(path.read_bytes())
    struct.pack_into(fmt, data, offset, value)
    path.write_bytes(bytes(data))


def needs_iphone() -> None:
    if not IPHONE.is_file():
        pytest.skip(f"shared media corpus not found at {CORPUS}")


@pytest.fixture
def iphone_profile(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Device profiles built by the builder from the corpus's iPhone 6 recording only, and put in force."""
    needs_iphone()
    folder = tmp_path / "originals"
    folder.mkdir()
    (folder / "original.mov").symlink_to(IPHONE.resolve())
    videos, skipped = video_originals_read([folder], calibration_half=False)
    assert [(video.make, video.model) for video in videos] == [("Apple", "iPhone 6")] and skipped["unreadable"] == 0
    path = tmp_path / "profiles.json"
    profiles_write(profiles_build([], {}, {}, videos), path)
    monkeypatch.setenv(PROFILE_ENV, str(path))
    return path


# --- EM-VIDEO-007: durations and edit lists ------------------------------------------------------------------------


def test_trim_without_reencoding_shows_the_audio_starting_after_the_cut(tmp_path: Path) -> None:
    source = clip(tmp_path / "source.mp4")
    trimmed = ffmpeg(tmp_path / "trimmed.mp4", "-ss", "1.3", "-i", str(source), "-c", "copy")

    found = rules_of(trimmed)

    (finding,) = found["EM-VIDEO-007"]
    assert finding.evidence["handler"] == "soun" and finding.evidence["hidden_start_samples"] > 2112
    assert finding.evidence["elst:entries"][0]["media_time"] == finding.evidence["hidden_start_samples"]
    assert "more than any AAC encoder's priming" in finding.explanation
    assert "EM-VIDEO-007" not in rules_of(source)


def test_headers_shortened_to_hide_the_end_are_caught(tmp_path: Path) -> None:
    video = clip(tmp_path / "shortened.mp4")
    isobmff = isobmff_structure_read(video)
    track = next(track for track in isobmff.tracks if track.handler_type == "vide")
    movie = next(times for times in isobmff.times if times.box == "mvhd")
    tkhd = next(times for times in isobmff.times if times.box == "tkhd" and times.duration == track.duration)
    elst = next(edit for edit in isobmff.edit_lists if track.offset < edit.offset < track.offset + track.size)
    half = track.duration // 2
    # Version-0 boxes: tkhd duration 20 bytes into its body, the first elst segment_duration 8, mvhd duration 16.
    patch(video, tkhd.offset + 8 + 20, ">I", half)
    patch(video, elst.offset + 8 + 8, ">I", half)
    patch(video, movie.offset + 8 + 16, ">I", max(t.duration for t in isobmff.tracks if t.handler_type == "soun"))

    findings = rules_of(video)["EM-VIDEO-007"]

    hidden = next(f for f in findings if "hidden_end_seconds" in f.evidence)
    assert hidden.evidence["handler"] == "vide" and 1.5 < hidden.evidence["hidden_end_seconds"] < 2.5
    assert hidden.evidence["tkhd:duration"] == half and hidden.evidence["mdhd:duration"] == track.media_duration
    assert "before the coded media ends" in hidden.explanation


def test_movie_header_longer_than_every_track_is_caught(tmp_path: Path) -> None:
    video = clip(tmp_path / "movie.mp4")
    movie = next(times for times in isobmff_structure_read(video).times if times.box == "mvhd")
    patch(video, movie.offset + 8 + 16, ">I", movie.duration * 3)

    (finding,) = rules_of(video)["EM-VIDEO-007"]

    assert finding.evidence["mvhd:duration"] == movie.duration * 3
    assert "The movie header says the movie lasts" in finding.explanation


# --- creation_time changed in one place only (EM-META-015) ---------------------------------------------------------


def test_creation_time_changed_in_one_track_header_only(tmp_path: Path) -> None:
    needs_iphone()
    video = tmp_path / "retimed.mov"
    shutil.copyfile(IPHONE, video)
    tkhd = next(times for times in isobmff_structure_read(video).times if times.box == "tkhd")
    patch(video, tkhd.offset + 8 + 4, ">I", tkhd.raw_creation - int(timedelta(days=3).total_seconds()))

    (finding,) = rules_of(video)["EM-META-015"]

    assert finding.evidence[f"tkhd@{tkhd.offset}:creation_time"].startswith("2019-07-21")
    assert f"the tkhd box at offset {tkhd.offset:,} was created at 2019-07-21" in finding.explanation


def test_creation_date_key_changed_with_exiftool_only(tmp_path: Path) -> None:
    needs_iphone()
    video = tmp_path / "keys.mov"
    shutil.copyfile(IPHONE, video)
    exiftool_write(video, "-Keys:CreationDate=2021:01:05 10:00:00+01:00")

    (finding,) = rules_of(video)["EM-META-015"]

    assert finding.evidence["com.apple.quicktime.creationdate"].startswith("2021")
    assert finding.evidence["mvhd:creation_time"].startswith("2019-07-24")


# --- EM-VIDEO-008: the claimed model's own videos -------------------------------------------------------------------


def test_b_frame_x264_encode_under_iphone_tags_is_unlike_its_videos(tmp_path: Path, iphone_profile: Path) -> None:
    video = ffmpeg(
        tmp_path / "x264.mov", "-i", str(IPHONE), "-map", "0:v", "-map", "0:a", *KEEP_TAGS,
        "-c:v", "libx264", "-preset", "veryfast", "-bf", "3", "-c:a", "copy",
    )  # fmt: skip

    (finding,) = rules_of(video)["EM-VIDEO-008"]

    assert (finding.evidence["claimed_make"], finding.evidence["claimed_model"]) == ("Apple", "iPhone 6")
    assert finding.evidence["b_frames:file"] == "yes" and finding.evidence["b_frames:profile"] == ["no"]
    assert finding.evidence["video_codec:file"] == "h264 High"
    assert finding.evidence["video_codec:profile"] == ["h264 Baseline"]
    assert "B-frames (frames stored out of display order) 'yes' where the model's videos show 'no'" in (
        finding.explanation
    )


def test_ffmpeg_aac_at_another_sample_rate_under_iphone_tags(tmp_path: Path, iphone_profile: Path) -> None:
    video = ffmpeg(
        tmp_path / "audio.mov", "-i", str(IPHONE), "-map", "0:v", "-map", "0:a", *KEEP_TAGS,
        "-c:v", "copy", "-c:a", "aac", "-ar", "48000",
    )  # fmt: skip

    found = rules_of(video)
    (finding,) = found["EM-VIDEO-008"]

    assert finding.evidence["audio_sample_rate:file"] == "48000"
    assert finding.evidence["audio_sample_rate:profile"] == ["44100"]
    assert finding.evidence["audio_priming:file"] == "1024" and finding.evidence["audio_priming:profile"] == ["0"]
    assert finding.evidence["audio_sample_groups:file"] == "roll"  # FFmpeg's AAC roll group; the phone writes none
    assert finding.evidence["audio_sample_groups:profile"] == ["none"]
    assert "video_codec:file" not in finding.evidence  # the coded video was copied untouched
    assert "EM-VIDEO-006" in found  # FFmpeg's AAC priming under a phone's tags


def test_genuine_recordings_and_a_location_edit_fire_neither_rule(tmp_path: Path, iphone_profile: Path) -> None:
    edited = tmp_path / "gps.mov"
    shutil.copyfile(IPHONE, edited)
    exiftool_write(edited, "-Keys:GPSCoordinates=48.8584, 2.2945, 30")

    for path in (IPHONE, MAC, edited):
        assert not set(rules_of(path)) & set(VIDEO_RULES), path.name


def test_a_make_without_profiled_videos_is_not_judged(tmp_path: Path, iphone_profile: Path) -> None:
    video = clip(tmp_path / "samsung.mp4")
    exiftool_write(video, "-Keys:Make=samsung", "-Keys:Model=SM-G991B")

    found = rules_of(video)

    assert isobmff_structure_read(video).vendor_tags["com.apple.quicktime.make"] == "samsung"
    assert not set(found) & set(VIDEO_RULES)


def test_another_model_of_a_profiled_make_is_not_judged(tmp_path: Path, iphone_profile: Path) -> None:
    video = ffmpeg(
        tmp_path / "x264.mov", "-i", str(IPHONE), "-map", "0:v", "-map", "0:a", *KEEP_TAGS,
        "-c:v", "libx264", "-preset", "ultrafast", "-bf", "3", "-c:a", "copy",
    )  # fmt: skip
    exiftool_write(video, "-Keys:Model=iPhone 15 Pro")

    found = rules_of(video)

    assert isobmff_structure_read(video).vendor_tags["com.apple.quicktime.model"] == "iPhone 15 Pro"
    assert "EM-VIDEO-008" not in found and "EM-VIDEO-001" in found  # x264's own string still names the encoder


def test_builder_keeps_camera_videos_and_skips_software_written_ones(tmp_path: Path) -> None:
    needs_iphone()
    folder = tmp_path / "originals"
    folder.mkdir()
    (folder / "phone.mov").symlink_to(IPHONE.resolve())
    (folder / "again.mov").symlink_to(IPHONE.resolve())
    ffmpeg(folder / "remux.mov", "-i", str(IPHONE), "-map", "0:v", "-map", "0:a", *KEEP_TAGS, "-c", "copy")
    clip(folder / "untagged.mp4", seconds=1)

    videos, skipped = video_originals_read([folder], calibration_half=False)

    assert [video.model for video in videos] == ["iPhone 6"]
    assert videos[0].traits["b_frames"] == "no" and videos[0].traits["audio_sample_rate"] == "44100"
    assert skipped == {
        "duplicate": 1,
        "held_out_half": 0,
        "no_make_and_model": 1,
        "software_written": 1,
        "unreadable": 0,
    }


def test_track_timing_of_damaged_files_is_read_without_raising(tmp_path: Path) -> None:
    video = clip(tmp_path / "whole.mp4", seconds=2)
    data = video.read_bytes()
    moov = next(box for box in isobmff_structure_read(video).top_level if box.type == "moov")
    damaged = tmp_path / "damaged.mp4"

    for cut in range(moov.offset + 8, len(data), max(1, (len(data) - moov.offset) // 40)):
        damaged.write_bytes(data[:cut])
        structure = isobmff_structure_read(damaged)
        assert all(track.offset >= moov.offset for track in structure.tracks)
        evaluate(analyse_file(damaged))
    scrambled = bytearray(data)
    for at in range(moov.offset + 16, len(data), 7):
        scrambled[at] ^= 0x5A
    damaged.write_bytes(bytes(scrambled))

    assert "EM-STRUCT-002" in rules_of(damaged)
    assert [track.track_id for track in isobmff_structure_read(video).tracks] == [1, 2]


def test_a_hidden_end_is_assessed_as_a_cut(tmp_path: Path) -> None:
    video = clip(tmp_path / "movie.mp4")
    movie = next(times for times in isobmff_structure_read(video).times if times.box == "mvhd")
    patch(video, movie.offset + 8 + 16, ">I", movie.duration * 3)

    result = analyse_file(video)
    editing = assessment_make(evaluate(result).to_dict()["findings"], result.to_dict())["editing"]

    assert editing["state"] == "found" and "cut" in editing["kinds"]


def test_traits_of_an_hevc_encode_include_its_vui_timing(tmp_path: Path) -> None:
    video = ffmpeg(
        tmp_path / "hevc.mp4", "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25:duration=3", "-an",
        "-c:v", "libx265", "-preset", "ultrafast", "-x265-params", "keyint=25:min-keyint=25:bframes=0",
        "-tag:v", "hvc1",
    )  # fmt: skip
    result = analyse_file(video)

    traits = video_traits(result.video, result.isobmff)

    assert traits["video_codec"] == "hevc Main" and traits["b_frames"] == "no"
    assert traits["keyframe_interval"] == "1.0 s" and traits["audio_codec"] == "none"
    assert traits["vui_timing"] == "present"  # x265 writes the frame rate into the SPS's VUI
    assert "entropy_coding" not in traits  # H.265 has no CAVLC: only H.264's PPS names its entropy coding


def test_build_command_records_the_camera_videos_beside_the_jpeg_profiles(tmp_path: Path) -> None:
    needs_iphone()
    folder = tmp_path / "originals"
    folder.mkdir()
    camera_original(folder / "IMG_0001.jpg")
    (folder / "IMG_0002.mov").symlink_to(IPHONE.resolve())
    output = tmp_path / "profiles.json"

    call_command("device_profiles", "build", str(folder), "--output", str(output))

    data = json.loads(output.read_text())
    assert data["built_from"]["camera_originals"] == 1 and data["built_from"]["camera_videos"] == 1
    assert list(data["makes"]) == ["testcam"]  # the JPEG profiles hold no video
    iphone = data["video_makes"]["apple"]["models"]["iphone 6"]
    assert iphone["files"] == 1 and iphone["traits"]["video_codec"] == {"h264 Baseline": 1}
