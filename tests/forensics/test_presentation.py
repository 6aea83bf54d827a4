"""What the evidence page and the report show of a stored result: key facts of the capture, metadata groups in
reading order, binary values described by their size (never ExifTool's command-line hint), dates as ISO 8601."""

from pathlib import Path

from PIL import Image

from cases.demo_media import camera_jpeg_create
from forensics.analysers.pipeline import analyse_file
from forensics.presentation import iso_dates, key_facts, metadata_groups, value_display
from tests.forensics.conftest import exiftool_write


def _result(path: Path) -> dict:
    return analyse_file(path).to_dict()


def test_key_facts_of_a_camera_jpeg_give_device_time_with_offset_position_and_size(tmp_path):
    facts = dict(key_facts(_result(camera_jpeg_create(tmp_path))))

    assert facts["Device"] == "Canon PowerShot G7 X Mark III"
    assert facts["Capture time"] == "2024-03-14T21:07:33.42+01:00"
    # 51°30'26" N, 0°7'39" W as ExifTool prints them, in signed decimal degrees.
    assert facts["GPS position"] == "51.507219, -0.127500"
    assert facts["Dimensions"] == "640 × 480 pixels"
    assert facts["Software"] == "not recorded"
    assert facts["Duration"] == "not recorded"


def test_key_facts_of_a_video_give_its_duration_and_software(ffmpeg_mp4):
    facts = dict(key_facts(_result(ffmpeg_mp4)))

    assert facts["Dimensions"] == "160 × 120 pixels"
    assert facts["Duration"] != "not recorded"
    assert "Lavf" in facts["Software"]


def test_capture_time_without_an_offset_says_so(tmp_path):
    path = tmp_path / "no-offset.jpg"
    Image.new("RGB", (32, 32)).save(path)
    exiftool_write(path, "-DateTimeOriginal=2023:01:02 03:04:05")

    assert dict(key_facts(_result(path)))["Capture time"] == "2023-01-02T03:04:05 (no time-zone offset recorded)"


def test_binary_values_are_described_by_size_without_exiftools_hint(tmp_path):
    path = camera_jpeg_create(tmp_path)
    thumbnail = tmp_path / "thumb.jpg"
    Image.new("RGB", (160, 120), (10, 20, 30)).save(thumbnail)
    exiftool_write(path, f"-ThumbnailImage<={thumbnail}")

    groups = {group.name: group for group in metadata_groups(_result(path))}

    rows = dict(groups["IFD1"].rows)
    assert rows["ThumbnailImage"] == f"{thumbnail.stat().st_size:,} bytes of binary data"
    assert groups["IFD1"].binary_count == 1
    assert not any("-b option" in value for group in groups.values() for _name, value in group.rows)


def test_stored_summaries_and_short_base64_read_the_same_way():
    assert value_display("(Binary data 32 bytes, use -b option to extract)") == ("32 bytes of binary data", True)
    assert value_display("(Binary data 70000 bytes, summarised)") == ("70,000 bytes of binary data", True)
    assert value_display("base64:AAECAw==") == ("4 bytes of binary data", True)
    assert value_display("(Binary data 1 bytes, use -b option to extract)") == ("1 byte of binary data", True)


def test_exif_dates_read_as_iso_8601_in_values_and_sentences():
    assert value_display("2024:03:16 10:42:05") == ("2024-03-16T10:42:05", False)
    assert iso_dates("modified on '2024:03:16 10:42:05+02:00', after '2024:03:14 21:07:33.42'") == (
        "modified on '2024-03-16T10:42:05+02:00', after '2024-03-14T21:07:33.42'"
    )
    assert iso_dates("ratio 16:9 at 12:00:00") == "ratio 16:9 at 12:00:00"


def test_groups_come_in_reading_order_and_copies_count_numerically():
    tags = {
        "Composite:ImageSize": "1x1",
        "XMP-xmp:CreatorTool": "x",
        "ExifTool:Copy10:Warning": "w10",
        "ExifTool:Copy2:Warning": "w2",
        "ExifTool:Copy1:Warning": "w1",
        "ExifTool:Warning": "w0",
        "GPS:GPSVersionID": "2.3.0.0",
        "IFD0:Make": "Canon",
        "File:FileType": "JPEG",
        "ExifIFD:ISO": 100,
        "MakerNotes:Copy1:Foo": 1,
    }

    names = [group.name for group in metadata_groups({"exiftool": {"tags": tags}})]

    assert names == [
        "File",
        "IFD0",
        "ExifIFD",
        "GPS",
        "MakerNotes:Copy1",
        "XMP-xmp",
        "Composite",
        "ExifTool",
        "ExifTool:Copy1",
        "ExifTool:Copy2",
        "ExifTool:Copy10",
    ]
