"""The video analyser (FFmpeg's libavformat plus our own reading of the coded bytes) and the EM-VIDEO rules, on
videos FFmpeg makes here: software encodes with their tags stripped or a phone's labels written back, trims, joins,
lengths and priming; and on the shared corpus's camera recordings, which no EM-VIDEO rule may flag."""

from __future__ import annotations

import random
import shutil
import subprocess
from pathlib import Path

import pytest

from forensics.analysers import analyse_file, video_probe
from forensics.analysers.h26x_bitstream import bitstream_read
from forensics.analysers.video_probe import video_probe_read
from forensics.rules import evaluate

from .conftest import CORPUS, exiftool_write

pytestmark = pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="FFmpeg's ffmpeg is not installed")

NO_TAGS = ["-map_metadata", "-1", "-fflags", "+bitexact", "-flags:v", "+bitexact", "-flags:a", "+bitexact"]
PHONE_HANDLERS = ["-metadata:s:v", "handler_name=Core Media Video", "-metadata:s:a", "handler_name=Core Media Audio"]


def ffmpeg(path: Path, *arguments: str) -> Path:
    subprocess.run(["ffmpeg", "-hide_banner", "-loglevel", "error", "-y", *arguments, str(path)], check=True)
    return path


def sources(seconds: float = 3, audio_seconds: float | None = None) -> list[str]:
    return [
        "-f", "lavfi", "-i", f"testsrc2=size=320x240:rate=25:duration={seconds}",
        "-f", "lavfi", "-i", f"sine=frequency=440:sample_rate=48000:duration={audio_seconds or seconds}",
    ]  # fmt: skip


def rules_of(path: Path) -> dict[str, list]:
    found: dict[str, list] = {}
    for finding in evaluate(analyse_file(path)).findings:
        found.setdefault(finding.rule_id, []).append(finding)
    return found


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("videos")


def test_x264_reencode_with_tags_stripped_and_phone_labels_is_caught_by_its_bitstream(made: Path) -> None:
    video = ffmpeg(made / "x264.mp4", *sources(), *NO_TAGS, *PHONE_HANDLERS, "-c:v", "libx264", "-c:a", "aac")

    probe = video_probe_read(video)
    stream = probe.first("video")
    (sps,) = {(p.profile_idc, p.level_idc, p.width, p.height) for p in stream.bitstream.parameter_sets}
    found = rules_of(video)

    assert sps == (100, stream.level, 320, 240)  # High profile; our level and size agree with ffprobe's
    assert stream.bitstream.parameter_sets[0].entropy_coding == "CABAC"
    (signature,) = stream.bitstream.signatures
    assert signature.encoder == "x264" and signature.uuid == "dc45e9bd-e6d9-48b7-962c-d820d923eeef"
    assert "keyint=" in signature.settings
    (finding,) = found["EM-VIDEO-001"]
    assert finding.evidence["encoder"] == "x264" and finding.severity == "warning"
    assert "'Core Media Video'" in finding.explanation
    assert "EM-VIDEO-002" in found  # FFmpeg's container around it


def test_x265_and_mpeg4_encoders_are_named(made: Path) -> None:
    hevc = ffmpeg(made / "x265.mp4", *sources(1), "-an", "-c:v", "libx265", "-preset", "ultrafast", "-tag:v", "hvc1")
    mpeg4 = ffmpeg(made / "mpeg4.mp4", *sources(1), "-an", "-c:v", "mpeg4")

    hevc_stream = video_probe_read(hevc).first("video")

    assert [s.encoder for s in hevc_stream.bitstream.signatures][:1] == ["x265"]
    assert (hevc_stream.bitstream.parameter_sets[0].width, hevc_stream.bitstream.parameter_sets[0].height) == (320, 240)
    assert hevc_stream.bitstream.parameter_sets[0].profile_idc == 1  # Main
    assert hevc_stream.bitstream.parameter_sets[0].complete  # read through its VUI to its trailing bits
    (finding,) = rules_of(mpeg4)["EM-VIDEO-001"]
    assert finding.evidence["encoder"] == "FFmpeg libavcodec" and finding.evidence["found_in"] == "video user data"


def test_h264_without_encoder_messages_gets_no_signature_finding(made: Path) -> None:
    """The same x264 stream with its SEI units removed, as hardware encoders write none: parameter sets are still
    read, no encoder is named."""
    clean = ffmpeg(made / "no-sei.mp4", *sources(1), "-an", "-c:v", "libx264", "-bsf:v", "filter_units=remove_types=6")

    stream = video_probe_read(clean).first("video")

    assert stream.bitstream.parameter_sets and stream.bitstream.signatures == []
    assert "EM-VIDEO-001" not in rules_of(clean)


def test_ffmpeg_aac_priming_under_an_android_claim(made: Path) -> None:
    video = ffmpeg(
        made / "android-claim.mp4", *sources(2), *NO_TAGS, "-metadata", "com.android.version=14", "-movflags",
        "use_metadata_tags", "-c:v", "libx264", "-c:a", "aac",
    )  # fmt: skip

    found = rules_of(video)

    (priming,) = found["EM-VIDEO-006"]
    assert priming.evidence["audio:priming_samples"] == 1024 and priming.evidence["audio:sample_rate"] == 48000
    assert "'Android 14'" in priming.explanation
    assert "Android 14" in found["EM-VIDEO-003"][0].explanation


def test_trim_without_reencoding_hides_the_start_of_the_coded_video(made: Path) -> None:
    source = ffmpeg(made / "gop.mp4", *sources(4), "-an", "-c:v", "libx264", "-g", "50")
    trimmed = ffmpeg(made / "trimmed.mp4", "-ss", "1.4", "-i", str(source), "-c", "copy")

    found = rules_of(trimmed)

    assert "EM-VIDEO-004" not in rules_of(source)
    (finding,) = found["EM-VIDEO-004"]
    assert 1.0 < finding.evidence["hidden_seconds"] < 1.5
    assert f"offset {finding.evidence['isobmff:elst_offset']:,}" in finding.explanation


