"""The traits of a video that a recorder's encoder settles rather than the user: codec and profile, B-frames, the
keyframe rhythm, colour description, H.264 entropy coding, H.264/H.265 VUI timing, and the audio's codec, rate,
layout, priming and sample groups. Device profiles count them per make and model from camera originals; the rules
compare a video with the profile of the device its tags name. Plain data from the video probe and the box walk, no
tools run here."""

from __future__ import annotations

from fractions import Fraction
from statistics import median

from .isobmff_structure import IsoBmffStructure
from .video_probe import StreamFacts, VideoProbe

# The traits compared with a device profile, with the words a reader sees for each.
COMPARED_TRAITS = {
    "video_codec": "video codec and profile",
    "b_frames": "B-frames (frames stored out of display order)",
    "keyframe_interval": "keyframe interval",
    "entropy_coding": "H.264 entropy coding",
    "vui_timing": "timing information in the H.264/H.265 sequence parameter set (VUI)",
    "colour": "colour description (primaries/transfer/matrix, range)",
    "audio_codec": "audio codec and profile",
    "audio_sample_rate": "audio sample rate",
    "audio_channel_layout": "audio channel layout",
    "audio_priming": "AAC priming (samples of encoder delay)",
    "audio_sample_groups": "sample groups of the sound track (sgpd; FFmpeg writes AAC's 'roll')",
}
# Recorded in profiles for the examiner, not compared: they follow the resolution and frame rate a user picks.
RECORDED_TRAITS = {"video_level": "video level"}
# Keyframe positions of fewer GOPs than this say nothing about a rhythm.
_MIN_GOPS = 2


def video_claimed_device(isobmff: IsoBmffStructure | None) -> tuple[str, str] | None:
    """The make and model a video's own tags name: Apple's QuickTime Keys, else the user-data ©mak/©mod items."""
    if isobmff is None:
        return None
    tags = isobmff.vendor_tags
    for make_key, model_key in (("com.apple.quicktime.make", "com.apple.quicktime.model"), ("©mak", "©mod")):
        make, model = tags.get(make_key, "").strip(), tags.get(model_key, "").strip()
        if make and model:
            return make, model
    return None


def video_traits(video: VideoProbe | None, isobmff: IsoBmffStructure | None) -> dict[str, str]:
    """The traits of a video's first video and first audio stream, as short strings; a trait that cannot be read
    from this file is left out (and so never compared)."""
    if video is None:
        return {}
    traits: dict[str, str] = {}
    stream = video.first("video")
    if stream is not None:
        traits.update(_picture_traits(stream))
    audio = video.first("audio")
    if audio is not None:
        traits["audio_codec"] = " ".join(part for part in (audio.codec_name, audio.profile) if part) or "unknown"
        if audio.sample_rate:
            traits["audio_sample_rate"] = str(audio.sample_rate)
        if audio.channel_layout or audio.channels:
            traits["audio_channel_layout"] = audio.channel_layout or f"{audio.channels} channels"
        if audio.codec_name == "aac":
            traits["audio_priming"] = str(audio_priming(audio, isobmff) or 0)
        sound = next((track for track in isobmff.tracks if track.handler_type == "soun"), None) if isobmff else None
        if sound is not None:
            traits["audio_sample_groups"] = ", ".join(sorted(set(sound.sample_groups))) or "none"
    elif stream is not None:
        traits["audio_codec"] = "none"
    return traits


def audio_priming(audio: StreamFacts, isobmff: IsoBmffStructure | None) -> int | None:
    """Samples of encoder delay: FFmpeg's skip_samples on the first packet, else the first media_time the sound
    track's edit list shows."""
    if audio.packets.skip_samples:
        return audio.packets.skip_samples
    for track in isobmff.tracks if isobmff else []:
        if track.handler_type == "soun" and track.edits:
            return next((int(entry["media_time"]) for entry in track.edits if entry["media_time"] != -1), None)
    return None


def _picture_traits(stream: StreamFacts) -> dict[str, str]:
    traits = {"video_codec": " ".join(part for part in (stream.codec_name, stream.profile) if part) or "unknown"}
    if stream.level is not None:
        traits["video_level"] = str(stream.level)
    if stream.packets.packets > 1:
        traits["b_frames"] = "yes" if stream.packets.reordered else "no"
    if interval := _keyframe_interval(stream):
        traits["keyframe_interval"] = interval
    if stream.color:
        primaries = "/".join(stream.color.get(key, "?") for key in ("color_primaries", "color_transfer", "color_space"))
        traits["colour"] = f"{primaries}, range {stream.color.get('color_range', '?')}"
    parameter_sets = stream.bitstream.parameter_sets if stream.bitstream else []
    if parameter_sets:
        first = parameter_sets[0]
        if first.entropy_coding:
            traits["entropy_coding"] = first.entropy_coding
        if first.complete:  # a parse stopped before or inside the VUI cannot tell "absent"
            traits["vui_timing"] = "present" if "time_scale" in first.vui else "absent"
    return traits


def _keyframe_interval(stream: StreamFacts) -> str | None:
    """'1.0 s' for keyframes at a steady rhythm (the median GOP in seconds, rounded), 'irregular' when GOPs differ
    by more than a frame; None when too few keyframes were seen."""
    gops = stream.gop_lengths
    try:
        rate = Fraction(stream.average_frame_rate or stream.frame_rate or "0/1")
    except (ValueError, ZeroDivisionError):
        return None
    if len(gops) < _MIN_GOPS or rate <= 0:
        return None
    if max(gops) - min(gops) > 1:
        return "irregular"
    return f"{float(median(gops) / rate):.1f} s"
