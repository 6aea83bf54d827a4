"""Safe previews of evidence: a small JPEG re-encoded on the server (a thumbnail of an image, the first keyframe of
a video), cached in the (encrypted) "derived" store and never the original bytes.

Decoding untrusted media is the risk, so the pixel count is checked from the header before anything is decoded
(a decompression bomb is refused, not shrunk), only the formats the system accepts are opened, and the stored
bytes are re-hashed first: a preview is never made from a copy that no longer matches what was received.
The decoders read a private plaintext copy (encryption.plaintext), removed as soon as the picture is made.
Derived files are named after the item's stored media (a keyed hash, never the SHA-256) and are deleted, with
their data keys, with the media (`derived_files_delete`), so a preview never outlives the media it shows.
"""

import hashlib
import io

import av
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import storages
from django.utils.translation import gettext as _
from PIL import Image, ImageOps

from custody.access import integrity_alarm_record
from encryption.hierarchy import CiphertextDamaged
from encryption.plaintext import plaintext_copy
from forensics.analysers.exif_thumbnail import comparison_picture
from forensics.analysers.jpeg_structure import jpeg_structure_read
from forensics.analysers.pillow_open import image_opened_unchecked

from .media_types import ACCEPTED
from .models import EvidenceItem
from .upload import CHUNK_SIZE

PREVIEW_EDGE = 640
PREVIEW_QUALITY = 85
# Pillow's plugin names for the accepted image types; nothing else is ever handed to a decoder.
PILLOW_FORMATS = {
    "image/jpeg": "JPEG",
    "image/png": "PNG",
    "image/webp": "WEBP",
    "image/tiff": "TIFF",
    "image/gif": "GIF",
}
# A hostile video could make the decoder read far before yielding a keyframe; give up after this many packets.
MAX_VIDEO_PACKETS = 500


class PreviewUnavailable(Exception):
    """No preview can be made for this item; the message says why, in words for the page."""

    def __init__(self, message: str, status_code: int = 422):
        super().__init__(message)
        self.status_code = status_code


def preview_key(item: EvidenceItem) -> str:
    """Where the item's preview lives in the derived store: beside the name of its stored media (one per
    organisation and content)."""
    return f"{item.storage_key}-preview.jpg"


def preview_supported(item: EvidenceItem) -> bool:
    media = ACCEPTED.get(item.detected_mime_type)
    return media is not None and (media.kind == "video" or item.detected_mime_type in PILLOW_FORMATS)


def preview_get_or_create(item: EvidenceItem, *, actor) -> str:
    """The derived-store key of the item's preview, made now if it is not cached yet.

    Raises PreviewUnavailable when the media was deleted, the type has no previewer, the picture is over the
    pixel limit or cannot be decoded, or the stored bytes no longer match (an integrity alarm is then recorded).
    """
    if not item.media_held:
        raise PreviewUnavailable(
            _("The media of this item was deleted; only its hashes and findings are kept."), status_code=404
        )
    if not preview_supported(item):
        raise PreviewUnavailable(
            _("No preview is made for %(type)s files; members who may download media can open the original.")
            % {"type": item.detected_mime_type}
        )
    derived = storages["derived"]
    key = preview_key(item)
    if derived.exists(key):
        return key
    _stored_bytes_check(item, actor=actor)
    kind = ACCEPTED[item.detected_mime_type].kind
    picture = _video_poster(item) if kind == "video" else _image_thumbnail(item)
    buffer = io.BytesIO()
    picture.save(buffer, "JPEG", quality=PREVIEW_QUALITY)
    # Two requests may make the same preview at once; the bytes are the same, so the later write may replace it.
    derived.save(key, ContentFile(buffer.getvalue()))
    return key


def thumbnail_comparison_key(item: EvidenceItem) -> str:
    """Where the item's EXIF-thumbnail comparison picture lives in the derived store, beside its preview."""
    return preview_key(item).removesuffix("-preview.jpg") + "-thumbnail-comparison.png"


def thumbnail_comparison_get_or_create(item: EvidenceItem, *, actor) -> str:
    """The derived-store key of the item's EXIF-thumbnail comparison (thumbnail, main image scaled to it, amplified
    difference), made now if it is not cached yet; raises PreviewUnavailable like `preview_get_or_create`."""
    if not item.media_held:
        raise PreviewUnavailable(
            _("The media of this item was deleted; only its hashes and findings are kept."), status_code=404
        )
    if item.detected_mime_type != "image/jpeg":
        raise PreviewUnavailable(_("Only JPEG files carry an EXIF thumbnail to compare."))
    derived = storages["derived"]
    key = thumbnail_comparison_key(item)
    if derived.exists(key):
        return key
    _stored_bytes_check(item, actor=actor)
    # The comparison reads the thumbnail at its byte offset and lets Pillow seek: it needs the file on disk.
    with plaintext_copy(store="evidence", name=item.storage_key) as path:
        try:
            with Image.open(path, formats=["JPEG"]) as image:
                _pixel_limit_check(*image.size)
        except (OSError, ValueError, Image.DecompressionBombError):
            raise PreviewUnavailable(
                _(
                    "The picture could not be decoded for a comparison; members who may download media can open the "
                    "original."
                )
            ) from None
        picture = comparison_picture(path, jpeg_structure_read(path))
    if picture is None:
        raise PreviewUnavailable(_("This file has no EXIF thumbnail that can be compared with its main image."))
    buffer = io.BytesIO()
    picture.save(buffer, "PNG")
    derived.save(key, ContentFile(buffer.getvalue()))
    return key


