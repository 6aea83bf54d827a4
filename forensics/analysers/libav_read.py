"""What FFmpeg's libavformat reads from a video or audio file, through PyAV, in the terms ffprobe prints: the
container's format, timing and tags, each stream's codec parameters, the first packets' flags and timestamps, and
the first keyframe packet of the first video and first audio stream as stored (what `ffmpeg -c copy -frames 1 -f
data` writes).

Runs only inside a probe child of the probe server (probe_server, a program of its own), which bounds its time and
memory: a hostile file may crash or hang the reading here, never the analysing process. It imports nothing but the
standard library and PyAV. The result is plain JSON-able data; bytes are base64."""

from __future__ import annotations

import base64
import string
import time
from typing import Any

import av
import av.container

MAX_PACKETS = 3000  # packets read from the start of the file (all streams): about 50 s of 30 fps video with audio
FIRST_KEYFRAME_SECONDS = 3.0  # past MAX_PACKETS, the search for a first keyframe packet goes on this long at most
MAX_FIRST_PACKET = 256 << 10  # encoder strings sit in the first few hundred bytes of the first packet
MAX_PACKET_OUTPUT = 64 << 20  # a first packet larger than this is refused, not read
MAX_TAGS = 200

# FFmpeg's names (libavutil/pixdesc.c) of the colour description values, as ffprobe prints them; "unspecified"
# (2 for primaries, transfer and matrix, 0 for range) is left out, as ffprobe leaves it out of its JSON.
_COLOR_RANGES = {1: "tv", 2: "pc"}
_COLOR_PRIMARIES = {
    0: "reserved", 1: "bt709", 3: "reserved", 4: "bt470m", 5: "bt470bg", 6: "smpte170m", 7: "smpte240m",
    8: "film", 9: "bt2020", 10: "smpte428", 11: "smpte431", 12: "smpte432", 22: "ebu3213",
}  # fmt: skip
_COLOR_TRANSFERS = {
    0: "reserved", 1: "bt709", 3: "reserved", 4: "bt470m", 5: "bt470bg", 6: "smpte170m", 7: "smpte240m",
    8: "linear", 9: "log100", 10: "log316", 11: "iec61966-2-4", 12: "bt1361e", 13: "iec61966-2-1",
    14: "bt2020-10", 15: "bt2020-12", 16: "smpte2084", 17: "smpte428", 18: "arib-std-b67",
}  # fmt: skip
_COLOR_SPACES = {
    0: "gbr", 1: "bt709", 3: "reserved", 4: "fcc", 5: "bt470bg", 6: "smpte170m", 7: "smpte240m", 8: "ycgco",
    9: "bt2020nc", 10: "bt2020c", 11: "smpte2085", 12: "chroma-derived-nc", 13: "chroma-derived-c", 14: "ictcp",
}  # fmt: skip
_FOURCC_PRINTABLE = frozenset(string.ascii_letters + string.digits + ". -_")
_FIELD_ORDERS = {1: "progressive", 2: "tt", 3: "bb", 4: "tb", 5: "bt"}


def libav_read(path: str) -> dict[str, Any]:
    """The facts of one file as plain data; raises av.FFmpegError (or worse) for a file FFmpeg cannot open."""
    # Invalid UTF-8 in tags becomes U+FFFD instead of failing the whole read.
    with av.open(path, metadata_errors="replace", options={"scan_all_pmts": "1"}) as container:
        # PyAV asks libavformat to invent missing presentation times; ffprobe does not, and the packets' own
        # timestamps are the fact (a packet without pts says something about its muxer).
        container.flags &= ~av.container.Flags.gen_pts.value
        patterns, first_packets, problems = _read_packets(container)
        # As ffprobe, the streams and the format are printed after the packets were read.
        streams = [_stream(stream, patterns[stream.index]) for stream in container.streams]
        return {
            "format_name": container.format.name,
            "start_time": _seconds(container.start_time, 1, 1_000_000),
            "duration": _seconds(container.duration, 1, 1_000_000),
            "tags": _tags(container.metadata),
            "streams": streams,
            "first_packets": first_packets,
            "errors": problems,
        }


def ffmpeg_version() -> str:
    return f"{av.ffmpeg_version_info} (PyAV {av.__version__})"


def _read_packets(container: av.container.InputContainer) -> tuple[dict[int, dict], dict[str, str], list[str]]:
    """ffprobe's view of the first MAX_PACKETS packets of all streams per stream (keyframes, reordering, priming),
    and the first keyframe packet of the first video and first audio stream, reading on past MAX_PACKETS only
    while one of those is still missing (as ffmpeg does), for FIRST_KEYFRAME_SECONDS at most (ffmpeg's old limit)."""
    patterns = {stream.index: _empty_pattern() for stream in container.streams}
    wanted = {}
    for kind in ("video", "audio"):
        first = next((stream for stream in container.streams if stream.type == kind), None)
        if first is not None:
            wanted[first.index] = kind
    first_packets: dict[str, str] = {}
    problems: list[str] = []
    latest_pts: dict[int, int] = {}
    seen = 0
    search_ends = None
    for packet in container.demux():
        if packet.size == 0 and packet.pts is None and packet.dts is None:
            continue  # the flush packet PyAV yields at the end of the file, not one libavformat read
        pattern = patterns.get(packet.stream_index)  # None for a stream that appeared after the file was opened
        if seen < MAX_PACKETS and pattern is not None:
            _count(pattern, packet, latest_pts)
        seen += 1
        kind = wanted.get(packet.stream_index)
        if kind is not None and kind not in first_packets and packet.is_keyframe:
            if packet.size > MAX_PACKET_OUTPUT:  # refused, not read; the other facts stand
                first_packets[kind] = ""
                problems.append(f"the first {kind} packet is larger than {MAX_PACKET_OUTPUT:,} bytes")
            else:
                first_packets[kind] = base64.b64encode(bytes(packet)[:MAX_FIRST_PACKET]).decode("ascii")
        if seen >= MAX_PACKETS:
            search_ends = search_ends or time.monotonic() + FIRST_KEYFRAME_SECONDS
            if len(first_packets) == len(wanted) or time.monotonic() > search_ends:
                break
    return patterns, first_packets, problems


