"""Video rules: what the coded streams and the container's layout say about how a video was made, whatever its
tags claim. A software re-encode leaves its encoder's signature in the bitstream, a remux or a trim leaves the
muxer's layout and an edit list, and a phone's own recordings have a layout of their own (video_devices)."""

from __future__ import annotations

from collections.abc import Iterator
from fractions import Fraction

from forensics.analysers.h26x_bitstream import SOFTWARE_ENCODERS
from forensics.analysers.results import AnalysisResult
from forensics.analysers.video_probe import StreamFacts
from forensics.analysers.video_traits import audio_priming

from .facts import quote
from .model import Category, Observation, RuleBook, Severity
from .video_devices import VIDEO_DEVICE_PROFILES, RecorderClaim, claimed_recorder, phone_handler_names

book = RuleBook()

FFMPEG_MINOR_VERSION = 0x200
FFMPEG_DATA_HANDLER = "DataHandler"
_FFMPEG_AAC_PRIMING = 1024  # samples FFmpeg's native AAC encoder delays its output by
# A start cut short by an edit list: more than this much coded video hidden (a B-frame delay is a frame or two).
_HIDDEN_START_SECONDS = 0.25
_HIDDEN_START_FRAMES = 3
# Audio and video of one recording end within a fraction of a second of each other.
_DURATION_GAP_SECONDS = 1.0


def _claim_words(claim: RecorderClaim | None, handlers: list[str]) -> str:
    parts = []
    if claim is not None:
        parts.append(f"the container's tags present it as a recording from {quote(claim.description)}")
    if handlers:
        parts.append(f"its tracks carry the phone handler names {', '.join(map(quote, handlers))}")
    return f", although {' and '.join(parts)}" if parts else ""


@book.rule(
    "EM-VIDEO-001",
    "Software encoder's signature in the coded video or audio",
    Category.STRUCTURE,
    Severity.WARNING,
    looks_at=(
        "our reading of each stream's first packet and codec configuration: H.264/H.265 SEI user-data-unregistered "
        "messages (x264's and x265's version and options), MPEG-4 Part 2 user data (Lavc, Xvid, DivX) and the "
        "encoder string in the first AAC frame (FFmpeg's Lavc); container tags are not consulted"
    ),
    innocent=(
        "Screen recorders, editors, converters, messaging and streaming services encode with x264, x265 or FFmpeg; "
        "a few apps do so on the phone itself. Phone and camera hardware encoders write no such string, so the "
        "video was encoded, or re-encoded, by software, whatever its tags say."
    ),
)
def software_encoder_signature(result: AnalysisResult) -> Iterator[Observation]:
    if result.video is None:
        return
    claim_words = _claim_words(claimed_recorder(result), phone_handler_names(result))
    for stream in result.video.streams:
        for signature in stream.bitstream.signatures if stream.bitstream else []:
            if signature.encoder not in SOFTWARE_ENCODERS:
                continue
            evidence = {
                "stream": stream.index,
                "codec": stream.codec_name,
                "encoder": signature.encoder,
                "encoder_version": signature.version,
                "found_in": signature.found_in,
                "text": quote(signature.text, 400),
            }
            if signature.uuid:
                evidence["sei_uuid"] = signature.uuid
            encoder = f"{signature.encoder} {signature.version}" if signature.version else signature.encoder
            settings = f" with the options {quote(signature.settings, 160)}" if signature.settings else ""
            yield Observation(
                evidence=evidence,
                explanation=(
                    f"The {stream.codec_type} stream {stream.index} ({stream.codec_name}) carries "
                    f"{signature.encoder}'s own signature in its {signature.found_in} "
                    f"({quote(signature.text, 60)}): it was encoded by {encoder}{settings}{claim_words}."
                ),
            )


def _minf_handlers(result: AnalysisResult) -> list[str]:
    return [handler.name for handler in result.isobmff.handlers if handler.path.endswith("/minf/hdlr")]


@book.rule(
    "EM-VIDEO-002",
    "Container laid out by FFmpeg's muxer",
    Category.STRUCTURE,
    Severity.WARNING,
    looks_at=(
        "ftyp minor version (FFmpeg's MP4 and QuickTime muxers write 0x200 whatever the brand) and the QuickTime "
        "data handler in each track's minf (FFmpeg: 'url ' named 'DataHandler'), with the track handler names"
    ),
    innocent=(
        "Everything built on FFmpeg writes this layout: converters, editors, screen recorders, and some drones, "
        "dash cameras and apps that mux with libavformat. Phones' camera apps do not; a stream copy (remux, trim, "
        "join, 'fast start') keeps the camera's coded video but writes FFmpeg's container around it."
    ),
)
def ffmpeg_container_layout(result: AnalysisResult) -> Iterator[Observation]:
    isobmff = result.isobmff
    if isobmff is None or result.video is None:
        return
    traits, evidence = [], {}
    if isobmff.minor_version == FFMPEG_MINOR_VERSION:
        traits.append(f"the file-type box has FFmpeg's minor version 0x{FFMPEG_MINOR_VERSION:X}")
        evidence["ftyp:minor_version"] = isobmff.minor_version
        evidence["ftyp:major_brand"] = isobmff.major_brand
    data_handlers = _minf_handlers(result)
    if data_handlers and all(name == FFMPEG_DATA_HANDLER for name in data_handlers):
        traits.append(f"every track's data handler is named {quote(FFMPEG_DATA_HANDLER)}")
        evidence["minf/hdlr:names"] = sorted(set(data_handlers))
    if not traits:
        return
    handlers = phone_handler_names(result)
    evidence["mdia/hdlr:names"] = sorted({h.name for h in isobmff.handlers if h.path.endswith("/mdia/hdlr")})
    yield Observation(
        evidence=evidence,
        explanation=(
            f"The container was written by FFmpeg: {' and '.join(traits)}"
            f"{_claim_words(claimed_recorder(result), handlers)}."
        ),
    )


