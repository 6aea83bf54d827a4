"""Turning a stored analysis result into what people read: metadata grouped as ExifTool groups it, with long
values wrapped and binary values summarised, and a count of what was summarised so nothing is silently dropped."""

from dataclasses import dataclass

MAX_VALUE_CHARS = 2000


@dataclass(frozen=True)
class MetadataGroup:
    name: str
    rows: list[tuple[str, str]]
    binary_count: int


def metadata_groups(result: dict) -> list[MetadataGroup]:
    """ExifTool tags from a stored result, grouped by their family-1 group ("EXIF:IFD0", "XMP-xmp", …)."""
    tags = ((result or {}).get("exiftool") or {}).get("tags") or {}
    grouped: dict[str, list[tuple[str, str]]] = {}
    binaries: dict[str, int] = {}
    for key in sorted(tags):
        group, _, name = key.rpartition(":")
        group = group or "Other"
        text, is_binary = _display(tags[key])
        grouped.setdefault(group, []).append((name, text))
        binaries[group] = binaries.get(group, 0) + is_binary
    return [MetadataGroup(name, rows, binaries[name]) for name, rows in grouped.items()]


def _display(value) -> tuple[str, bool]:
    text = value if isinstance(value, str) else str(value)
    # The ExifTool analyser stores large binary values as "(Binary data N bytes…)" summaries.
    if text.startswith("(Binary data") or text.startswith("base64:"):
        return text if text.startswith("(") else f"(binary data, {len(text) - 7:,} base64 characters)", True
    if len(text) > MAX_VALUE_CHARS:
        return f"{text[:MAX_VALUE_CHARS]}… ({len(text):,} characters in all)", False
    return text, False