def _empty_pattern() -> dict[str, Any]:
    return {
        "packets": 0, "first_is_keyframe": None, "first_pts": None, "first_dts": None, "keyframe_positions": [],
        "reordered": False, "skip_samples": None,
    }  # fmt: skip


def _count(pattern: dict[str, Any], packet: av.Packet, latest_pts: dict[int, int]) -> None:
    pts, dts, keyframe, index = packet.pts, packet.dts, packet.is_keyframe, packet.stream_index
    if pattern["packets"] == 0:
        pattern["first_is_keyframe"], pattern["first_pts"], pattern["first_dts"] = keyframe, pts, dts
        if packet.has_sidedata("skip_samples"):
            # AV_PKT_DATA_SKIP_SAMPLES: u32le samples to skip at the start, as ffprobe prints it
            skip = bytes(packet.get_sidedata("skip_samples"))
            if len(skip) >= 4:
                pattern["skip_samples"] = int.from_bytes(skip[:4], "little")
    if keyframe and len(pattern["keyframe_positions"]) < 64:
        pattern["keyframe_positions"].append(pattern["packets"])
    if pts is not None:
        if index in latest_pts and pts < latest_pts[index]:
            pattern["reordered"] = True
        latest_pts[index] = max(pts, latest_pts.get(index, pts))
    pattern["packets"] += 1


def _stream(stream: av.stream.Stream, packets: dict[str, Any]) -> dict[str, Any]:
    time_base = stream.time_base
    facts: dict[str, Any] = {
        "index": stream.index,
        "codec_type": stream.type,
        "codec_name": None,
        "time_base": f"{time_base.numerator}/{time_base.denominator}" if time_base else "0/1",
        "start_time": _seconds(stream.start_time, time_base.numerator, time_base.denominator) if time_base else None,
        "duration": _seconds(stream.duration, time_base.numerator, time_base.denominator) if time_base else None,
        "frame_count": stream.frames or None,
        "tags": _tags(stream.metadata),
        "packets": packets,
        "extradata": "",
    }
    if stream.type == "video":
        facts["frame_rate"] = _ratio(stream.base_rate)
        facts["average_frame_rate"] = _ratio(stream.average_rate)
    else:
        facts["frame_rate"] = facts["average_frame_rate"] = "0/0"
    context = stream.codec_context
    if context is None:
        # PyAV's FFmpeg has no decoder for this codec (data streams such as Apple's mebx or tmcd; codec "none" in
        # broken files): PyAV gives a data stream's codec name, and no other codec parameter of such a stream.
        if stream.type == "data":
            facts["codec_name"] = stream.name
        return facts
    facts.update(
        codec_name=context.codec.canonical_name,
        codec_tag=_fourcc(context),
        profile=context.profile,
        extradata=base64.b64encode(context.extradata or b"").decode("ascii"),
    )
    if stream.type == "video":
        facts.update(
            level=context.level,  # ffprobe prints a level for video streams only
            width=context.width,
            height=context.height,
            pix_fmt=context.pix_fmt,
            field_order=_FIELD_ORDERS.get(context.field_order),
            color=_color(context),
            has_b_frames=context.reorder_depth,
        )
    elif stream.type == "audio":
        facts.update(
            sample_rate=context.sample_rate,
            channels=context.channels,
            channel_layout=_channel_layout(context),
        )
    return facts


def _color(context: Any) -> dict[str, str]:
    names = {
        "color_range": _COLOR_RANGES.get(context.color_range),
        "color_space": _COLOR_SPACES.get(context.colorspace),
        "color_transfer": _COLOR_TRANSFERS.get(context.color_trc),
        "color_primaries": _COLOR_PRIMARIES.get(context.color_primaries),
    }
    return {key: name for key, name in names.items() if name}


def _channel_layout(context: Any) -> str | None:
    """av_channel_layout_describe's name, or None for a layout of unspecified order (ffprobe prints none)."""
    layout = context.layout
    if not context.channels or all(channel.name in ("NONE", "USR0") for channel in layout.channels):
        return None
    return layout.name


def _fourcc(context: Any) -> str:
    """The codec tag as av_fourcc2str prints it: letters, digits and ". -_" as they are, other bytes as [n]."""
    try:
        raw = context.codec_tag.encode("ascii")
    except UnicodeDecodeError as undecodable:  # PyAV decodes the tag as ASCII; a byte >= 0x80 stops it
        raw = undecodable.object
    return "".join(chr(byte) if chr(byte) in _FOURCC_PRINTABLE else f"[{byte}]" for byte in raw)


def _ratio(value: Any) -> str:
    return f"{value.numerator}/{value.denominator}" if value is not None else "0/0"


def _seconds(value: int | None, numerator: int, denominator: int) -> float | None:
    """A timestamp in seconds as ffprobe prints it: value * av_q2d(time base), to six decimals."""
    if value is None:
        return None
    return float(f"{value * (numerator / denominator):f}")


def _tags(raw: dict) -> dict[str, str]:
    return {str(key): str(value) for key, value in list(raw.items())[:MAX_TAGS]}
