"""Double JPEG compression: estimate an earlier (primary) quantisation from the luminance DCT coefficients.

Lukáš and Fridrich's primary-quantisation estimation: a JPEG decoded and compressed again with table Q2 keeps,
in the histogram of each DCT coefficient, the periodic trace of the first table Q1. The unquantised
distribution is approximated by the DCT of the decoded image shifted 4 pixels off the block grid (which breaks
the earlier quantisation's lattice); quantising that with every candidate q1 and then with Q2 predicts the
histogram a double compression would leave. When some q1 other than Q2 predicts the observed histogram much
better than a single compression with Q2, the coefficient carries a primary quantisation step.

Coefficients come from libjpeg through `jpeglib.read_dct` (no pixel decoding by us); only a central window of
blocks is examined, so time and memory stay bounded for any image size.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image

from .jpeg_tables import STANDARD_LUMINANCE, ZIGZAG_TO_NATURAL, estimate_quality, ijg_scaled

DOUBLE_JPEG_VERSION = "double-jpeg/1"

# Refuse images whose coefficient arrays alone would take hundreds of megabytes.
MAX_PIXELS = 80_000_000
# A central window of at most this many blocks per side (1,024 pixels): plenty of samples, bounded time.
WINDOW_BLOCKS = 128
MIN_BLOCKS_PER_SIDE = 16
# Low-frequency AC coefficients (zig-zag positions 1..14): small steps and enough non-zero values.
POSITIONS = tuple(range(1, 15))
HISTOGRAM_REACH = 30
MAX_PRIMARY_STEP = 40
# A coefficient needs this many non-zero values before its histogram says anything.
MIN_NONZERO = 500

_PRIMARY_STEPS = np.arange(1, MAX_PRIMARY_STEP + 1, dtype=np.float64)[:, np.newaxis]
_N = 8
_DCT = np.array(
    [
        [np.sqrt((1 if u == 0 else 2) / _N) * np.cos((2 * x + 1) * u * np.pi / (2 * _N)) for x in range(_N)]
        for u in range(_N)
    ]
)


@dataclass
class CoefficientEstimate:
    """One DCT coefficient: its last step (Q2), the best primary step and how well each hypothesis fits.

    Errors are L1 distances between normalised histograms (0 = identical, 2 = disjoint).
    """

    position: int
    row: int
    column: int
    last_step: int
    primary_step: int
    single_error: float
    double_error: float


@dataclass
class DoubleJpegEstimate:
    analysed: bool
    reason: str | None = None
    blocks_examined: int = 0
    coefficients: list[CoefficientEstimate] = field(default_factory=list)
    # The IJG quality closest to the luminance table the file was last saved with.
    last_quality: int | None = None

    def periodic(self, min_improvement: float, max_ratio: float) -> list[CoefficientEstimate]:
        """Coefficients whose histogram a primary step explains clearly better than a single compression."""
        return [
            item
            for item in self.coefficients
            if item.primary_step != item.last_step
            and item.single_error - item.double_error >= min_improvement
            and item.double_error <= max_ratio * item.single_error
        ]


def double_jpeg_estimate(path: str | Path) -> DoubleJpegEstimate:
    """Estimate the primary quantisation of a JPEG's luminance; never raises on malformed input."""
    import jpeglib  # imported here: loading libjpeg is only worth it for JPEGs

    try:
        with Image.open(path) as image:  # reads the header only: the size is checked before libjpeg allocates
            if image.format != "JPEG":
                return DoubleJpegEstimate(analysed=False, reason="not a JPEG")
            if image.width * image.height > MAX_PIXELS:
                return DoubleJpegEstimate(analysed=False, reason=f"more than {MAX_PIXELS:,} pixels")
        dct = jpeglib.read_dct(str(path))
        coefficients = np.asarray(dct.Y)
        table = np.asarray(dct.qt[dct.quant_tbl_no[0]] if dct.quant_tbl_no is not None else dct.qt[0])
    except Exception as failure:  # libjpeg refuses damaged or exotic files (12-bit, arithmetic, lossless)
        return DoubleJpegEstimate(analysed=False, reason=f"coefficients unreadable: {type(failure).__name__}")
    return _estimate(coefficients, table.astype(np.float64))


