"""Safe previews: a re-encoded thumbnail or poster frame, never the original bytes; refused over the pixel limit
or for deleted media; each serving recorded in custody as `media.viewed`; derived files deleted with the media."""

import contextlib
import io
import os
import warnings
from fractions import Fraction

import av
import pytest
from django.core.files.storage import storages
from PIL import Image

from cases import services
from cases.models import EvidenceItem
from cases.previews import PILLOW_FORMATS, preview_key
from custody.models import CustodyEvent
from tests.conftest import PASSWORD, received


def _jpeg(width: int, height: int) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (30, 90, 160)).save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


def _mp4(tmp_path) -> bytes:
    path = tmp_path / "clip.mp4"
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=25)
        stream.width, stream.height, stream.pix_fmt = 320, 240, "yuv420p"
        for index in range(10):
            frame = av.VideoFrame.from_image(Image.new("RGB", (320, 240), (200, 20 * index, 40)))
            frame.pts, frame.time_base = index, Fraction(1, 25)
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path.read_bytes()


def _receive(tenant, data: bytes, name: str, declared: str) -> EvidenceItem:
    receipt = services.evidence_receive(
        case=tenant.case, received=received(data, name, declared), actor=tenant.investigator
    )
    return EvidenceItem.objects.get(pk=receipt.item.pk)


def _views(item) -> int:
    return CustodyEvent.objects.filter(evidence=item, action="media.viewed").count()


def test_image_preview_is_a_small_reencoded_jpeg_and_each_view_is_recorded(client, alpha):
    original = _jpeg(1600, 1200)
    item = _receive(alpha, original, "big.jpg", "image/jpeg")
    client.login(username=alpha.auditor.username, password=PASSWORD)  # case:read only, no media:download

    first = client.get(f"/evidence/{item.public_id}/preview/")
    second = client.get(f"/evidence/{item.public_id}/preview/")

    body = b"".join(first.streaming_content)
    assert first.status_code == second.status_code == 200
    assert first["Content-Type"] == "image/jpeg" and "no-store" in first["Cache-Control"]
    assert body != original
    assert max(Image.open(io.BytesIO(body)).size) == 640
    assert storages["derived"].exists(preview_key(item))
    assert _views(item) == 2
    event = CustodyEvent.objects.filter(evidence=item, action="media.viewed").first()
    assert event.actor == alpha.auditor and event.details == {"via": "preview", "sha256": item.sha256}


def test_video_preview_is_the_first_keyframe(client, alpha, tmp_path):
    item = _receive(alpha, _mp4(tmp_path), "clip.mp4", "video/mp4")
    client.login(username=alpha.investigator.username, password=PASSWORD)

    response = client.get(f"/evidence/{item.public_id}/preview/")

    poster = Image.open(io.BytesIO(b"".join(response.streaming_content)))
    assert response.status_code == 200 and poster.size == (320, 240)
    red, green, blue = poster.convert("RGB").getpixel((160, 120))
    assert red > 150 and green < 40  # the first frame's colour, (200, 0, 40)


def test_picture_over_the_pixel_limit_gets_no_preview_and_no_view_event(client, alpha, settings):
    settings.EVIDENCE_PREVIEW_MAX_PIXELS = 1000 * 1000
    item = _receive(alpha, _jpeg(1200, 1000), "wide.jpg", "image/jpeg")
    client.login(username=alpha.investigator.username, password=PASSWORD)

    response = client.get(f"/evidence/{item.public_id}/preview/")

    assert response.status_code == 422
    assert "1200×1000 pixels, over the 1,000,000-pixel limit" in response.content.decode()
    assert _views(item) == 0
    assert not storages["derived"].exists(preview_key(item))


def test_decompression_bomb_is_refused_before_decoding(client, alpha, settings):
    # A PNG header claiming 30000×30000 pixels compresses to a few kilobytes: the classic decompression bomb.
    buffer = io.BytesIO()
    Image.new("1", (30000, 30000)).save(buffer, "PNG")
    item = _receive(alpha, buffer.getvalue(), "bomb.png", "image/png")
    client.login(username=alpha.investigator.username, password=PASSWORD)

    response = client.get(f"/evidence/{item.public_id}/preview/")

    assert response.status_code == 422 and "pixel limit" in response.content.decode()


def test_stored_copy_that_no_longer_matches_raises_an_alarm_and_gives_no_preview(client, alpha):
    item = _receive(alpha, _jpeg(64, 48), "photo.jpg", "image/jpeg")
    # Swapped behind the application's back for another picture: it does not decrypt under the item's data key
    path = storages["evidence"].path(item.storage_key)
    os.unlink(path)
    with open(path, "wb") as tampered:
        tampered.write(_jpeg(64, 49))
    client.login(username=alpha.investigator.username, password=PASSWORD)

    response = client.get(f"/evidence/{item.public_id}/preview/")

    assert response.status_code == 409
    alarm = CustodyEvent.objects.get(evidence=item, action="integrity.alarm")
    assert alarm.details["during"] == "preview" and alarm.details["failed"] == "ciphertext"
    assert _views(item) == 0


