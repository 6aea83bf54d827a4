"""Video and audio streams as FFmpeg's ffprobe reads them (codecs, profile and level, timing, the first packets'
keyframe and reordering pattern, audio priming), plus our own reading of the coded bytes (h26x_bitstream): the
parameter sets and the encoder strings software encoders leave in the bitstream.

ffprobe and ffmpeg run as separate processes with a time limit and the tools' memory ceiling (tool_limits), so a
hostile file costs at most that; a tool that fails or overruns is recorded in `errors`, never raised."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

from .common import clip_text
from .h26x_bitstream import BitstreamFacts, bitstream_read
from .tool_limits import tool_memory_limit_mb

VIDEO_PROBE_VERSION = "video-probe/1"

FFPROBE_SECONDS = 8.0  # a hostile file's whole analysis is bounded at 10 s; ffprobe gets most of it
FIRST_PACKET_SECONDS = 3.0
MAX_PACKETS = 3000  # packets read from the start of the file: about 50 s of 30 fps video with audio
MAX_FIRST_PACKET = 256 << 10  # encoder strings sit in the first few hundred bytes of the first packet
MAX_PACKET_OUTPUT = 64 << 20  # a first packet larger than this is refused, not read
MAX_PROBE_OUTPUT = 8 << 20
MAX_TAG_CHARS = 1024
_HEXDUMP_LINE = re.compile(r"^[0-9a-f]{8}: ((?:[0-9a-f]{2,4} ?)+)", re.MULTILINE)


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
    ffprobe_version: str | None = None
    errors: list[str] = field(default_factory=list)

    def first(self, codec_type: str) -> StreamFacts | None:
        return next((stream for stream in self.streams if stream.codec_type == codec_type), None)


def video_probe_read(path: str | Path) -> VideoProbe:
    """Streams, timing and encoder traces of a video or audio file. Never raises for a readable path."""
    path = Path(path)
    probe = VideoProbe()
    if shutil.which("ffprobe") is None or shutil.which("ffmpeg") is None:
        probe.errors.append("ffprobe/ffmpeg are not installed")
        return probe
    entries = (
        "format=format_name,start_time,duration:format_tags"
        ":stream=index,codec_type,codec_name,codec_tag_string,profile,level,width,height,pix_fmt,field_order,"
        "color_range,color_space,color_transfer,color_primaries,has_b_frames,time_base,start_time,duration,"
        "nb_frames,r_frame_rate,avg_frame_rate,sample_rate,channels,channel_layout,extradata:stream_tags"
        ":packet=stream_index,pts,dts,flags:packet_side_data"
    )
    command = ["ffprobe", "-v", "error", "-print_format", "json", "-show_data", "-show_entries", entries]
    command += ["-read_intervals", f"%+#{MAX_PACKETS}", "-i", str(path)]
    output, error = _bounded_run(command, FFPROBE_SECONDS, MAX_PROBE_OUTPUT)
    if error:
        probe.errors.append(f"ffprobe: {error}")
    if not output:
        return probe
    try:
        parsed = json.loads(output)
    except ValueError as failure:
        probe.errors.append(f"ffprobe printed no readable JSON: {failure}")
        return probe
    _read_format(probe, parsed.get("format") or {})
    extradata = {}
    for raw in parsed.get("streams") or []:
        stream = _stream(raw)
        extradata[stream.index] = _hexdump_bytes(raw.get("extradata") or "")
        probe.streams.append(stream)
    _read_packets(probe, parsed.get("packets") or [])
    # After a failed probe, a second tool run on the same file gains nothing.
    kinds = [] if error else [kind for kind in ("video", "audio") if probe.first(kind) is not None]
    for kind, (packet, packet_error) in _first_packets(path, kinds).items():
        stream = probe.first(kind)
        if packet_error:
            probe.errors.append(f"ffmpeg ({kind} packet): {packet_error}")
        stream.bitstream = bitstream_read(
            stream.codec_name or "", extradata.get(stream.index, b""), packet, audio=kind == "audio"
        )
    return probe


def ffprobe_version() -> str:
    output, error = _bounded_run(["ffprobe", "-version"], FIRST_PACKET_SECONDS, 1 << 20)
    words = output.decode("utf-8", "replace").split()
    if error or len(words) < 3:
        raise RuntimeError(error or "ffprobe printed no version")
    return words[2]


def _bounded_run(command: list[str], seconds: float, max_output: int) -> tuple[bytes, str | None]:
    """Run a tool under the memory ceiling (set by the shell before the tool starts) and a time limit."""
    limit_mb = tool_memory_limit_mb()
    if limit_mb:
        command = ["sh", "-c", f'ulimit -v {limit_mb * 1024} && exec "$@"', command[0], *command]
    try:
        done = subprocess.run(command, capture_output=True, timeout=seconds, check=False)
    except subprocess.TimeoutExpired:
        return b"", f"stopped after {seconds:g} s"
    except OSError as failure:
        return b"", f"could not start: {failure}"
    error = None
    if done.returncode != 0:
        message = done.stderr.decode("utf-8", "replace").strip().splitlines()
        error = f"exit status {done.returncode}: {clip_text(message[-1] if message else '', 300)}"
    if len(done.stdout) > max_output:
        return b"", f"printed more than {max_output:,} bytes"
    return done.stdout, error


def _first_packets(path: Path, kinds: list[str]) -> dict[str, tuple[bytes, str | None]]:
    """The first packet of the first stream of each kind, by kind: one ffmpeg run for all of them (each start of
    ffmpeg costs more than copying a packet); should that run fail, one run per kind, so that each kind's packet
    or error is the one ffmpeg gives for it alone."""
    if len(kinds) > 1:
        with tempfile.TemporaryDirectory(prefix="first-packets-") as directory:
            outputs = {kind: Path(directory) / f"{kind}.data" for kind in kinds}
            command = ["ffmpeg", "-nostdin", "-v", "error", "-i", str(path)]
            for kind, output in outputs.items():
                command += _packet_output(kind, f"file:{output}")
            _, error = _bounded_run(command, FIRST_PACKET_SECONDS, 0)
            if error is None and all(output.stat().st_size <= MAX_PACKET_OUTPUT for output in outputs.values()):
                return {kind: (_head(output), None) for kind, output in outputs.items()}
    return {kind: _first_packet(path, kind) for kind in kinds}


def _first_packet(path: Path, kind: str) -> tuple[bytes, str | None]:
    """The first packet of the first stream of a kind, as stored (FFmpeg's raw 'data' muxer), cut at the cap."""
    command = ["ffmpeg", "-nostdin", "-v", "error", "-i", str(path), *_packet_output(kind, "pipe:1")]
    output, error = _bounded_run(command, FIRST_PACKET_SECONDS, MAX_PACKET_OUTPUT)
    return output[:MAX_FIRST_PACKET], error


def _packet_output(kind: str, destination: str) -> list[str]:
    selector, frames = ("0:v:0", "-frames:v") if kind == "video" else ("0:a:0", "-frames:a")
    return ["-map", selector, "-c", "copy", frames, "1", "-f", "data", destination]


def _head(path: Path) -> bytes:
    with path.open("rb") as output:
        return output.read(MAX_FIRST_PACKET)


def _hexdump_bytes(dump: str) -> bytes:
    """Bytes back from ffprobe's hexdump lines ("00000000: 0164 000d ...  .d..")."""
    return bytes.fromhex("".join(match.group(1).replace(" ", "") for match in _HEXDUMP_LINE.finditer(dump)))


def _number(value: Any, kind: type = float) -> Any:
    try:
        return kind(value) if value not in (None, "", "N/A") else None
    except (TypeError, ValueError):
        return None


def _tags(raw: dict | None) -> dict[str, str]:
    return {str(key)[:128]: clip_text(str(value), MAX_TAG_CHARS) for key, value in list((raw or {}).items())[:200]}


def _read_format(probe: VideoProbe, raw: dict) -> None:
    probe.format_name = raw.get("format_name")
    probe.start_time = _number(raw.get("start_time"))
    probe.duration = _number(raw.get("duration"))
    probe.tags = _tags(raw.get("tags"))


def _stream(raw: dict) -> StreamFacts:
    stream = StreamFacts(
        index=_number(raw.get("index"), int) or 0,
        codec_type=str(raw.get("codec_type") or "unknown"),
        codec_name=raw.get("codec_name"),
        codec_tag=raw.get("codec_tag_string"),
        profile=raw.get("profile"),
        level=_number(raw.get("level"), int),
        width=_number(raw.get("width"), int),
        height=_number(raw.get("height"), int),
        pix_fmt=raw.get("pix_fmt"),
        field_order=raw.get("field_order"),
        color={
            key: raw[key] for key in ("color_range", "color_space", "color_transfer", "color_primaries") if raw.get(key)
        },
        has_b_frames=_number(raw.get("has_b_frames"), int),
        time_base=raw.get("time_base"),
        start_time=_number(raw.get("start_time")),
        duration=_number(raw.get("duration")),
        frame_count=_number(raw.get("nb_frames"), int),
        frame_rate=raw.get("r_frame_rate"),
        average_frame_rate=raw.get("avg_frame_rate"),
        sample_rate=_number(raw.get("sample_rate"), int),
        channels=_number(raw.get("channels"), int),
        channel_layout=raw.get("channel_layout"),
        tags=_tags(raw.get("tags")),
    )
    return stream


def _read_packets(probe: VideoProbe, packets: list[dict]) -> None:
    by_index = {stream.index: stream for stream in probe.streams}
    latest_pts: dict[int, int] = {}
    for packet in packets[:MAX_PACKETS]:
        stream = by_index.get(_number(packet.get("stream_index"), int))
        if stream is None:
            continue
        pattern = stream.packets
        pts, dts = _number(packet.get("pts"), int), _number(packet.get("dts"), int)
        keyframe = str(packet.get("flags", "")).startswith("K")
        if pattern.packets == 0:
            pattern.first_is_keyframe, pattern.first_pts, pattern.first_dts = keyframe, pts, dts
            for side_data in packet.get("side_data_list") or []:
                if "skip_samples" in side_data:
                    pattern.skip_samples = _number(side_data.get("skip_samples"), int)
        if keyframe and len(pattern.keyframe_positions) < 64:
            pattern.keyframe_positions.append(pattern.packets)
        if pts is not None:
            if stream.index in latest_pts and pts < latest_pts[stream.index]:
                pattern.reordered = True
            latest_pts[stream.index] = max(pts, latest_pts.get(stream.index, pts))
        pattern.packets += 1


def seconds_of(value: int | None, time_base: str | None) -> float | None:
    """A timestamp in a stream's time base as seconds."""
    if value is None or not time_base:
        return None
    try:
        return float(value * Fraction(time_base))
    except (ValueError, ZeroDivisionError):
        return None
