"""Device profiles: what each camera make and model writes into its JPEGs and, for makes with camera videos, into
its videos (video_traits), learned from labelled originals, and the quantisation tables of software encoders. The
shipped profile file is part of the rule-set version.

The file is plain sorted JSON so a rebuild from the same originals gives the same bytes and the same digest.
The environment variable EVIDENCEMEDIA_DEVICE_PROFILES names another profile file to use instead.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from forensics.analysers.jpeg_fingerprint import EncoderFingerprint

PROFILE_FORMAT = "evidence-media-device-profiles/1"
PROFILE_FILE = Path(__file__).resolve().parent / "data" / "device_profiles.json"
PROFILE_ENV = "EVIDENCEMEDIA_DEVICE_PROFILES"
# A model's table set is closed (anything else is "no match") only when it was seen in at least this many
# originals and every table set it used was seen at least twice: cameras with adaptive, per-image tables never
# repeat one, so they never qualify.
CLOSED_MIN_FILES = 5
CLOSED_MIN_REPEATS = 2

# Makers whose EXIF Make has changed over the years or names a parent company.
_MAKE_ALIASES = {
    "eastman": "kodak",
    "jk": "kodak",
    "asahi": "pentax",
    "ricoh imaging": "pentax",
    "konica": "minolta",
    "om": "olympus",
    "seiko": "epson",
    "hewlett-packard": "hp",
}


def make_key(make: Any) -> str:
    """The maker a free-text EXIF Make names: 'NIKON CORPORATION' and 'Nikon' are both 'nikon'."""
    words = re.sub(r"[^a-z0-9\- ]+", " ", str(make or "").lower()).split()
    if not words:
        return ""
    two = " ".join(words[:2])
    return _MAKE_ALIASES.get(two) or _MAKE_ALIASES.get(words[0]) or words[0]


def model_key(model: Any) -> str:
    return " ".join(str(model or "").lower().split())


@dataclass(frozen=True)
class Original:
    """One labelled camera original as the builder read it."""

    make: str
    model: str
    fingerprint: EncoderFingerprint


@dataclass(frozen=True)
class VideoOriginal:
    """One labelled camera video as the builder read it: the make and model its tags name and its traits."""

    make: str
    model: str
    traits: dict[str, str]


@dataclass
class DeviceProfiles:
    """A loaded profile file: the per-make and per-model observations and the software-encoder table digests."""

    data: dict[str, Any]
    digest: str
    source: str
    makes: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def version(self) -> str:
        """Short enough to sit in the 20-character ruleset_version column: "dp." and 8 hex digits."""
        return f"dp.{self.digest[:8]}"

    def make(self, make: Any) -> dict[str, Any] | None:
        return self.makes.get(make_key(make))

    def model(self, make: Any, model: Any) -> dict[str, Any] | None:
        profile = self.make(make)
        return profile["models"].get(model_key(model)) if profile else None

    def video_model(self, make: Any, model: Any) -> dict[str, Any] | None:
        """The video traits counted over one model's camera videos, or None when no video of it was profiled."""
        profile = self.data.get("video_makes", {}).get(make_key(make))
        return profile["models"].get(model_key(model)) if profile else None

    def software_encoders(self, fingerprint: EncoderFingerprint) -> list[str]:
        """Software encoders known to write these exact tables (by our digest or by ExifTool's JPEGDigest)."""
        software = self.data.get("software_encoders", {})
        bare = fingerprint.jpeg_digest.partition(":")[0]
        found = list(software.get("quant_digests", {}).get(fingerprint.quant_digest, []))
        for key in (fingerprint.jpeg_digest, bare):
            found.extend(software.get("jpeg_digests", {}).get(key, []))
        return sorted(set(found))

    def camera_makes_with_tables(self, quant_digest: str) -> list[str]:
        """Makes whose calibration originals used these exact tables (a software table that cameras use too)."""
        return sorted(key for key, profile in self.makes.items() if quant_digest in profile["quant_digests"])


def content_digest(data: dict[str, Any]) -> str:
    """SHA-256 of the canonical JSON of everything but the digest field itself."""
    body = {key: value for key, value in data.items() if key != "digest"}
    return hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


_cache: dict[tuple[str, int, int], DeviceProfiles] = {}


def profiles_load() -> DeviceProfiles:
    """The profile file in force: EVIDENCEMEDIA_DEVICE_PROFILES if set, else the one shipped with the code.

    Re-read when the file changes. A missing or unreadable file raises: the rules must not run silently without
    the profiles the version string claims.
    """
    path = Path(os.environ.get(PROFILE_ENV) or PROFILE_FILE)
    stat = path.stat()
    key = (str(path), stat.st_mtime_ns, stat.st_size)
    if key not in _cache:
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("format") != PROFILE_FORMAT:
            raise ValueError(f"{path} is not a device profile file ({data.get('format')!r})")
        if missing := _fields_missing(data):
            # A file built by an earlier version: rules reading a newer field would fail on it, file by file.
            raise ValueError(
                f"{path} was built by an earlier version (its profiles lack {', '.join(missing)}); rebuild it with "
                "`manage.py device_profiles build`"
            )
        _cache.clear()
        _cache[key] = DeviceProfiles(data=data, digest=content_digest(data), source=str(path), makes=data["makes"])
    return _cache[key]


