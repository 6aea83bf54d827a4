"""The versioned rule catalogue: every rule the engine runs, in a fixed order."""

from __future__ import annotations

from . import integrity, maker_notes, metadata, provenance, stripping, structure, synthetic, thumbnail, timeline
from .model import Rule

# Bump when a rule is added, removed, or changes what it fires on or how severe it is.
RULESET_VERSION = "2026.3"

RULES: tuple[Rule, ...] = (
    *integrity.book.rules,
    *structure.book.rules,
    *metadata.book.rules,
    *timeline.book.rules,
    *provenance.book.rules,
    *synthetic.book.rules,
    *stripping.book.rules,
    *maker_notes.book.rules,
    *thumbnail.book.rules,
)
