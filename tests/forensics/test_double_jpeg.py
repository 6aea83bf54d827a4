"""The double JPEG estimate's reading and counting: the luminance read without jpeglib's preliminary pass gives
jpeglib's coefficients, headers that pass refuses still fail as before, and the histograms counted from thresholds
are those of quantising every value."""

from __future__ import annotations

import io
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import jpeglib
import numpy as np
import pytest
from PIL import Image

from forensics.analysers import double_jpeg
from forensics.analysers.double_jpeg import (
    _DCT,
    _GRID,
    HISTOGRAM_REACH,
    MAX_PRIMARY_STEP,
    POSITIONS,
    ZIGZAG_TO_NATURAL,
    _luminance,
    _predicted_counts,
    _shifted_reference,
    double_jpeg_estimate,
)
from forensics.analysers.jpeg_tables import STANDARD_LUMINANCE, estimate_quality, ijg_scaled

from .test_encoding import scene


def jpeg_bytes(**options: object) -> bytes:
    buffer = io.BytesIO()
    scene(320, 240).save(buffer, "JPEG", **options)
    return buffer.getvalue()


def with_segments(data: bytes, segment: bytes, count: int) -> bytes:
    """`data` with `count` copies of a marker segment right after SOI."""
    return data[:2] + segment * count + data[2:]


def with_sampling(data: bytes, factors: list[int]) -> bytes:
    """`data` with the frame header's sampling bytes (horizontal << 4 | vertical) replaced, one per component."""
    start = data.index(b"\xff\xc0")
    frame = bytearray(data)
    for component, factor in enumerate(factors):
        frame[start + 11 + 3 * component] = factor
    return bytes(frame)


def written(tmp_path: Path, data: bytes, name: str = "test.jpg") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


@pytest.mark.parametrize(
    "options",
    [
        {"subsampling": 0, "quality": 90},
        {"subsampling": 1, "quality": 75},
        {"subsampling": 2, "quality": 50, "progressive": True},
        {"subsampling": 2, "quality": 85, "restart_marker_blocks": 3},
    ],
    ids=["4:4:4", "4:2:2", "4:2:0 progressive", "restart markers"],
)
def test_luminance_is_what_jpeglib_reads(tmp_path: Path, options: dict) -> None:
    path = written(tmp_path, jpeg_bytes(**options))
    expected = jpeglib.read_dct(str(path))
    with Image.open(path) as image:
        coefficients, table = _luminance(path, image)
    np.testing.assert_array_equal(coefficients, expected.Y)
    np.testing.assert_array_equal(table, expected.qt[expected.quant_tbl_no[0]])


def test_grayscale_luminance_is_what_jpeglib_reads(tmp_path: Path) -> None:
    path = tmp_path / "gray.jpg"
    scene(200, 136).convert("L").save(path, "JPEG", quality=80)
    expected = jpeglib.read_dct(str(path))
    with Image.open(path) as image:
        coefficients, table = _luminance(path, image)
    np.testing.assert_array_equal(coefficients, expected.Y)
    np.testing.assert_array_equal(table, expected.qt[0])


@pytest.mark.parametrize(
    "header",
    [
        pytest.param(lambda data: with_sampling(data, [0x31, 0x21, 0x11]), id="3:2 sampling"),
        pytest.param(lambda data: with_segments(data, b"\xff\xfe\x00\x00", 1), id="comment length 0"),
    ],
)
def test_headers_jpeglib_refuses_fail_as_they_did(tmp_path: Path, header) -> None:
    """Coefficients libjpeg could read, behind a header jpeglib's preliminary pass refuses: still unreadable."""
    path = written(tmp_path, header(jpeg_bytes(subsampling=0)))
    with pytest.raises(Exception) as refused:
        _ = jpeglib.read_dct(str(path)).Y
    estimate = double_jpeg_estimate(path)
    assert estimate.analysed is False
    assert estimate.reason == f"coefficients unreadable: {type(refused.value).__name__}"