def test_a_stream_starting_between_keyframes_is_flagged(made: Path) -> None:
    source = made / "gop.mp4"
    if not source.is_file():
        ffmpeg(source, *sources(4), "-an", "-c:v", "libx264", "-g", "50")
    cut = ffmpeg(made / "no-keyframe.mp4", "-i", str(source), "-c", "copy", "-bsf:v", "noise=drop=lt(n\\,3)")

    findings = rules_of(cut)["EM-VIDEO-004"]

    assert any(finding.evidence.get("first_packet_keyframe") is False for finding in findings)


def test_audio_that_ends_long_before_the_video(made: Path) -> None:
    video = ffmpeg(made / "short-audio.mp4", *sources(4, audio_seconds=1), "-c:v", "libx264", "-c:a", "aac")

    (finding,) = rules_of(video)["EM-VIDEO-005"]

    assert finding.evidence["video:duration"] == pytest.approx(4.0, abs=0.1)
    assert finding.evidence["audio:duration"] == pytest.approx(1.0, abs=0.1)


def test_a_read_overrunning_its_time_limit_is_recorded_not_raised(made: Path, monkeypatch) -> None:
    video = ffmpeg(made / "plain.mp4", *sources(1), "-c:v", "libx264", "-c:a", "aac")
    monkeypatch.setattr(video_probe, "PROBE_SECONDS", 0.001)

    probe = video_probe_read(video)

    assert probe.streams == [] and probe.errors == ["libavformat: stopped after 0.001 s"]


def test_the_read_runs_under_the_tools_memory_ceiling(made: Path, monkeypatch) -> None:
    video = made / "plain.mp4"
    if not video.is_file():
        ffmpeg(video, *sources(1), "-c:v", "libx264", "-c:a", "aac")
    monkeypatch.setenv("EVIDENCEMEDIA_TOOL_MEMORY_LIMIT_MB", "4")

    probe = video_probe_read(video)

    assert probe.streams == [] and probe.errors and probe.errors[0].startswith("libavformat: ")


def test_truncated_video_is_analysed_without_raising(made: Path) -> None:
    whole = ffmpeg(made / "whole.mp4", *sources(2), "-c:v", "libx264", "-c:a", "aac", "-movflags", "+faststart")
    cut = made / "cut.mp4"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])

    result = analyse_file(cut)

    assert result.run("video").status == "ok"
    assert "EM-STRUCT-002" in {finding.rule_id for finding in evaluate(result).findings}


def _corpus_videos(label: str) -> list[Path]:
    folder = CORPUS / "video" / label
    if not folder.is_dir():
        pytest.skip(f"shared media corpus not found at {CORPUS}")
    return sorted(folder.iterdir())


def test_genuine_camera_videos_of_the_corpus_get_no_video_finding() -> None:
    for path in _corpus_videos("camera-original"):
        evaluation = evaluate(analyse_file(path))

        assert [f.rule_id for f in evaluation.findings if f.rule_id.startswith("EM-VIDEO")] == [], path.name
        assert evaluation.verdict_code == "ok", path.name


def test_exiftool_model_edit_of_an_iphone_recording_breaks_its_layout(tmp_path: Path) -> None:
    iphone = next(path for path in _corpus_videos("camera-original") if path.name == "with-gps.mov")
    edited = tmp_path / "edited.mov"
    edited.write_bytes(iphone.read_bytes())
    exiftool_write(edited, "-Keys:Model=iPhone 15 Pro")

    (finding,) = rules_of(edited)["EM-VIDEO-003"]

    assert "'Apple iPhone 15 Pro'" in finding.explanation
    assert finding.evidence["top_level_order"][:2] == ["ftyp", "moov"]


def test_remux_of_an_iphone_recording_with_phone_labels_is_caught(tmp_path: Path) -> None:
    iphone = next(path for path in _corpus_videos("camera-original") if path.name == "with-gps.mov")
    remuxed = ffmpeg(tmp_path / "remux.mov", "-i", str(iphone), "-map", "0:v", "-map", "0:a", *NO_TAGS,
                     *PHONE_HANDLERS, "-c", "copy")  # fmt: skip

    found = rules_of(remuxed)

    assert "EM-VIDEO-001" not in found  # the camera's own coded video, copied
    (layout,) = found["EM-VIDEO-002"]
    assert layout.evidence["ftyp:minor_version"] == 0x200 and layout.evidence["minf/hdlr:names"] == ["DataHandler"]


def test_bitstream_reader_survives_damaged_and_random_bytes(made: Path) -> None:
    video = made / "plain.mp4"
    if not video.is_file():
        ffmpeg(video, *sources(1), "-c:v", "libx264", "-c:a", "aac")
    stream = video_probe_read(video).first("video")
    sps = stream.bitstream.parameter_sets[0]
    generator = random.Random(12)
    extradata = b"\x01\x64\x00\x0d\xff\xe1\x00\x19\x67\x64\x00\x0d\xac\xd9"  # an avcC cut inside its SPS

    cut = bitstream_read("h264", extradata, b"")
    noise = [bitstream_read(codec, generator.randbytes(300), generator.randbytes(3000)) for codec in ("h264", "hevc")]

    assert sps.complete and (sps.width, sps.height) == (320, 240)
    assert cut.parameter_sets[0].profile_idc == 100 and not cut.parameter_sets[0].complete
    assert cut.parameter_sets[0].notes == ["the SPS ends before the end of its VUI"]
    assert all(facts.signatures == [] for facts in noise)
