"""Our JPEG marker walk on JPEGs generated with Pillow and ExifTool."""

from __future__ import annotations

import io
from pathlib import Path

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