@pytest.mark.parametrize(
    "segments",
    [
        b"\xff\xfe\x00\x03x" * 49,
        b"\xff\xe5\x00\x02",
        b"\xff\xfe\x00\x01",
        b"\xff\xfe\x00\x02\xff\xe1" + (60_002).to_bytes(2, "big") + bytes(60_000),
    ],
    ids=["JFIF and 49 comments", "empty APP5", "comment length 1", "empty comment, then a large APP1"],
)
def test_extra_segments_leave_the_coefficients_jpeglib_reads(tmp_path: Path, segments: bytes) -> None:
    """Compared with jpeglib's read of the file without them: jpeglib's own segment listing overruns its buffer
    on a length field 1 or on an empty segment followed by a larger one, and the large one crashed the process."""
    data = jpeg_bytes(subsampling=2)
    expected = jpeglib.read_dct(str(written(tmp_path, data, "plain.jpg")))
    path = written(tmp_path, with_segments(data, segments, 1))
    with Image.open(path) as image:
        coefficients, table = _luminance(path, image)
    np.testing.assert_array_equal(coefficients, expected.Y)
    np.testing.assert_array_equal(table, expected.qt[expected.quant_tbl_no[0]])


def test_a_negative_listed_length_is_the_value_error_jpeglib_gave(tmp_path: Path) -> None:
    """A length field 1 counts -1 in jpeglib's sum of the segments listed before an empty one."""
    path = written(tmp_path, with_segments(jpeg_bytes(), b"\xff\xfe\x00\x01\xff\xfe\x00\x02", 1))
    with pytest.raises(ValueError):
        _ = jpeglib.read_dct(str(path)).Y
    assert double_jpeg_estimate(path).reason == "coefficients unreadable: ValueError"


def test_more_than_fifty_segments_are_unreadable_as_jpeglib_answers_when_it_survives(tmp_path: Path) -> None:
    """jpeglib's preliminary pass fails on a 51st APPn/COM segment, after writing past its arrays (which can abort
    the process later): the answer is given here without calling it."""
    path = written(tmp_path, with_segments(jpeg_bytes(), b"\xff\xfe\x00\x03x", 50))  # and the JFIF segment
    estimate = double_jpeg_estimate(path)
    assert estimate.analysed is False
    assert estimate.reason == "coefficients unreadable: OSError"


def test_a_header_libjpeg_refuses_is_unreadable_not_a_crash(tmp_path: Path) -> None:
    """jpeglib's coefficient reader alone closes an unopened file when libjpeg refuses the header."""
    data = bytearray(jpeg_bytes())
    table = data.index(b"\xff\xdb")
    data[table + 4] = 0x0F  # quantisation table number 15
    estimate = double_jpeg_estimate(written(tmp_path, bytes(data)))
    assert estimate.analysed is False
    assert estimate.reason == "coefficients unreadable: OSError"


def test_a_zero_quantisation_step_is_not_analysed_rather_than_an_error(tmp_path: Path) -> None:
    """A luminance table with step 0 for an examined coefficient (libjpeg reads it): no estimate, the reason given."""
    data = bytearray(jpeg_bytes(quality=75))
    table = data.index(b"\xff\xdb")
    data[table + 5 + 1] = 0  # zig-zag position 1: coefficient (0, 1)
    estimate = double_jpeg_estimate(written(tmp_path, bytes(data)))
    assert estimate.analysed is False
    assert estimate.reason == "quantisation step 0 for coefficient (0, 1)"


def quantised_every_value(values: np.ndarray, last_step: int) -> np.ndarray:
    """The counts by their definition: each value quantised by every hypothesis, values beyond the reach dropped."""
    steps = np.arange(1, MAX_PRIMARY_STEP + 1, dtype=np.float64)[:, np.newaxis]
    predicted = np.vstack([np.round(values / last_step), np.round(np.round(values / steps) * steps / last_step)])
    counts = [
        np.bincount(row[np.abs(row) <= HISTOGRAM_REACH].astype(np.intp) + HISTOGRAM_REACH, minlength=61)
        for row in predicted
    ]
    return np.array(counts, dtype=np.float64)


