"""Our JPEG marker walk on JPEGs generated with Pillow and ExifTool."""

from __future__ import annotations

import io
import random
import struct
from pathlib import Path

import pytest

from forensics.analysers.jpeg_structure import jpeg_structure_read

from .conftest import exiftool_write, picture


def test_pillow_jpeg_is_recognised_as_libjpeg_output_at_its_quality(tmp_path: Path) -> None:
    # given a JPEG saved by Pillow (libjpeg) at quality 83, baseline, standard Huffman tables
    path = tmp_path / "q83.jpg"
    picture(320, 200).save(path, quality=83)

    # when its structure is read
    result = jpeg_structure_read(path)

    # then the walk is complete and the tables are identified
    assert result.complete
    assert (result.frame.width, result.frame.height) == (320, 200)
    assert result.frame.process == "baseline"
    assert [table.estimated_quality for table in result.quant_tables] == [83, 83]
    assert all(table.standard_ijg for table in result.quant_tables)
    assert all(table.standard for table in result.huffman_tables)
    assert [segment.name for segment in result.segments][:2] == ["SOI", "APP0"]
    assert result.segments[-1].name == "EOI"
    assert result.primary_end == path.stat().st_size


def test_optimised_progressive_jpeg_is_reported_as_such(tmp_path: Path) -> None:
    path = tmp_path / "web.jpg"
    picture().save(path, quality=70, progressive=True, optimize=True)

    result = jpeg_structure_read(path)

    assert result.frame.process == "progressive"
    assert not any(table.standard for table in result.huffman_tables)
    assert result.scan_count > 1


def test_appended_bytes_are_located_and_measured(camera_jpeg: Path) -> None:
    # given a JPEG with 31 bytes appended after its EOI
    end_of_image = camera_jpeg.stat().st_size
    with camera_jpeg.open("ab") as handle:
        handle.write(b"hidden message after the image")
        handle.write(b"!")

    # when its structure is read
    result = jpeg_structure_read(camera_jpeg)

    # then the undeclared region starts exactly at the old end of file
    assert result.primary_end == end_of_image
    assert result.undeclared_trailing_bytes == 31
    assert result.trailing[0].offset == end_of_image
    assert result.trailing[0].classification == "undeclared"


def test_concatenated_second_jpeg_is_recognised_inside_the_trailer(camera_jpeg: Path) -> None:
    second = io.BytesIO()
    picture(64, 64).save(second, "JPEG")
    with camera_jpeg.open("ab") as handle:
        handle.write(second.getvalue())

    result = jpeg_structure_read(camera_jpeg)

    assert result.trailing[0].detail == "second JPEG image, 64x64 (baseline)"


def test_exif_thumbnail_is_extracted_with_its_own_dimensions(camera_jpeg: Path, tmp_path: Path) -> None:
    thumbnail = tmp_path / "thumb.jpg"
    picture(160, 120).save(thumbnail, quality=80)
    exiftool_write(camera_jpeg, f"-ThumbnailImage<={thumbnail}")

    result = jpeg_structure_read(camera_jpeg)

    assert (result.thumbnail.width, result.thumbnail.height) == (160, 120)
    assert result.thumbnail.is_jpeg
    data = camera_jpeg.read_bytes()
    assert data[result.thumbnail.offset : result.thumbnail.offset + 2] == b"\xff\xd8"


