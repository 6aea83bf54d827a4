"""The versioned rule catalogue: every rule the engine runs, in a fixed order."""

from __future__ import annotations

from forensics.device_profiles import profiles_load

from . import (
    encoding,
    integrity,
    maker_notes,
    metadata,
    provenance,
    stripping,
    structure,
    synthetic,
    thumbnail,
    timeline,
    video,
    video_profile,
    video_timing,
)
from .model import Rule

# Bump when a rule is added, removed, or changes what it fires on or how severe it is.
RULESET_VERSION = "2026.8"


def ruleset_version() -> str:
    """The version recorded with every evaluation: the rule set plus the digest of the device-profile file in
    force, since the profiles decide what the EM-ENC rules fire on ("2026.6+dp.1a2b3c4d")."""
    return f"{RULESET_VERSION}+{profiles_load().version}"


RULES: tuple[Rule, ...] = (
    *integrity.book.rules,
    *structure.book.rules,
    *metadata.book.rules,
    *timeline.book.rules,
    *provenance.book.rules,
    *synthetic.book.rules,
    *encoding.book.rules,
    *stripping.book.rules,
    *maker_notes.book.rules,
    *thumbnail.book.rules,
    *video.book.rules,
    *video_timing.book.rules,
    *video_profile.book.rules,
)
