"""The media types the system accepts as evidence, as libmagic names them, with the extensions that fit each."""

from dataclasses import dataclass


@dataclass(frozen=True)
class MediaType:
    mime: str
    label: str
    kind: str  # "image" or "video"
    extensions: tuple[str, ...]  # the first is the one files are given when served


def _types(*rows: tuple[str, str, str, str]) -> dict[str, MediaType]:
    return {mime: MediaType(mime, label, kind, tuple(exts.split())) for mime, label, kind, exts in rows}


ACCEPTED: dict[str, MediaType] = _types(
    ("image/jpeg", "JPEG", "image", ".jpg .jpeg .jpe .jfif"),
    ("image/png", "PNG", "image", ".png"),
    ("image/heic", "HEIC", "image", ".heic .heif .hif"),
    ("image/heif", "HEIF", "image", ".heif .heic .hif"),
    ("image/webp", "WebP", "image", ".webp"),
    ("image/tiff", "TIFF", "image", ".tif .tiff .dng"),
    ("image/gif", "GIF", "image", ".gif"),
    ("video/mp4", "MP4", "video", ".mp4 .m4v .m4a"),
    ("video/quicktime", "QuickTime MOV", "video", ".mov .qt"),
    ("video/3gpp", "3GP", "video", ".3gp .3gpp"),
    ("video/3gpp2", "3G2", "video", ".3g2 .3gp2"),
    ("video/x-m4v", "M4V", "video", ".m4v .mp4"),
    ("video/x-msvideo", "AVI", "video", ".avi"),
    ("video/x-matroska", "Matroska", "video", ".mkv .mka .mk3d"),
    ("video/webm", "WebM", "video", ".webm"),
)

# Declared types that are aliases of an accepted type, so "image/jpg" from a browser is no mismatch.
DECLARED_ALIASES = {
    "image/jpg": "image/jpeg",
    "image/pjpeg": "image/jpeg",
    "image/x-png": "image/png",
    "video/avi": "video/x-msvideo",
    "video/msvideo": "video/x-msvideo",
    "image/heic-sequence": "image/heic",
    "image/heif-sequence": "image/heif",
}


def accepted_label_list() -> str:
    return ", ".join(sorted({t.label for t in ACCEPTED.values()}))


def type_mismatches(*, detected: str, declared: str, filename: str) -> list[str]:
    """Say, in words, where the extension or the client's declared type disagrees with the bytes."""
    media = ACCEPTED.get(detected)
    if media is None:
        return []
    problems = []
    suffix = "." + filename.rsplit(".", 1)[1].lower() if "." in filename.strip(".") else ""
    if suffix not in media.extensions:
        shown = f"'{suffix}'" if suffix else "no extension"
        problems.append(f"The file name has {shown} but the bytes are {media.label} ({detected}).")
    declared_norm = DECLARED_ALIASES.get(declared.lower(), declared.lower())
    related = {detected, *(m for m, t in ACCEPTED.items() if set(t.extensions) & set(media.extensions))}
    if declared_norm and declared_norm != "application/octet-stream" and declared_norm not in related:
        problems.append(f"The uploader declared '{declared}' but the bytes are {media.label} ({detected}).")
    return problems
