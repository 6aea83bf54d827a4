"""Read-only helpers the rules share to pull values out of an AnalysisResult."""

from __future__ import annotations

from typing import Any

from forensics.analysers.results import AnalysisResult

from .software_names import SOFTWARE_TAGS, editor_named


def tags(result: AnalysisResult) -> dict[str, Any]:
    return result.exiftool.tags if result.exiftool else {}


def first(result: AnalysisResult, name: str) -> Any:
    """The first value of an ExifTool "Group:Tag", or None."""
    values = result.exiftool.values(name) if result.exiftool else []
    return values[0] if values else None


def by_tag(result: AnalysisResult, tag: str) -> dict[str, Any]:
    """Every "Group:Tag" field with this tag name, whatever the group, in ExifTool's order."""
    return result.exiftool.fields_named(tag) if result.exiftool else {}


def as_int(value: Any) -> int | None:
    try:
        return int(str(value).split()[0])
    except (TypeError, ValueError, IndexError):
        return None


def quote(value: Any, limit: int = 120) -> str:
    text = " ".join(str(value).split())
    return f"'{text[:limit]}…'" if len(text) > limit else f"'{text}'"


def pixel_size(result: AnalysisResult) -> tuple[int, int] | None:
    """The coded pixel size: from our own JPEG/PNG parse, else ExifTool's File/PNG dimensions."""
    if result.jpeg and result.jpeg.frame:
        return result.jpeg.frame.width, result.jpeg.frame.height
    if result.png and result.png.width is not None:
        return result.png.width, result.png.height
    width, height = as_int(first(result, "File:ImageWidth")), as_int(first(result, "File:ImageHeight"))
    return (width, height) if width is not None and height is not None else None


def claimed_camera(result: AnalysisResult) -> str | None:
    """'Make Model' when EXIF IFD0 names a camera and no software field names an editor, i.e. when the file
    presents itself as a camera original; None otherwise."""
    make = first(result, "IFD0:Make")
    if not make or not str(make).strip():
        return None
    for tag in SOFTWARE_TAGS:
        for value in by_tag(result, tag).values():
            if any(editor_named(str(item)) for item in (value if isinstance(value, list) else [value])):
                return None
    model = str(first(result, "IFD0:Model") or "").strip()
    make = str(make).strip()
    return model if model.lower().startswith(make.lower().split()[0]) else f"{make} {model}".strip()
