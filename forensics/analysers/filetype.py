"""File type identification: libmagic on the bytes, compared with the file name's extension and declared MIME type."""

from __future__ import annotations

import mimetypes
import queue
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import magic

from .file_pass import HEAD_BYTES
from .tiff_ifd import RAW_TIFF_HEADERS

# 3: a file libmagic can type but not describe (a JPEG with 64 or more comments) keeps its type and a description
# saying why there is none (2: the identification failed, and with it every check of the file's container).
FILETYPE_PARSER_VERSION = "filetype/3"

# Extensions the standard library's table lacks or maps differently on some systems.
_EXTENSION_MIME = {
    ".heic": "image/heic",
    ".heif": "image/heif",
    ".avif": "image/avif",
    ".webp": "image/webp",
    ".m4v": "video/x-m4v",
    ".3gp": "video/3gpp",
    ".mov": "video/quicktime",
    ".mp4": "video/mp4",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".png": "image/png",
    ".avi": "video/x-msvideo",
    ".wav": "audio/x-wav",
    ".mkv": "video/x-matroska",
    ".mka": "audio/x-matroska",
    ".webm": "video/webm",
}

# MIME types that name the same container: a declared "video/mp4" for QuickTime bytes is not a disguise.
_CONTAINER_OF_MIME = {
    "image/jpeg": "jpeg",
    "image/jpg": "jpeg",
    "image/pjpeg": "jpeg",
    "image/png": "png",
    "image/apng": "png",
    "image/gif": "gif",
    "image/webp": "riff",
    "video/x-msvideo": "riff",
    "video/avi": "riff",
    "audio/x-wav": "riff",
    "audio/wav": "riff",
    "image/heic": "isobmff",
    "image/heif": "isobmff",
    "image/heic-sequence": "isobmff",
    "image/heif-sequence": "isobmff",
    "image/avif": "isobmff",
    "video/mp4": "isobmff",
    "video/quicktime": "isobmff",
    "video/x-m4v": "isobmff",
    "video/3gpp": "isobmff",
    "video/3gpp2": "isobmff",
    "audio/mp4": "isobmff",
    "audio/x-m4a": "isobmff",
    "application/mp4": "isobmff",
    "image/tiff": "tiff",
    "video/x-matroska": "ebml",
    "audio/x-matroska": "ebml",
    "video/webm": "ebml",
    "audio/webm": "ebml",
}

_BMFF_FIRST_BOX_TYPES = {
    b"ftyp",
    b"moov",
    b"mdat",
    b"free",
    b"skip",
    b"wide",
    b"pnot",
    b"styp",
    b"sidx",
    b"moof",
}

# Pairs of libmagic cookies (MIME type, description) not in use. A cookie is not thread-safe, so each call takes a
# pair of its own, opening one when none is idle: files analysed at once never wait for each other's libmagic, and
# a call stalled by a hostile file holds up no other file's identification.
_idle_cookies: queue.SimpleQueue[tuple[magic.Magic, magic.Magic]] = queue.SimpleQueue()


@dataclass
class FileTypeResult:
    """What the bytes are, what the name and the uploader claim, and whether they agree."""

    container: str
    magic_mime: str
    magic_description: str
    extension: str | None
    extension_mime: str | None
    declared_mime: str | None
    extension_matches: bool | None
    declared_matches: bool | None
    file_size: int


def container_of_mime(mime: str | None) -> str | None:
    """The container family a MIME type names (jpeg, png, isobmff, riff, ...), or None if unknown."""
    if not mime:
        return None
    return _CONTAINER_OF_MIME.get(mime.split(";")[0].strip().lower())


