"""Video and audio streams as FFmpeg's libavformat reads them, in ffprobe's terms (codecs, profile and level,
timing, the first packets' keyframe and reordering pattern, audio priming), plus our own reading of the coded bytes
(h26x_bitstream): the parameter sets and the encoder strings software encoders leave in the bitstream.

The file is read by the probe server (probe_server, reached through probe_client): FFmpeg is loaded there once,
and each file is read in a child process of its own under a time limit and the tools' memory ceiling
(tool_limits), so a hostile file costs at most that; a read that fails or overruns is recorded in `errors`, never
raised."""

from __future__ import annotations

import base64
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from .common import clip_text
from .h26x_bitstream import BitstreamFacts, bitstream_read
from .probe_client import ProbeServerError, probe_server

VIDEO_PROBE_VERSION = "video-probe/2"

PROBE_SECONDS = 8.0  # a hostile file's whole analysis is bounded at 10 s; the read gets most of it
MAX_TAG_CHARS = 1024
MAX_TAG_KEY_CHARS = 128


@dataclass
class PacketPattern:
    """What the first packets of one stream show: keyframes, frame reordering (B-frames), priming."""

    packets: int = 0
    first_is_keyframe: bool | None = None
    first_pts: int | None = None
    first_dts: int | None = None
    keyframe_positions: list[int] = field(default_factory=list)  # packet numbers of keyframes, first 64
    reordered: bool = False  # a packet presented before one decoded earlier: B-frames or similar
    skip_samples: int | None = None  # audio priming FFmpeg reports on the first packet


@dataclass
class StreamFacts:
    index: int
    codec_type: str
    codec_name: str | None
    codec_tag: str | None = None
    profile: str | None = None
    level: int | None = None
    width: int | None = None
    height: int | None = None
    pix_fmt: str | None = None
    field_order: str | None = None
    color: dict[str, str] = field(default_factory=dict)
    has_b_frames: int | None = None
    time_base: str | None = None
    start_time: float | None = None
    duration: float | None = None
    frame_count: int | None = None
    frame_rate: str | None = None
    average_frame_rate: str | None = None
    sample_rate: int | None = None
    channels: int | None = None
    channel_layout: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    packets: PacketPattern = field(default_factory=PacketPattern)
    bitstream: BitstreamFacts | None = None

    @property
    def gop_lengths(self) -> list[int]:
        positions = self.packets.keyframe_positions
        return [after - before for before, after in zip(positions, positions[1:], strict=False)]


@dataclass
class VideoProbe:
    format_name: str | None = None
    start_time: float | None = None
    duration: float | None = None
    tags: dict[str, str] = field(default_factory=dict)
    streams: list[StreamFacts] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def first(self, codec_type: str) -> StreamFacts | None:
        return next((stream for stream in self.streams if stream.codec_type == codec_type), None)


def video_probe_read(path: str | Path) -> VideoProbe:
    """Streams, timing and encoder traces of a video or audio file. Never raises for a readable path."""
    probe = VideoProbe()
    try:
        reply = probe_server.probe(str(path), PROBE_SECONDS)
    except ProbeServerError as failure:
        probe.errors.append(str(failure))
        return probe
    if "facts" not in reply:
        probe.errors.append(f"libavformat: {reply.get('error') or 'no facts'}")
        return probe
    facts = reply["facts"]
    probe.format_name = facts["format_name"]
    probe.start_time, probe.duration = facts["start_time"], facts["duration"]
    probe.tags = _tags(facts["tags"])
    probe.errors += [f"libavformat: {problem}" for problem in facts["errors"]]
    first_packets = facts["first_packets"]
    for raw in facts["streams"]:
        stream = _stream(raw)
        probe.streams.append(stream)
        kind = stream.codec_type
        if kind in ("video", "audio") and probe.first(kind) is stream:
            stream.bitstream = bitstream_read(
                stream.codec_name or "",
                base64.b64decode(raw["extradata"]),
                base64.b64decode(first_packets.get(kind, "")),
                audio=kind == "audio",
            )
    return probe


def ffmpeg_version() -> str:
    """The FFmpeg (and PyAV) version the probe server reads files with."""
    return probe_server.server_version()


def _tags(raw: dict[str, str]) -> dict[str, str]:
    return {key[:MAX_TAG_KEY_CHARS]: clip_text(value, MAX_TAG_CHARS) for key, value in raw.items()}


def _stream(raw: dict[str, Any]) -> StreamFacts:
    names = {item.name for item in fields(StreamFacts)} - {"tags", "packets", "bitstream"}
    stream = StreamFacts(**{name: raw[name] for name in names if name in raw})
    stream.tags = _tags(raw["tags"])
    stream.packets = PacketPattern(**raw["packets"])
    return stream