def around(values: np.ndarray, ulps: int = 3) -> list[np.ndarray]:
    """`values`, and the `ulps` representable numbers below and above each."""
    below, above, found = values, values, [values]
    for _ in range(ulps):
        below, above = np.nextafter(below, -np.inf), np.nextafter(above, np.inf)
        found += [below, above]
    return found


@pytest.mark.parametrize("last_step", [1, 2, 3, 7, 12, 40, 99, 255, 4000])
def test_counts_from_thresholds_are_those_of_quantising_each(last_step: int) -> None:
    rng = np.random.default_rng(last_step)
    values = np.concatenate(
        [
            rng.normal(0, 20 * last_step, 20_000).clip(-1024, 1024),
            # Values on the rounding boundaries of every step, and up to three representable numbers either side.
            *around(np.concatenate([(np.arange(-60, 60) + 0.5) * step for step in (*range(1, 41), last_step)])),
            # Multiples of 1/8: what the DCT gives for some coefficients of whole-number pixels.
            np.arange(-2000, 2000) / 8,
        ]
    )
    values = rng.permutation(values[np.abs(values) <= 1024])
    np.testing.assert_array_equal(_predicted_counts(values, last_step), quantised_every_value(values, last_step))


def test_quality_estimate_prefers_the_highest_of_equally_close_qualities() -> None:
    table = ijg_scaled(STANDARD_LUMINANCE, 100)  # all ones: also what qualities 98 and 99 scale to
    assert estimate_quality(table, 0).estimated_quality == 100
    assert estimate_quality(table, 0).standard_ijg
    assert estimate_quality((), 0).estimated_quality == 100
    assert estimate_quality(ijg_scaled(STANDARD_LUMINANCE, 75), 0).estimated_quality == 75


def test_estimates_in_parallel_threads_are_those_made_one_at_a_time(tmp_path: Path) -> None:
    """jpeglib collects the header segments in process-wide arrays; the pipeline runs analysers in threads."""
    paths = [
        written(tmp_path, with_segments(jpeg_bytes(quality=quality), b"\xff\xfe\x00\x10" + bytes(14), count), name)
        for quality, count, name in [(70, 3, "a.jpg"), (85, 30, "b.jpg"), (90, 49, "c.jpg"), (60, 0, "d.jpg")]
    ]
    one_at_a_time = [double_jpeg_estimate(path) for path in paths]
    with ThreadPoolExecutor(max_workers=8) as pool:
        in_parallel = list(pool.map(double_jpeg_estimate, paths * 4))
    assert in_parallel == one_at_a_time * 4