def derived_files_delete(item: EvidenceItem) -> None:
    """Delete every file derived from the item's media (its preview, its thumbnail comparison); call when the media
    is deleted.

    Another item of the organisation holding identical bytes loses its cached pictures too, and gets them made
    again from its own media the next time they are viewed.
    """
    storages["derived"].delete(preview_key(item))
    storages["derived"].delete(thumbnail_comparison_key(item))


def _stored_bytes_check(item: EvidenceItem, *, actor) -> None:
    hasher = hashlib.sha256()
    try:
        with storages["evidence"].open(item.storage_key, "rb") as stored:
            for chunk in stored.chunks(CHUNK_SIZE):
                hasher.update(chunk)
    except FileNotFoundError:
        finding = "the stored file is missing"
        integrity_alarm_record(item=item, actor=actor, finding=finding, found={"during": "preview"})
        raise PreviewUnavailable(
            _("The stored copy of this item is missing; an integrity alarm is recorded. Tell an administrator."),
            status_code=409,
        ) from None
    except CiphertextDamaged as damage:
        finding = f"the stored ciphertext is damaged: {damage}"
        integrity_alarm_record(
            item=item, actor=actor, finding=finding, found={"during": "preview", "failed": "ciphertext"}
        )
        raise PreviewUnavailable(
            _("The stored copy of this item is damaged; an integrity alarm is recorded. Tell an administrator."),
            status_code=409,
        ) from None
    found = hasher.hexdigest()
    if found != item.sha256:
        integrity_alarm_record(
            item=item,
            actor=actor,
            finding=f"the stored bytes hash to SHA-256 {found}, not {item.sha256} as received",
            found={"during": "preview", "found_sha256": found},
        )
        raise PreviewUnavailable(
            _(
                "The stored copy of this item no longer matches what was received; an integrity alarm is recorded. "
                "Tell an administrator."
            ),
            status_code=409,
        )


def _pixel_limit_check(width: int, height: int) -> None:
    limit = settings.EVIDENCE_PREVIEW_MAX_PIXELS
    if width * height > limit:
        raise PreviewUnavailable(
            _(
                "The picture is %(width)d×%(height)d pixels, over the %(limit)s-pixel limit for previews; members "
                "who may download media can open the original."
            )
            % {"width": width, "height": height, "limit": f"{limit:,}"}
        )


def _image_thumbnail(item: EvidenceItem) -> Image.Image:
    with plaintext_copy(store="evidence", name=item.storage_key) as stored:
        try:
            image = image_opened_unchecked(stored, PILLOW_FORMATS[item.detected_mime_type])
            _pillow_limit_check(*image.size)
            _pixel_limit_check(*image.size)
            image.draft("RGB", (PREVIEW_EDGE, PREVIEW_EDGE))  # JPEG: decode at a reduced scale, much faster
            image = ImageOps.exif_transpose(image)
            image.thumbnail((PREVIEW_EDGE, PREVIEW_EDGE))
            return _flattened(image)
        except PreviewUnavailable:
            raise
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            # Pillow's own limit: far over any limit of ours as well. (GIF's reader, when the first frame reaches
            # past the logical screen, still warns as it reads the header: an error only where the process's filters
            # make it one.)
            raise PreviewUnavailable(
                _(
                    "The picture claims more pixels than Pillow will decode, over the pixel limit for previews; "
                    "members who may download media can open the original."
                )
            ) from None
        except (OSError, ValueError, SyntaxError):
            raise PreviewUnavailable(
                _(
                    "The picture could not be decoded for a preview; members who may download media can open the "
                    "original."
                )
            ) from None


def _pillow_limit_check(width: int, height: int) -> None:
    """Pillow's own decompression-bomb limit, as `Image.open` applies it (both its warning, past
    Image.MAX_IMAGE_PIXELS, and its refusal, past twice that), raised as DecompressionBombError; the limit is read
    when called, so a deployment that sets it is still obeyed."""
    limit = Image.MAX_IMAGE_PIXELS
    if limit is not None and max(1, width) * max(1, height) > limit:
        raise Image.DecompressionBombError(f"Image size ({width}x{height} pixels) exceeds limit of {limit} pixels")


def _video_poster(item: EvidenceItem) -> Image.Image:
    with plaintext_copy(store="evidence", name=item.storage_key) as stored:
        try:
            with av.open(str(stored)) as container:
                if not container.streams.video:
                    raise PreviewUnavailable(_("This file has no video track to take a poster frame from."))
                stream = container.streams.video[0]
                _pixel_limit_check(stream.codec_context.width, stream.codec_context.height)
                stream.codec_context.skip_frame = "NONKEY"
                for count, packet in enumerate(container.demux(stream)):
                    if count >= MAX_VIDEO_PACKETS:
                        break
                    for frame in packet.decode():
                        image = frame.to_image()
                        image.thumbnail((PREVIEW_EDGE, PREVIEW_EDGE))
                        return _flattened(image)
        except PreviewUnavailable:
            raise
        except (av.FFmpegError, OSError, ValueError):
            raise PreviewUnavailable(
                _(
                    "The video could not be decoded for a poster frame; members who may download media can open the "
                    "original."
                )
            ) from None
    raise PreviewUnavailable(_("No keyframe was found near the start of the video for a poster frame."))


def _flattened(image: Image.Image) -> Image.Image:
    """RGB for JPEG, with any transparency laid on white rather than black."""
    if image.mode in ("RGBA", "LA", "P"):
        image = image.convert("RGBA")
        background = Image.new("RGB", image.size, (255, 255, 255))
        background.paste(image, mask=image.getchannel("A"))
        return background
    return image.convert("RGB")