def test_deleted_media_has_no_preview_and_its_derived_file_is_gone(client, alpha, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        item = _receive(alpha, _jpeg(200, 100), "photo.jpg", "image/jpeg")
    client.login(username=alpha.investigator.username, password=PASSWORD)
    assert client.get(f"/evidence/{item.public_id}/preview/").status_code == 200
    item = EvidenceItem.objects.get(pk=item.pk)

    services.evidence_media_delete(item=item, reason="test", actor=alpha.admin)

    assert client.get(f"/evidence/{item.public_id}/preview/").status_code == 404
    assert not storages["derived"].exists(preview_key(item))
    assert "/preview/" not in client.get(f"/evidence/{item.public_id}/").content.decode()


# Every previewed type, saved by Pillow in the mode that type stores most naturally.
_PREVIEWED = {"image/jpeg": "RGB", "image/png": "RGBA", "image/webp": "RGB", "image/tiff": "RGB", "image/gif": "P"}


def _picture(mime_type: str, width: int, height: int) -> bytes:
    buffer = io.BytesIO()
    Image.new(_PREVIEWED[mime_type], (width, height), 30).save(buffer, PILLOW_FORMATS[mime_type])
    return buffer.getvalue()


def test_every_previewed_type_is_generated_here():
    assert _PREVIEWED.keys() == PILLOW_FORMATS.keys()


@pytest.mark.parametrize("mime_type", sorted(PILLOW_FORMATS))
@pytest.mark.parametrize(
    ("pillow_limit", "refused_by"),
    [
        (None, None),  # a picture within every limit
        (None, "ours"),  # over EVIDENCE_PREVIEW_MAX_PIXELS only
        (20_000, "pillow"),  # 30,000 pixels: past Image.MAX_IMAGE_PIXELS, where Pillow only warns
        (10_000, "pillow"),  # past twice it, where Pillow refuses
    ],
)
def test_previews_leave_the_process_warning_filters_alone(
    client, alpha, settings, monkeypatch, warning_filter_calls, mime_type, pillow_limit, refused_by
):
    """The filters are the whole process's: a preview that changed them (to turn Pillow's decompression-bomb warning
    into an error) changed them for every other request thread of the worker and every analyser thread, and could
    lose another thread's change when it put them back."""
    settings.EVIDENCE_PREVIEW_MAX_PIXELS = 100 * 100 if refused_by == "ours" else 10_000_000
    if pillow_limit is not None:
        monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", pillow_limit)
    item = _receive(alpha, _picture(mime_type, 200, 150), "picture", mime_type)
    client.login(username=alpha.investigator.username, password=PASSWORD)
    filters = list(warnings.filters)
    warning_filter_calls.clear()

    response = client.get(f"/evidence/{item.public_id}/preview/")

    assert warning_filter_calls == [] and warnings.filters == filters
    page = response.content.decode() if refused_by else ""
    if refused_by is None:
        assert response.status_code == 200 and _views(item) == 1
        assert Image.open(io.BytesIO(b"".join(response.streaming_content))).size == (200, 150)
    elif refused_by == "ours":
        assert response.status_code == 422 and "200×150 pixels, over the 10,000-pixel limit" in page
    else:
        assert response.status_code == 422 and "claims more pixels than Pillow will decode" in page
    assert storages["derived"].exists(preview_key(item)) == (refused_by is None)


def _multi_picture_jpeg() -> bytes:
    buffer = io.BytesIO()
    first, second = Image.new("RGB", (200, 150), 30), Image.new("RGB", (200, 150), 90)
    first.save(buffer, "MPO", save_all=True, append_images=[second])
    return buffer.getvalue()


def _gif_frame_past_its_screen() -> bytes:
    # Pillow's GIF reader grows the picture to the first frame, checking the new size, as it reads the header.
    data = bytearray(_picture("image/gif", 200, 150))
    data[6:10] = (10).to_bytes(2, "little") + (10).to_bytes(2, "little")  # the logical screen: 10×10
    return bytes(data)


@pytest.mark.parametrize("pillow_limit", [20_000, 10_000])  # past Pillow's warning, past its refusal
@pytest.mark.parametrize(
    ("made", "mime_type"), [(_multi_picture_jpeg, "image/jpeg"), (_gif_frame_past_its_screen, "image/gif")]
)
def test_pictures_pillow_reads_differently_are_refused_past_its_limit(
    client, alpha, settings, monkeypatch, pillow_limit, made, mime_type
):
    settings.EVIDENCE_PREVIEW_MAX_PIXELS = 10_000_000
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", pillow_limit)
    item = _receive(alpha, made(), "picture", mime_type)
    client.login(username=alpha.investigator.username, password=PASSWORD)
    # (The GIF reader warns, as it reads the header, of a frame in Pillow's warning band.)
    warns = made is _gif_frame_past_its_screen and pillow_limit == 20_000

    with pytest.warns(Image.DecompressionBombWarning) if warns else contextlib.nullcontext():
        response = client.get(f"/evidence/{item.public_id}/preview/")

    assert response.status_code == 422 and "claims more pixels than Pillow will decode" in response.content.decode()
    assert not storages["derived"].exists(preview_key(item))