def sniff_container(head: bytes) -> str:
    """Classify the first bytes of a file into the container families our parsers understand."""
    if not head:
        return "empty"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if len(head) >= 8 and head[4:8] in _BMFF_FIRST_BOX_TYPES:
        return "isobmff"
    if head.startswith((b"RIFF", b"RF64", b"BW64")):
        return "riff"
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return "ebml"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "gif"
    if head.startswith((b"II*\x00", b"MM\x00*", *RAW_TIFF_HEADERS)):
        return "tiff"
    return "unknown"


def libmagic_version() -> str:
    raw = magic.version() if hasattr(magic, "version") else None
    # libmagic reports 544 for 5.44.
    return f"{raw // 100}.{raw % 100:02d}" if isinstance(raw, int) else "unknown"


def libmagic_read_buffer(head: bytes) -> tuple[str, str]:
    """libmagic's MIME type and description of bytes held in memory (the process-wide cookies python-magic keeps)."""
    return magic.from_buffer(head, mime=True), described(lambda: magic.from_buffer(head))


def described(describe: Callable[[], str]) -> str:
    """libmagic's description, or why it gave none. Its description of some well-formed files fails where the MIME
    type, read apart, does not: a JPEG with 64 or more comment segments exceeds its "name use count". The file is
    still what the MIME type says; only the words are missing."""
    try:
        return describe()
    except magic.MagicException as failure:
        text = failure.message.decode("utf-8", "replace") if isinstance(failure.message, bytes) else str(failure)
        # libmagic's message repeats what it had described so far (64 comments) before saying why it stopped.
        why = text.rsplit('"', 1)[-1].strip() or text[-100:]
        return f"libmagic could not describe these bytes: {why}"


def _libmagic_identify(path: Path, head: bytes, size: int) -> tuple[str, str]:
    """libmagic's MIME type and description. A file libmagic would read whole is identified from the bytes
    already read; a larger one (libmagic also looks at its end) and an empty one (named from the file system)
    from the file."""
    try:
        mime, text = _idle_cookies.get_nowait()
    except queue.Empty:
        mime, text = magic.Magic(mime=True), magic.Magic()
    try:
        if 0 < size <= len(head):
            return mime.from_buffer(head), described(lambda: text.from_buffer(head))
        return mime.from_file(str(path)), described(lambda: text.from_file(str(path)))
    finally:
        _idle_cookies.put((mime, text))


def file_type_identify(
    path: str | Path,
    *,
    declared_mime_type: str | None = None,
    original_filename: str | None = None,
    head: bytes | None = None,
) -> FileTypeResult:
    """Identify the file from its bytes and compare with the extension and the declared MIME type.

    `head` is the file's first HEAD_BYTES bytes when the caller has read them already (see file_pass).
    """
    path = Path(path)
    if head is None:
        with path.open("rb") as handle:
            head = handle.read(HEAD_BYTES)
    size = path.stat().st_size
    container = sniff_container(head[:64])
    magic_mime, magic_description = _libmagic_identify(path, head, size)

    name = original_filename or path.name
    extension = Path(name).suffix.lower() or None
    extension_mime = None
    if extension:
        extension_mime = _EXTENSION_MIME.get(extension) or mimetypes.guess_type(f"x{extension}", strict=False)[0]

    actual = container if container not in ("unknown", "empty") else container_of_mime(magic_mime)
    return FileTypeResult(
        container=container,
        magic_mime=magic_mime,
        magic_description=magic_description,
        extension=extension,
        extension_mime=extension_mime,
        declared_mime=declared_mime_type,
        extension_matches=_same_container(actual, extension_mime, magic_mime),
        declared_matches=_same_container(actual, declared_mime_type, magic_mime),
        file_size=size,
    )


def _same_container(actual: str | None, claimed_mime: str | None, magic_mime: str) -> bool | None:
    """None when there is nothing to compare; otherwise whether the claim names the container the bytes are."""
    if not claimed_mime:
        return None
    claimed = container_of_mime(claimed_mime)
    if claimed is None or actual is None:
        return claimed_mime.split(";")[0].strip().lower() == magic_mime.lower()
    return claimed == actual
