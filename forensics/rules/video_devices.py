"""What a phone's own video recordings look like at container level, and which phone a video claims to come from.

The profiles were measured on the genuine recordings available to the project: an iPhone 6 (iOS 12.3) and a Mac
(macOS 14.6) recording for Apple's Core Media writer, an Android 6.0.1 phone for Android's MediaMuxer. They hold only
traits every one of those recordings shares and that the writer's code fixes (not settings a user can change);
with so few devices measured, a trait is added here only when the writer is known to keep it across versions.
"""

from __future__ import annotations

from dataclasses import dataclass

from forensics.analysers.results import AnalysisResult


@dataclass(frozen=True)
class VideoDeviceProfile:
    family: str
    major_brands: tuple[str, ...]  # ftyp major brand the writer uses
    minor_versions: tuple[int, ...]
    media_handlers: tuple[str, ...]  # mdia/hdlr names the writer gives its video and sound tracks
    data_handler: str | None  # minf/hdlr name (QuickTime files only), None when the writer writes none
    index_last: bool  # the movie index ('moov') follows the media data, as a recorder that streams to disk writes


VIDEO_DEVICE_PROFILES = {
    "Apple": VideoDeviceProfile(
        family="Apple (Core Media camera recording)",
        major_brands=("qt  ",),
        minor_versions=(0,),
        media_handlers=("Core Media Video", "Core Media Audio", "Core Media Metadata"),
        data_handler="Core Media Data Handler",
        index_last=True,
    ),
    "Android": VideoDeviceProfile(
        family="Android (MediaMuxer camera recording)",
        major_brands=("mp42", "isom"),
        minor_versions=(0,),
        media_handlers=("VideoHandle", "SoundHandle"),
        data_handler=None,
        index_last=True,
    ),
}
_PHONE_HANDLERS = {name for profile in VIDEO_DEVICE_PROFILES.values() for name in profile.media_handlers}


@dataclass(frozen=True)
class RecorderClaim:
    family: str  # a key of VIDEO_DEVICE_PROFILES
    description: str  # "Apple iPhone 6", "Android 6.0.1"
    evidence: dict[str, str]


def claimed_recorder(result: AnalysisResult) -> RecorderClaim | None:
    """The phone a video's container tags name: Apple's QuickTime Keys (make, model) or Android's version key."""
    if result.isobmff is None:
        return None
    tags = result.isobmff.vendor_tags
    make = tags.get("com.apple.quicktime.make", "").strip()
    if make.lower() == "apple":
        model = tags.get("com.apple.quicktime.model", "").strip()
        evidence = {key: tags[key] for key in ("com.apple.quicktime.make", "com.apple.quicktime.model") if key in tags}
        return RecorderClaim("Apple", f"Apple {model}".strip(), evidence)
    if version := tags.get("com.android.version", "").strip():
        return RecorderClaim("Android", f"Android {version}", {"com.android.version": version})
    return None


def phone_handler_names(result: AnalysisResult) -> list[str]:
    """Track handler names that phones write ("Core Media Video", "VideoHandle"), as they appear in the file."""
    if result.isobmff is None:
        return []
    return sorted({handler.name for handler in result.isobmff.handlers if handler.name in _PHONE_HANDLERS})