@book.rule(
    "EM-VIDEO-003",
    "Container differs from the claimed phone's own recordings",
    Category.STRUCTURE,
    Severity.WARNING,
    looks_at=(
        "for a video whose tags name an Apple device (QuickTime Keys make) or an Android phone (com.android.version): "
        "ftyp brand and minor version, track and data handler names, and whether the index (moov) follows the "
        "media data, against that maker's video profile (forensics/rules/video_devices.py)"
    ),
    innocent=(
        "Files saved or shared from the phone's own apps (Photos export, AirDrop 'most compatible', messaging "
        "apps) are rewritten by the phone's software and may differ from the camera app's recordings; the "
        "profiles come from few devices. Tools that edit tags (ExifTool) or re-mux the file change the layout too."
    ),
)
def claimed_phone_layout(result: AnalysisResult) -> Iterator[Observation]:
    claim = claimed_recorder(result)
    isobmff = result.isobmff
    if claim is None or isobmff is None or result.video is None:
        return
    profile = VIDEO_DEVICE_PROFILES[claim.family]
    deviations: dict[str, object] = {}
    sentences = []
    if isobmff.major_brand not in profile.major_brands or isobmff.minor_version not in profile.minor_versions:
        deviations["ftyp"] = f"{isobmff.major_brand!r} minor 0x{(isobmff.minor_version or 0):X}"
        sentences.append(f"the file type is {deviations['ftyp']}")
    media = sorted(
        {h.name for h in isobmff.handlers if h.path.endswith("/mdia/hdlr") and h.handler_type in ("vide", "soun")}
    )
    foreign = [name for name in media if name not in profile.media_handlers]
    if foreign:
        deviations["mdia/hdlr:names"] = media
        sentences.append(f"the track handlers are named {', '.join(map(quote, foreign))}")
    data = sorted(set(_minf_handlers(result)))
    if profile.data_handler and data and data != [profile.data_handler]:
        deviations["minf/hdlr:names"] = data
        sentences.append(f"the data handlers are named {', '.join(map(quote, data))}")
    order = [box.type for box in isobmff.top_level]
    if profile.index_last and "moov" in order and "mdat" in order and order.index("moov") < order.index("mdat"):
        deviations["top_level_order"] = order
        sentences.append(f"the index comes before the media data ({' '.join(order)})")
    if not sentences:
        return
    yield Observation(
        evidence={**claim.evidence, "profile": profile.family, **deviations},
        explanation=(
            f"The tags name {quote(claim.description)}, but unlike that maker's camera recordings "
            f"{'; '.join(sentences)}."
        ),
    )


def _edit_starts(result: AnalysisResult, handler_type: str) -> Iterator[tuple[int, int | None, dict]]:
    """(media_time of the first non-empty edit, the track's mdhd timescale, evidence) for each track of a kind.

    A track's edts comes before its mdia, so the first mdhd and media hdlr after an edit list are its track's."""
    isobmff = result.isobmff
    handlers = sorted((h.offset, h.handler_type) for h in isobmff.handlers if h.path.endswith("/mdia/hdlr"))
    scales = sorted((t.offset, t.timescale) for t in isobmff.times if t.box == "mdhd")
    for edit_list in isobmff.edit_lists:
        kind = next((kind for offset, kind in handlers if offset > edit_list.offset), None)
        entry = next((e for e in edit_list.entries if e["media_time"] != -1), None)
        if kind != handler_type or entry is None:
            continue
        scale = next((value for offset, value in scales if offset > edit_list.offset), None)
        yield int(entry["media_time"]), scale, {"isobmff:elst_offset": edit_list.offset, "elst:entry": entry}


def _video_edit_start(result: AnalysisResult) -> tuple[float, dict] | None:
    """Seconds of coded video an edit list hides at the start of the video track, with the entry."""
    for media_time, scale, evidence in _edit_starts(result, "vide"):
        if scale:
            return media_time / scale, evidence
    return None


def _frame_seconds(stream: StreamFacts) -> float | None:
    try:
        rate = Fraction(stream.average_frame_rate or stream.frame_rate or "0/1")
    except (ValueError, ZeroDivisionError):
        return None
    return float(1 / rate) if rate > 0 else None