def _estimate(coefficients: np.ndarray, table: np.ndarray) -> DoubleJpegEstimate:
    rows, columns = coefficients.shape[:2]
    if min(rows, columns) < MIN_BLOCKS_PER_SIDE:
        return DoubleJpegEstimate(analysed=False, reason="image too small")
    height, width = min(rows, WINDOW_BLOCKS), min(columns, WINDOW_BLOCKS)
    top, left = (rows - height) // 2, (columns - width) // 2
    window = coefficients[top : top + height, left : left + width].astype(np.float64)
    reference = _shifted_reference(window, table)
    result = DoubleJpegEstimate(analysed=True, blocks_examined=height * width)
    for position in POSITIONS:
        row, column = divmod(ZIGZAG_TO_NATURAL[position], _N)
        observed = window[:, :, row, column].ravel()
        if np.count_nonzero(observed) < MIN_NONZERO:
            continue
        last_step = int(table[row, column])
        unquantised = reference[:, :, row, column].ravel()
        # Row 0: a single compression with Q2; row q1: a first compression with step q1, then Q2.
        predicted = np.empty((MAX_PRIMARY_STEP + 1, unquantised.size))
        predicted[0] = np.round(unquantised / last_step)
        predicted[1:] = _requantised(unquantised, _PRIMARY_STEPS, last_step)
        distances = np.abs(_histograms(observed[np.newaxis, :]) - _histograms(predicted)).sum(axis=1)
        single = float(distances[0])
        errors = {step: float(distances[step]) for step in range(1, MAX_PRIMARY_STEP + 1)}
        primary = min(errors, key=lambda step: (round(errors[step], 6), step))
        result.coefficients.append(
            CoefficientEstimate(
                position=position,
                row=row,
                column=column,
                last_step=last_step,
                primary_step=primary,
                single_error=round(single, 4),
                double_error=round(min(errors[primary], single), 4),
            )
        )
    zigzag = tuple(int(table.flat[index]) for index in ZIGZAG_TO_NATURAL)
    result.last_quality = estimate_quality(zigzag, 0).estimated_quality
    return result


def estimated_primary_quality(periodic: list[CoefficientEstimate]) -> int | None:
    """The IJG quality whose luminance steps are closest to the primary steps found in `periodic`."""
    return _closest_quality({item.position: item.primary_step for item in periodic})


def _shifted_reference(window: np.ndarray, table: np.ndarray) -> np.ndarray:
    """DCT of the decoded window cropped by 4 pixels: the coefficients as if never quantised on this grid."""
    height, width = window.shape[:2]
    pixels = _separable(_DCT.T, window * table, _DCT) + 128
    pixels = np.clip(np.round(pixels), 0, 255).transpose(0, 2, 1, 3).reshape(height * _N, width * _N)
    shifted = pixels[4 : 4 + (height - 1) * _N, 4 : 4 + (width - 1) * _N] - 128
    blocks = shifted.reshape(height - 1, _N, width - 1, _N).transpose(0, 2, 1, 3)
    return _separable(_DCT, blocks, _DCT.T)


def _separable(left: np.ndarray, blocks: np.ndarray, right: np.ndarray) -> np.ndarray:
    """left @ block @ right for every 8x8 block of a (rows, columns, 8, 8) array.

    Stacked matrix products: numpy's own loop over the small blocks, not BLAS, whose threads only contend for
    the cores that the other analysers of the same file are using.
    """
    return np.matmul(left, np.matmul(blocks, right))


def _requantised(values: np.ndarray, primary_steps: np.ndarray, last_step: int) -> np.ndarray:
    return np.round(np.round(values / primary_steps) * primary_steps / last_step)


def _histograms(rows: np.ndarray) -> np.ndarray:
    """For each row, the normalised counts of the integer values -HISTOGRAM_REACH..HISTOGRAM_REACH (others
    ignored), all rows counted by one bincount."""
    # Values beyond the reach are clipped into one extra bin on each side, counted and then dropped.
    width = 2 * HISTOGRAM_REACH + 3
    bins = np.clip(rows, -HISTOGRAM_REACH - 1, HISTOGRAM_REACH + 1).astype(np.intp) + (HISTOGRAM_REACH + 1)
    bins += width * np.arange(rows.shape[0], dtype=np.intp)[:, np.newaxis]
    counts = np.bincount(bins.ravel(), minlength=width * rows.shape[0]).reshape(rows.shape[0], width)
    counts = counts[:, 1:-1].astype(np.float64)
    totals = counts.sum(axis=1, keepdims=True)
    return np.divide(counts, totals, out=counts.copy(), where=totals > 0)


def _closest_quality(steps: dict[int, int]) -> int | None:
    if not steps:
        return None

    def distance(quality: int) -> int:
        table = ijg_scaled(STANDARD_LUMINANCE, quality)
        return sum(abs(table[position] - step) for position, step in steps.items())

    return min(range(1, 101), key=lambda quality: (distance(quality), -quality))