def _resident_mib() -> int:
    return int(Path("/proc/self/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE") >> 20


def test_segments_of_a_header_libjpeg_refuses_are_freed(tmp_path: Path) -> None:
    """jpeglib keeps each collected APPn/COM segment in memory it frees only after a header read to the end: a
    refused header left them allocated, some 2.7 MB per such file here, for the life of the analysing process."""
    data = bytearray(jpeg_bytes())
    table = data.index(b"\xff\xdb")
    data[table + 4] = 0x0F  # quantisation table number 15: refused after the segments were collected
    segment = b"\xff\xe1" + (60_002).to_bytes(2, "big") + bytes(60_000)
    path = written(tmp_path, with_segments(bytes(data), segment, 45))
    assert double_jpeg_estimate(path).reason == "coefficients unreadable: OSError"
    before = _resident_mib()
    for _ in range(40):
        double_jpeg_estimate(path)
    assert _resident_mib() - before < 20  # 40 files kept about 100 MiB


def every_shifted_coefficient(window: np.ndarray, table: np.ndarray) -> np.ndarray:
    """The shifted reference by its definition: each 8x8 block decoded (D.T @ block @ D) and snapped to the grid,
    the pixels rounded and clipped, the picture cropped by 4 pixels, and all 64 coefficients of each new block
    (D @ block @ D.T), snapped to the grid."""
    height, width = window.shape[:2]
    decoded = np.matmul(_DCT.T, np.matmul(window * table, _DCT))
    pixels = np.clip(np.round(np.round(decoded * _GRID) / _GRID + 128), 0, 255)
    plane = pixels.transpose(0, 2, 1, 3).reshape(height * 8, width * 8)
    shifted = plane[4 : 4 + (height - 1) * 8, 4 : 4 + (width - 1) * 8] - 128
    blocks = shifted.reshape(height - 1, 8, width - 1, 8).transpose(0, 2, 1, 3)
    return np.round(np.matmul(_DCT, np.matmul(blocks, _DCT.T)).reshape(-1, 64) * _GRID) / _GRID


@pytest.mark.parametrize("quality", [60, 95])
def test_the_shifted_reference_of_the_examined_positions_is_that_of_every_coefficient(
    tmp_path: Path, quality: int
) -> None:
    """Only the corner of each block that positions 1..14 use is transformed: the same values, to the bit, although
    the products' shapes (and so, on some CPUs, their last bits) differ."""
    path = written(tmp_path, jpeg_bytes(quality=quality))
    with Image.open(path) as image:
        coefficients, table = _luminance(path, image)
    window, table = coefficients.astype(np.float64), table.astype(np.float64)
    places = [divmod(ZIGZAG_TO_NATURAL[position], 8) for position in POSITIONS]

    examined = _shifted_reference(window, table, places)

    expected = every_shifted_coefficient(window, table)[:, [row * 8 + column for row, column in places]].T
    np.testing.assert_array_equal(examined, expected)


def summed_in_order(order: slice):
    """np.matmul computed as products summed along the inner dimension in `order`: an order of additions BLAS
    (whose order depends on the CPU and the shapes) may or may not take, so the last bits of the sums differ."""

    def matmul(left: np.ndarray, right: np.ndarray) -> np.ndarray:
        products = np.asarray(left)[..., :, :, np.newaxis] * np.asarray(right)[..., np.newaxis, :, :]
        return products[..., order, :].sum(axis=-2)

    return matmul


@pytest.mark.parametrize("order", [slice(None), slice(None, None, -1)], ids=["forward", "backward"])
def test_the_estimate_does_not_depend_on_the_order_the_products_are_summed_in(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, order: slice
) -> None:
    """A flat block decodes to pixels at k + 1/2, and coefficients (4, 0) and (0, 4) of whole-number pixels are
    multiples of 1/8 on quantisation thresholds: rounding ties, which the last bits of a sum would decide."""
    # Given a photo-like picture with flat areas, compressed twice
    picture = scene(640, 480, seed=5)
    picture.paste((128, 128, 128), (0, 0, 320, 240))
    first = io.BytesIO()
    picture.save(first, "JPEG", quality=70)
    path = tmp_path / "twice.jpg"
    Image.open(first).save(path, "JPEG", quality=90)
    expected = double_jpeg_estimate(path)

    # When the matrix products are summed in another order
    monkeypatch.setattr(double_jpeg.np, "matmul", summed_in_order(order))
    estimate = double_jpeg_estimate(path)

    # Then the estimate is the same, coefficient for coefficient
    assert estimate.analysed and estimate == expected


@pytest.mark.parametrize("stray", [np.nan, np.inf, -1026.0])
def test_a_reference_value_no_8_bit_block_can_give_is_an_arithmetic_error(stray: float) -> None:
    values = np.array([0.25, stray, -3.5, 12.0])

    with pytest.raises(ArithmeticError, match="beyond its bound"):
        _predicted_counts(values, 7)
