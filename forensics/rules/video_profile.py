"""Device-profile rule for videos: a video whose tags name a camera make and model is compared, trait by trait,
with the camera videos of that model the device profiles were built from (forensics/analysers/video_traits.py)."""

from __future__ import annotations

from collections.abc import Iterator

from forensics.analysers.results import AnalysisResult
from forensics.analysers.video_traits import COMPARED_TRAITS, video_claimed_device, video_traits
from forensics.device_profiles import profiles_load

from .facts import quote
from .model import Category, Observation, RuleBook, Severity

book = RuleBook()


@book.rule(
    "EM-VIDEO-008",
    "Video coded unlike the claimed model's own recordings",
    Category.STRUCTURE,
    Severity.WARNING,
    looks_at=(
        "for a video whose QuickTime Keys (or udta ©mak/©mod) name a make and model that the device profiles hold "
        "camera videos of: video codec and profile, B-frames (packets out of display order in FFmpeg's first "
        "packets), keyframe interval, colour description, H.264 entropy coding, H.264/H.265 VUI timing information, "
        "audio codec, sample rate, channel layout, AAC priming and the sound track's sample groups (sgpd), each "
        "against the values that model's videos show. Models without profiled videos are not judged, even when other "
        "models of the make are"
    ),
    innocent=(
        "The profiles hold few videos per model, recorded at one setting: another frame rate, resolution, HDR or "
        "'most compatible' setting, slow motion, a firmware update or a video saved by another app on the phone "
        "can show a value the profiled videos do not. A file re-encoded or re-muxed by software, or a video from "
        "another device given this model's tags, shows it too."
    ),
)
def video_unlike_claimed_model(result: AnalysisResult) -> Iterator[Observation]:
    device = video_claimed_device(result.isobmff)
    if device is None or result.video is None:
        return
    make, model = device
    profile = profiles_load().video_model(make, model)
    if profile is None:
        return
    traits = video_traits(result.video, result.isobmff)
    unlike = {
        name: (value, sorted(profile["traits"][name]))
        for name, value in traits.items()
        if name in COMPARED_TRAITS and profile["traits"].get(name) and value not in profile["traits"][name]
    }
    if not unlike:
        return
    sides = [
        f"{COMPARED_TRAITS[name]} {quote(value)} where the model's videos show {', '.join(map(quote, seen))}"
        for name, (value, seen) in unlike.items()
    ]
    yield Observation(
        evidence={
            "claimed_make": make,
            "claimed_model": model,
            "profiled_videos": profile["files"],
            **{f"{name}:file": value for name, (value, _) in unlike.items()},
            **{f"{name}:profile": seen for name, (_, seen) in unlike.items()},
        },
        explanation=(
            f"The tags name {quote(f'{make} {model}')}, whose {profile['files']} profiled camera video(s) differ "
            f"from this one: {'; '.join(sides)}."
        ),
    )