def test_truncated_jpeg_reports_where_the_data_stops(camera_jpeg: Path) -> None:
    data = camera_jpeg.read_bytes()
    camera_jpeg.write_bytes(data[: len(data) // 2])

    result = jpeg_structure_read(camera_jpeg)

    assert not result.complete
    assert result.issues[-1].code == "no_eoi"


def test_segment_length_beyond_the_file_stops_the_walk(tmp_path: Path) -> None:
    path = tmp_path / "overrun.jpg"
    path.write_bytes(b"\xff\xd8\xff\xe1\xff\xf0Exif\x00\x00")

    result = jpeg_structure_read(path)

    assert result.issues[0].code == "segment_overrun"
    assert result.issues[0].offset == 2


def test_empty_file_is_reported_not_raised(tmp_path: Path) -> None:
    path = tmp_path / "empty.jpg"
    path.write_bytes(b"")

    assert jpeg_structure_read(path).issues[0].code == "empty_file"


def _with_aligned_mpf_image(primary: bytes, second: bytes, fill: bytes) -> tuple[bytes, int]:
    """`primary` with an MPF index (APP2) naming `second`, which starts on the next 512-byte boundary after
    `fill` and leftover bytes, as Panasonic cameras lay out their MPF previews."""

    def app2(second_offset: int) -> bytes:
        entries = struct.pack(">IIIHH", 0x20030000, 0, 0, 0, 0) + struct.pack(
            ">IIIHH", 0x00020002, len(second), second_offset, 0, 0
        )
        ifd = struct.pack(">H", 3)
        ifd += struct.pack(">HHI", 0xB000, 7, 4) + b"0100"
        ifd += struct.pack(">HHII", 0xB001, 4, 1, 2)
        ifd += struct.pack(">HHII", 0xB002, 7, len(entries), 8 + len(ifd) + 12 + 4)
        body = b"MPF\x00MM\x00\x2a" + struct.pack(">I", 8) + ifd + struct.pack(">I", 0) + entries
        return b"\xff\xe2" + struct.pack(">H", len(body) + 2) + body

    primary_length = 2 + len(app2(0)) + len(primary) - 2
    aligned = -(-(primary_length + len(fill) + 1) // 512) * 512
    gap = fill + bytes(range(1, 256))[: aligned - primary_length - len(fill)]
    mpf_base = 2 + 4 + 4  # SOI, APP2 marker and length, "MPF\0": offsets count from the TIFF header
    data = b"\xff\xd8" + app2(aligned - mpf_base) + primary[2:] + gap + second
    return data, aligned


def test_fill_before_a_sector_aligned_mpf_image_is_slack_not_hidden_data(tmp_path: Path) -> None:
    primary, second = io.BytesIO(), io.BytesIO()
    picture(320, 240).save(primary, "JPEG")
    picture(64, 48).save(second, "JPEG")
    data, aligned = _with_aligned_mpf_image(primary.getvalue(), second.getvalue(), b"\xff" * 40)
    path = tmp_path / "panasonic-like.jpg"
    path.write_bytes(data)

    result = jpeg_structure_read(path)

    assert [(region.classification, region.offset + region.length) for region in result.trailing] == [
        ("storage_slack", aligned),
        ("mpf_image", len(data)),
    ]
    assert result.undeclared_trailing_bytes == 0


def test_leftovers_without_fill_before_an_mpf_image_stay_undeclared(tmp_path: Path) -> None:
    primary, second = io.BytesIO(), io.BytesIO()
    picture(320, 240).save(primary, "JPEG")
    picture(64, 48).save(second, "JPEG")
    data, _ = _with_aligned_mpf_image(primary.getvalue(), second.getvalue(), b"")
    path = tmp_path / "hidden.jpg"
    path.write_bytes(data)

    result = jpeg_structure_read(path)

    assert result.trailing[0].classification == "undeclared"
    assert result.undeclared_trailing_bytes == result.trailing[0].length


def _block_written(image: bytes, leftover: bytes, block: int) -> bytes:
    """A camera that writes whole blocks: the image, a few bytes left in its buffer, then zeros with a two-byte mark
    at the end of each 512-byte sector, up to the next block boundary."""
    tail = bytearray(leftover + bytes(-(len(image) + len(leftover)) % block))
    for sector_end in range(512 - len(image) % 512, len(tail) + 1, 512):
        tail[sector_end - 2 : sector_end] = b"\x9e\x00"
    return image + bytes(tail)


def test_buffer_leftovers_and_fill_up_to_a_block_boundary_are_slack(tmp_path: Path) -> None:
    image = io.BytesIO()
    picture(320, 240).save(image, "JPEG")
    path = tmp_path / "block-written.jpg"
    path.write_bytes(_block_written(image.getvalue(), bytes(range(7, 67)), 16384))

    result = jpeg_structure_read(path)

    assert [region.classification for region in result.trailing] == ["storage_slack"]
    assert result.undeclared_trailing_bytes == 0
    assert path.stat().st_size % 16384 == 0


def test_a_payload_padded_to_a_block_boundary_stays_undeclared(tmp_path: Path) -> None:
    image, hidden = io.BytesIO(), io.BytesIO()
    picture(320, 240).save(image, "JPEG")
    picture(64, 48).save(hidden, "JPEG")
    path = tmp_path / "padded-payload.jpg"
    path.write_bytes(_block_written(image.getvalue(), hidden.getvalue(), 16384))

    result = jpeg_structure_read(path)

    assert result.trailing[0].classification == "undeclared"
    assert result.trailing[0].detail.startswith("second JPEG image, 64x48")
    assert result.undeclared_trailing_bytes >= len(hidden.getvalue())


@pytest.mark.parametrize("size", [3000, 600])
def test_bytes_that_are_not_an_image_padded_to_a_block_boundary_stay_undeclared(tmp_path: Path, size: int) -> None:
    # Any payload (here random bytes, as an encrypted one would be) padded with zeros to a block boundary is mostly
    # fill too; only a camera's few leftover bytes, then fill, are slack.
    image = io.BytesIO()
    picture(320, 240).save(image, "JPEG")
    path = tmp_path / "padded-payload.jpg"
    path.write_bytes(_block_written(image.getvalue(), random.Random(size).randbytes(size), 65536))

    result = jpeg_structure_read(path)

    assert [region.classification for region in result.trailing] == ["undeclared"]
    assert result.undeclared_trailing_bytes >= size


def test_a_short_tail_of_bytes_ending_on_a_sector_boundary_is_not_slack(tmp_path: Path) -> None:
    image = io.BytesIO()
    picture(320, 240).save(image, "JPEG")
    data = image.getvalue()
    # A comment segment sized so that 100 bytes after the image end on a sector boundary.
    comment = b"c" * ((-len(data) - 4 - 100) % 512)
    data = data[:2] + b"\xff\xfe" + struct.pack(">H", len(comment) + 2) + comment + data[2:]
    path = tmp_path / "short-tail.jpg"
    path.write_bytes(data + random.Random(1).randbytes(100))
    assert path.stat().st_size % 512 == 0

    result = jpeg_structure_read(path)

    assert [region.classification for region in result.trailing] == ["undeclared"]


def test_a_crafted_flood_of_tables_is_read_only_up_to_the_limit(tmp_path: Path) -> None:
    # Each table is estimated and matched to its segment: thousands of them per segment made a few MB take minutes.
    image = io.BytesIO()
    picture(16, 16).save(image, "JPEG")
    data = image.getvalue()
    quant = b"\xff\xdb" + struct.pack(">H", 2 + 65 * 200) + (b"\x00" + bytes(range(1, 65))) * 200
    huffman_table = b"\x00" + bytes([0, 1, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0]) + bytes(range(12))
    huffman = b"\xff\xc4" + struct.pack(">H", 2 + len(huffman_table) * 300) + huffman_table * 300
    path = tmp_path / "table-flood.jpg"
    path.write_bytes(data[:2] + quant * 5 + huffman * 5 + data[2:])

    result = jpeg_structure_read(path)

    assert len(result.quant_tables) == 64 and len(result.huffman_tables) == 256
    codes = [issue.code for issue in result.issues]
    assert codes.count("too_many_quantisation_tables") == 1 and codes.count("too_many_huffman_tables") == 1
    assert result.frame is not None and (result.frame.width, result.frame.height) == (16, 16)