@book.rule(
    "EM-VIDEO-004",
    "Video does not start where its coded stream starts",
    Category.STRUCTURE,
    Severity.WARNING,
    looks_at=(
        "FFmpeg's first video packet (is it a keyframe?) and the video track's edit list (elst): how much coded "
        "video it hides before the first frame shown, against the frame duration"
    ),
    innocent=(
        "Encoders with B-frames hide one or two frames this way, and a few camera apps hide a short warm-up. A "
        "recording captured from a live stream can start between keyframes. Cutting a video without re-encoding "
        "('trim', 'split') leaves exactly this: the coded video starts at the keyframe before the cut."
    ),
)
def video_starts_after_cut(result: AnalysisResult) -> Iterator[Observation]:
    video = result.video.first("video") if result.video else None
    if video is None or not video.packets.packets:
        return
    if video.packets.first_is_keyframe is False:
        yield Observation(
            evidence={
                "stream": video.index,
                "first_packet_pts": video.packets.first_pts,
                "first_packet_keyframe": False,
            },
            explanation=(
                f"The first packet of video stream {video.index} is not a keyframe: the stream starts in the "
                "middle of a group of pictures, as a file cut out of a longer one does."
            ),
        )
    if result.isobmff is None:
        return
    hidden = _video_edit_start(result)
    frame = _frame_seconds(video)
    if hidden is None or frame is None:
        return
    seconds, evidence = hidden
    if seconds > _HIDDEN_START_SECONDS and seconds > _HIDDEN_START_FRAMES * frame:
        yield Observation(
            evidence={**evidence, "hidden_seconds": round(seconds, 3), "frame_seconds": round(frame, 4)},
            explanation=(
                f"The video track's edit list at offset {evidence['isobmff:elst_offset']:,} starts playback "
                f"{seconds:.2f} s ({seconds / frame:.0f} frames) into the coded video: the file was cut after a "
                "keyframe without re-encoding."
            ),
        )


@book.rule(
    "EM-VIDEO-005",
    "Audio and video lengths do not fit one recording",
    Category.STRUCTURE,
    Severity.WARNING,
    looks_at="FFmpeg's durations and start times of the first video and audio streams and of the whole file",
    innocent=(
        "Some recorders stop the audio a moment before the video; a screen recording may have audio for only "
        "part of it. Joining or trimming one stream and not the other, or dubbing, gives the same picture."
    ),
)
def stream_lengths_disagree(result: AnalysisResult) -> Iterator[Observation]:
    if result.video is None:
        return
    video, audio = result.video.first("video"), result.video.first("audio")
    if video is None or audio is None or video.duration is None or audio.duration is None:
        return
    video_end = (video.start_time or 0.0) + video.duration
    audio_end = (audio.start_time or 0.0) + audio.duration
    gap = abs(video_end - audio_end)
    if gap <= _DURATION_GAP_SECONDS:
        return
    yield Observation(
        evidence={
            "video:start_time": video.start_time,
            "video:duration": video.duration,
            "audio:start_time": audio.start_time,
            "audio:duration": audio.duration,
            "format:duration": result.video.duration,
        },
        explanation=(
            f"The video runs to {video_end:.2f} s but the audio to {audio_end:.2f} s, {gap:.2f} s apart; one "
            "recording's streams end together."
        ),
    )


@book.rule(
    "EM-VIDEO-006",
    "Audio encoded the way FFmpeg's AAC encoder does, in a video claiming a phone",
    Category.STRUCTURE,
    Severity.WARNING,
    looks_at=(
        "the AAC encoder delay (priming) of the first audio stream, from FFmpeg's skip_samples or the audio "
        "track's edit list, with its sample rate and channel layout, for a video whose tags name a phone"
    ),
    innocent=(
        "FFmpeg's AAC encoder primes 1,024 samples; Apple's encoder primes 2,112 and Android phones' recordings "
        "carry no priming edit. Another encoder with the same delay would match too: the finding is strongest "
        "alongside EM-VIDEO-001 or EM-VIDEO-002."
    ),
)
def ffmpeg_audio_priming(result: AnalysisResult) -> Iterator[Observation]:
    claim = claimed_recorder(result)
    audio = result.video.first("audio") if result.video else None
    if claim is None or audio is None or audio.codec_name != "aac":
        return
    priming = audio_priming(audio, result.isobmff)
    if priming != _FFMPEG_AAC_PRIMING:
        return
    yield Observation(
        evidence={
            **claim.evidence,
            "audio:priming_samples": priming,
            "audio:sample_rate": audio.sample_rate,
            "audio:channel_layout": audio.channel_layout,
        },
        explanation=(
            f"The tags name {quote(claim.description)}, but the AAC audio ({audio.sample_rate} Hz, "
            f"{audio.channel_layout or f'{audio.channels} channels'}) starts with {priming:,} samples of encoder "
            "delay, FFmpeg's AAC encoder's, not the phone's."
        ),
    )