def profiles_build(
    originals: list[Original],
    software: dict[str, dict[str, list[str]]],
    header: dict[str, Any],
    videos: list[VideoOriginal],
) -> dict[str, Any]:
    """The profile file's content: per make, per model counts of every JPEG fingerprint field and, apart, of every
    video trait, sorted."""
    by_make: dict[str, list[Original]] = {}
    for original in originals:
        by_make.setdefault(make_key(original.make), []).append(original)
    makes = {}
    for key in sorted(by_make):
        group = by_make[key]
        models: dict[str, list[Original]] = {}
        for original in group:
            models.setdefault(model_key(original.model), []).append(original)
        makes[key] = {
            **_observations(group),
            "make_names": sorted({original.make.strip() for original in group}),
            "models": {name: _model_profile(models[name]) for name in sorted(models)},
        }
    data = {
        "format": PROFILE_FORMAT,
        **header,
        "closed_table_rule": {"min_files": CLOSED_MIN_FILES, "min_repeats_per_table_set": CLOSED_MIN_REPEATS},
        "makes": makes,
        "software_encoders": software,
        "video_makes": _video_makes(videos),
    }
    data["digest"] = content_digest(data)
    return data


def profiles_write(data: dict[str, Any], path: Path) -> None:
    path.write_text(json.dumps(data, sort_keys=True, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


def _video_makes(videos: list[VideoOriginal]) -> dict[str, Any]:
    by_make: dict[str, dict[str, list[VideoOriginal]]] = {}
    for video in videos:
        by_make.setdefault(make_key(video.make), {}).setdefault(model_key(video.model), []).append(video)
    return {
        make: {
            "make_names": sorted({video.make for group in models.values() for video in group}),
            "models": {name: _video_observations(models[name]) for name in sorted(models)},
        }
        for make, models in sorted(by_make.items())
    }


def _video_observations(group: list[VideoOriginal]) -> dict[str, Any]:
    names = sorted({name for video in group for name in video.traits})
    counted = {name: dict(sorted(Counter(v.traits[name] for v in group if name in v.traits).items())) for name in names}
    return {"files": len(group), "traits": counted}


def _fields_missing(data: dict[str, Any]) -> list[str]:
    """The observation fields this version writes for every make and model that some profile of the file lacks."""
    expected = set(_observations([]))
    profiles = [profile for make in data["makes"].values() for profile in (make, *make["models"].values())]
    return sorted({name for profile in profiles for name in expected - profile.keys()})


def _model_profile(group: list[Original]) -> dict[str, Any]:
    observations = _observations(group)
    tables = Counter(original.fingerprint.quant_digest for original in group)
    observations["closed_tables"] = len(group) >= CLOSED_MIN_FILES and min(tables.values()) >= CLOSED_MIN_REPEATS
    return observations


def _observations(group: list[Original]) -> dict[str, Any]:
    def counted(values) -> dict[str, int]:
        return dict(sorted(Counter(values).items()))

    prints = [original.fingerprint for original in group]
    return {
        "files": len(group),
        "quant_digests": counted(item.quant_digest for item in prints),
        "ijg_qualities": counted(str(item.ijg_quality) for item in prints if item.ijg_quality is not None),
        "huffman": counted(item.huffman for item in prints),
        "subsampling": counted(item.subsampling for item in prints),
        "process": counted(item.process for item in prints),
        "app_segments": counted(" | ".join(item.app_segments) for item in prints),
        "jfif": counted(str(item.jfif).lower() for item in prints),
        "libjpeg_layout": counted(str(libjpeg_layout(item)).lower() for item in prints),
        "libjpeg_layout_qualities": counted(str(item.ijg_quality) for item in prints if libjpeg_layout(item)),
        "libjpeg_markers": counted(str(libjpeg_markers(item)).lower() for item in prints),
        "thumbnail": counted(item.thumbnail or "none" for item in prints),
        "exif_byte_order": counted(item.exif_byte_order or "none" for item in prints),
        "maker_note_type": counted(item.maker_note_type or "none" for item in prints),
        "exif_layout": counted(item.exif_layout or "none" for item in prints),
    }


def libjpeg_layout(fingerprint: EncoderFingerprint) -> bool:
    """How libjpeg-based writers (Pillow, ImageMagick, cjpeg, many apps) lay a file out: IJG-scaled tables and a
    JFIF APP0 as the first segment, whether or not they optimise the Huffman tables."""
    return fingerprint.ijg_quality is not None and fingerprint.app_segments[:1] == ("APP0 JFIF",)


# libjpeg's jcmarker.c: one DQT segment per table before the frame header, then per scan one DHT segment per table,
# a DRI when a restart interval is set, and the scan header.
_LIBJPEG_MARKERS = re.compile(r"(DQT:1 )+SOF[0-2] (DHT:1 )+(DRI )?SOS")


def libjpeg_markers(fingerprint: EncoderFingerprint) -> bool:
    """Whether the file starts as a libjpeg-based writer lays it out, whatever its tables: a JFIF APP0 first, each
    quantisation and Huffman table in a segment of its own, in libjpeg's order. Pillow and ImageMagick write this
    also when told to reuse a camera's own tables."""
    return fingerprint.app_segments[:1] == ("APP0 JFIF",) and bool(
        _LIBJPEG_MARKERS.fullmatch(fingerprint.table_markers)
    )
