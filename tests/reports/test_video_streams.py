"""The video and audio streams of a video, as the evidence page and the report show them: codec, profile and level,
picture size and frame rate, keyframes and B-frames, the encoder string in the bitstream and the audio stream."""

import shutil
import subprocess

import pytest
from django.core.files.storage import storages

from reports.models import ReportStatus
from tests.conftest import PASSWORD
from tests.reports.conftest import pdf_text

pytestmark = pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="FFmpeg is not installed")

# What the generated x264 + AAC clip must show in both places.
EXPECTED = (
    "h264, High, level 1.3",
    "320x240, 25 fps",
    "starts on a keyframe",
    "B-frames (out of display order)",
    "x264 - core",
    "aac, LC",
    "48000 Hz, mono",
    "encoder delay of 1024 samples",
)


@pytest.fixture
def x264_video(tmp_path):
    """Three seconds of x264 with B-frames and a keyframe every 25 frames, with FFmpeg's AAC audio."""
    path = tmp_path / "clip.mp4"
    subprocess.run(
        [
            "ffmpeg", "-hide_banner", "-loglevel", "error", "-y",
            "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25:duration=3",
            "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000:duration=3",
            "-c:v", "libx264", "-preset", "veryfast", "-bf", "2", "-g", "25", "-c:a", "aac", "-ac", "1", str(path),
        ],
        check=True,
    )  # fmt: skip
    return path


def test_evidence_page_and_report_show_the_video_and_audio_streams(client, alpha, analysed, x264_video, generate):
    item = analysed(alpha.case, x264_video, alpha.investigator)
    client.login(username=alpha.investigator.username, password=PASSWORD)

    page = client.get(f"/evidence/{item.public_id}/").content.decode()
    report = generate(alpha.investigator, alpha.case, item)

    assert "Video and audio streams" in page
    assert "keyframe every 25, 25 frames" in page
    for words in EXPECTED:
        assert words in page, words
    assert report.status == ReportStatus.DONE, report.error
    with storages["reports"].open(report.storage_key, "rb") as stored:
        text, _ = pdf_text(stored.read())
    flat = " ".join(text.split())
    assert "Video and audio streams" in flat
    for words in EXPECTED:
        assert words in flat, words
