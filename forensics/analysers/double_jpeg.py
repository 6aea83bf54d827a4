"""Double JPEG compression: estimate an earlier (primary) quantisation from the luminance DCT coefficients.

Lukáš and Fridrich's primary-quantisation estimation: a JPEG decoded and compressed again with table Q2 keeps,
in the histogram of each DCT coefficient, the periodic trace of the first table Q1. The unquantised
distribution is approximated by the DCT of the decoded image shifted 4 pixels off the block grid (which breaks
the earlier quantisation's lattice); quantising that with every candidate q1 and then with Q2 predicts the
histogram a double compression would leave. When some q1 other than Q2 predicts the observed histogram much
better than a single compression with Q2, the coefficient carries a primary quantisation step.

Coefficients come from the libjpeg 6b that jpeglib bundles (no pixel decoding by us; see `_luminance`); only a
central window of blocks is examined, so the estimate's time and memory stay bounded for any image size (libjpeg
still reads every coefficient of the file).
"""

from __future__ import annotations

import ctypes
import functools
import itertools
import threading
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image

from .jpeg_tables import IJG_TABLES, ZIGZAG_TO_NATURAL, estimate_quality

# 2: the decoded pixels and the shifted reference snapped to a grid of 2**-20 (`_snapped`), so that rounding ties
# are the same on every machine (1 left them to the matrix products' last bits).
DOUBLE_JPEG_VERSION = "double-jpeg/2"

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

# jpeglib's MAX_MARKER: the APPn/COM segments it collects.
_MAX_MARKERS = 50
# jpeglib collects APPn/COM segments in process-wide arrays: one collection at a time.
_MARKERS_LOCK = threading.Lock()
_N = 8
_DCT = np.array(
    [
        [np.sqrt((1 if u == 0 else 2) / _N) * np.cos((2 * x + 1) * u * np.pi / (2 * _N)) for x in range(_N)]
        for u in range(_N)
    ]
)
# Matrix products sum in an order that BLAS chooses by CPU and by the matrices' shapes, so the same file's values
# come out a few units in the last place apart from one machine (or one shape of product) to another. Values that
# are exact in real arithmetic and sit on a rounding tie then round either way: a flat block's pixels at k + 1/2,
# and the coefficients (4, 0) and (0, 4) of whole-number pixels, multiples of 1/8, on a quantisation threshold
# (k - 1/2) * step. Such ties are common: on one AMD EPYC, 143 of 202 JPEGs' estimates changed with the products'
# shapes. On a grid of 2**-20, far coarser than that noise (about 1e-13 here) and far finer than any step, they are
# the same everywhere.
_GRID = 2.0**20


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
    try:
        with Image.open(path) as image:  # reads the header only: the size is checked before libjpeg allocates
            if image.format != "JPEG":
                return DoubleJpegEstimate(analysed=False, reason="not a JPEG")
            if image.width * image.height > MAX_PIXELS:
                return DoubleJpegEstimate(analysed=False, reason=f"more than {MAX_PIXELS:,} pixels")
            coefficients, table = _luminance(path, image)
    except Exception as failure:  # libjpeg refuses damaged or exotic files (12-bit, arithmetic, lossless)
        return DoubleJpegEstimate(analysed=False, reason=f"coefficients unreadable: {type(failure).__name__}")
    return _estimate(coefficients, table.astype(np.float64))


def _luminance(path: str | Path, image: Image.Image) -> tuple[np.ndarray, np.ndarray]:
    """The luminance DCT coefficients, (block rows, block columns, 8, 8), and their quantisation table (8, 8).

    Read by the libjpeg 6b build jpeglib bundles, as `jpeglib.read_dct` read them, with what that function does
    before reading kept only where it decides the outcome. `read_dct` first ran a pass of its own over the whole
    file (libjpeg set up for pixels, every scan entropy-decoded, the APPn/COM segments collected) only to learn
    the block counts, then copied the file to a temporary file and read all components from it. The block counts
    follow from the frame header Pillow has parsed; the header and segments are read by jpeglib's own function
    (its coefficient reader alone crashes the process on a header libjpeg refuses), and the preliminary pass's
    refusals are given as it gave them: more than 50 segments, sampling ratios libjpeg cannot upsample, and the
    ValueError of its segment listing (see `_refuse_as_jpeglib_listing`).
    """
    from jpeglib._bind import CJpegLib  # imported here: loading libjpeg is only worth it for JPEGs

    if len(image.applist) > _MAX_MARKERS:
        # The preliminary pass fails on the 51st segment, after writing past its arrays (which could abort later).
        raise OSError(f"more than {_MAX_MARKERS} APPn/COM segments")
    library = CJpegLib.get()
    file_name = ctypes.c_char_p(str(path).encode("utf-8"))
    # Each segment is copied whole into one buffer: at most _MAX_MARKERS of at most 65,533 bytes, each placed after
    # the previous one's length less 2, which moves the next one back a byte for a length field 1 (hence a margin).
    segments = np.zeros(_MAX_MARKERS + _MAX_MARKERS * 65_535, dtype=np.uint8)
    start = ctypes.cast(segments.ctypes.data + _MAX_MARKERS, ctypes.POINTER(ctypes.c_ubyte))
    with _MARKERS_LOCK:  # jpeglib collects them in process-wide arrays
        header_read = library.read_jpeg_markers(file_name, start)
        if not header_read:
            # A refused header skips jpeglib's release of the segments collected so far: released here.
            library.unset_marker_handlers(None)
    if not header_read:
        raise OSError(f"libjpeg could not read the header of {path}")
    if not _integer_sampling(image):
        raise OSError("libjpeg 6b upsamples only by whole factors")
    if not all(data for _, data in image.applist):
        _refuse_as_jpeglib_listing(path)
    rows, columns = _luminance_blocks(image)
    coefficients = np.empty((rows, columns, _N, _N), dtype=np.int16)
    tables = np.zeros((4, _N, _N), dtype=np.uint16)
    table_of_component = np.zeros(4, dtype=np.int16)
    read = library.read_jpeg_dct(
        file_name,
        coefficients.ctypes.data_as(ctypes.POINTER(ctypes.c_short)),
        None,
        None,
        None,
        tables.ctypes.data_as(ctypes.POINTER(ctypes.c_ushort)),
        table_of_component.ctypes.data_as(ctypes.POINTER(ctypes.c_short)),
    )
    if not read:
        raise OSError(f"libjpeg could not read the coefficients of {path}")
    return coefficients, tables[table_of_component[0]]


def _integer_sampling(image: Image.Image) -> bool:
    """Whether every component's sampling factors divide the largest ones (libjpeg 6b's upsampler refuses the rest;
    libjpeg has already refused factors outside 1..4)."""
    max_horizontal, max_vertical = _largest_sampling(image)
    return all(
        max_horizontal % horizontal == 0 and max_vertical % vertical == 0 for _, horizontal, vertical, _ in image.layer
    )


def _luminance_blocks(image: Image.Image) -> tuple[int, int]:
    """Rows and columns of 8x8 blocks of the first component, as libjpeg's jdinput.c counts them."""
    _, horizontal, vertical, _ = image.layer[0]
    max_horizontal, max_vertical = _largest_sampling(image)
    return (
        -(-image.height * vertical // (max_vertical * _N)),
        -(-image.width * horizontal // (max_horizontal * _N)),
    )


def _largest_sampling(image: Image.Image) -> tuple[int, int]:
    """The largest horizontal and vertical sampling factors of the components (Pillow's `layer`: id, horizontal,
    vertical, table)."""
    return max(layer[1] for layer in image.layer), max(layer[2] for layer in image.layer)


def _refuse_as_jpeglib_listing(path: str | Path) -> None:
    """jpeglib lists the collected segments up to the first empty one (length field 2) and sizes its buffer by the
    sum of their lengths, a segment with length field 1 counting -1: a negative sum was a ValueError. (It then
    copied every collected segment into that buffer, which crashed the process when a larger segment followed
    the empty one; such files are read here as the others are.)"""
    listed = itertools.takewhile(lambda length: length != 2, _segment_lengths(path))
    if sum(length - 2 for length in listed) < 0:
        raise ValueError("jpeglib's listing of the APPn/COM segments sums to a negative length")


# Markers without a length field, as Pillow's and libjpeg's header readers take them.
_NO_LENGTH = {0x01, *range(0xD0, 0xDA), 0xC8, *range(0xF0, 0xFE)}


def _segment_lengths(path: str | Path) -> list[int]:
    """The length fields of the APPn and COM segments before the first scan, walking the header as Pillow's JPEG
    reader does (a field under 2 reads as an empty segment there, and jpeglib reads no data for it either)."""
    data = Path(path).read_bytes()
    lengths, position = [], 2
    while position + 1 < len(data):
        if data[position] != 0xFF or data[position + 1] == 0xFF:  # junk, or fill bytes before a marker
            position += 1
            continue
        marker = data[position + 1]
        if marker == 0xDA:
            break
        if marker == 0x00 or marker in _NO_LENGTH:
            position += 2
            continue
        length = int.from_bytes(data[position + 2 : position + 4], "big")
        if 0xE0 <= marker <= 0xEF or marker == 0xFE:
            lengths.append(length)
        position += 2 + max(length, 2)
    return lengths


def _estimate(coefficients: np.ndarray, table: np.ndarray) -> DoubleJpegEstimate:
    rows, columns = coefficients.shape[:2]
    if min(rows, columns) < MIN_BLOCKS_PER_SIDE:
        return DoubleJpegEstimate(analysed=False, reason="image too small")
    height, width = min(rows, WINDOW_BLOCKS), min(columns, WINDOW_BLOCKS)
    top, left = (rows - height) // 2, (columns - width) // 2
    window = coefficients[top : top + height, left : left + width].astype(np.float64)
    result = DoubleJpegEstimate(analysed=True, blocks_examined=height * width)
    places = [divmod(ZIGZAG_TO_NATURAL[position], _N) for position in POSITIONS]
    observed_all = _by_position(window, places)
    unquantised_all = _shifted_reference(window, table, places)
    for position, (row, column), observed, unquantised in zip(
        POSITIONS, places, observed_all, unquantised_all, strict=True
    ):
        if np.count_nonzero(observed) < MIN_NONZERO:
            continue
        last_step = int(table[row, column])
        if last_step == 0:  # libjpeg 6b takes a table with a zero step; nothing was quantised by it
            return DoubleJpegEstimate(analysed=False, reason=f"quantisation step 0 for coefficient ({row}, {column})")
        predicted = _predicted_counts(unquantised, last_step)
        distances = np.abs(_histograms(observed[np.newaxis, :]) - _normalised(predicted)).sum(axis=1)
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


def _by_position(blocks: np.ndarray, places: list[tuple[int, int]]) -> np.ndarray:
    """The values of each (row, column) coefficient over all blocks: one contiguous row per place."""
    indices = [row * _N + column for row, column in places]
    return np.take(blocks.reshape(-1, _N * _N), indices, axis=1).T.copy()


def estimated_primary_quality(periodic: list[CoefficientEstimate]) -> int | None:
    """The IJG quality whose luminance steps are closest to the primary steps found in `periodic`."""
    return _closest_quality({item.position: item.primary_step for item in periodic})


def _shifted_reference(window: np.ndarray, table: np.ndarray, places: list[tuple[int, int]]) -> np.ndarray:
    """The DCT of the decoded window cropped by 4 pixels, the coefficients as if never quantised on this grid: the
    values of each (row, column) of `places` over all blocks, one row per place.

    Stacked matrix products of 8 columns: numpy's own loop or a small BLAS call each, never one large BLAS call,
    whose threads only contend for the cores that the other analysers of the same file are using.
    """
    height, width = window.shape[:2]
    # D.T @ (block @ D) for every block: the blocks' rows, side by side, times D, then each block times D.T.
    rows = np.matmul((window * table).reshape(height, width * _N, _N), _DCT)
    pixels = _snapped(np.matmul(_DCT.T, rows.reshape(height, width, _N, _N)))
    pixels += 128
    np.clip(np.round(pixels, out=pixels), 0, 255, out=pixels)
    pixels = pixels.transpose(0, 2, 1, 3).reshape(height * _N, width * _N)
    shifted = pixels[4 : 4 + (height - 1) * _N, 4 : 4 + (width - 1) * _N] - 128
    # D @ block @ D.T for the shifted blocks, only as far as the places reach: each block row times D.T's first
    # columns, then each strip of 8 pixel rows times D's first rows.
    reach = 1 + max(max(place) for place in places)
    across = np.matmul(shifted.reshape((height - 1) * _N, width - 1, _N), _DCT.T[:, :reach])
    down = np.matmul(_DCT[:reach], across.reshape(height - 1, _N, (width - 1) * reach))
    coefficients = _snapped(down).reshape(height - 1, reach, width - 1, reach)
    return np.array([coefficients[:, row, :, column].ravel() for row, column in places])


def _snapped(values: np.ndarray) -> np.ndarray:
    """`values` rounded, in place, to the nearest multiple of 2**-20 (see _GRID; exact: scaling by a power of two)."""
    values *= _GRID
    np.round(values, out=values)
    values /= _GRID
    return values


def _predicted_counts(unquantised: np.ndarray, last_step: int) -> np.ndarray:
    """Counts of the predicted values -HISTOGRAM_REACH..HISTOGRAM_REACH (others ignored), one row per hypothesis,
    from the values of the shifted reference (in any order).

    Row 0: a single compression with Q2, round(x / Q2); row q1: a first compression with step q1, then Q2,
    round(round(x / q1) * q1 / Q2). The values are not quantised 41 times: x -> round(x / step) never decreases
    as x grows, so the values quantised to k by a step are those between two thresholds (see `_counts_below`),
    and every k goes to the bin round(k * q1 / Q2), the very floating-point operations applied to a quantised
    value. The counts are those of quantising every value, exactly.
    """
    if unquantised.size and not np.abs(unquantised).max() <= _MAX_ABS_VALUE:  # NaN included
        raise ArithmeticError("a DCT coefficient of 8-bit pixels beyond its bound")
    plan = _prediction_plan(last_step)
    below = _counts_below(unquantised, plan)
    counts = below[plan.counted + 1] - below[plan.counted]
    width = 2 * HISTOGRAM_REACH + 1
    return np.bincount(plan.cells, weights=counts, minlength=(MAX_PRIMARY_STEP + 1) * width).reshape(-1, width)


# The DCT of an 8x8 block of values -128..127 (orthonormal rows): at most 128 * 8 = 1,024 in magnitude.
_MAX_ABS_VALUE = 1025.0
# Every threshold lies within a few representable numbers of a half-integer, (k - 1/2) * step (see
# `_least_quantised_to`): less than 1e-10 from it for any 16-bit step. Values are told apart from thresholds
# by their half-integer cell, floor(2x), except those this close to a half-integer, which are compared exactly.
_NEAR_HALF_INTEGER = 1e-9
# Half-integer cells m (x near m / 2) of the values: |2x| <= 2,050; thresholds beyond are clipped one cell out.
_CELL_REACH = int(2 * _MAX_ABS_VALUE) + 1
_CELLS = 2 * _CELL_REACH + 1


def _counts_below(values: np.ndarray, plan: _PredictionPlan) -> np.ndarray:
    """For each threshold t of `plan`, how many values are less than t, without sorting all the values.

    A threshold t lies at a half-integer m / 2, give or take 1e-10. A value x further than _NEAR_HALF_INTEGER
    from every half-integer is below t exactly when floor(2x) < m; one that near the half-integer m' / 2 is below
    t exactly when m' < m, unless m' is the cell of some threshold: only those values are sorted and compared with
    the thresholds themselves (usually few; coefficients (4, 0) and (0, 4) of whole-number pixels are multiples of
    1/8, so there many can be, and the cost is at most the full sort this replaces).
    """
    doubled = values * 2.0  # exact
    nearest = np.round(doubled)
    near = np.abs(doubled - nearest) <= 2 * _NEAR_HALF_INTEGER
    cells = np.where(near, nearest, np.floor(doubled)).astype(np.intp) + _CELL_REACH
    exact = near & plan.threshold_cell[cells]
    # below_cell[c] = how many of the other values lie in cells before c.
    below_cell = np.zeros(_CELLS + 1, dtype=np.intp)
    np.cumsum(np.bincount(cells[~exact], minlength=_CELLS), out=below_cell[1:])
    return below_cell[plan.cell_of_threshold] + np.searchsorted(np.sort(values[exact]), plan.thresholds)


@dataclass(frozen=True)
class _PredictionPlan:
    """For one Q2, what `_predicted_counts` searches and where it counts: the thresholds of every quantised value k
    each step can give (from -reach to reach, and reach + 1 to close the last interval), the index of each k
    counted (its interval ends at the next threshold), its cell in the (hypothesis, bin) histogram, and each
    threshold's half-integer cell (clipped to the values' cells), with the cells that hold one."""

    thresholds: np.ndarray
    counted: np.ndarray
    cells: np.ndarray
    cell_of_threshold: np.ndarray
    threshold_cell: np.ndarray


@functools.lru_cache(maxsize=256)
def _prediction_plan(last_step: int) -> _PredictionPlan:
    steps = np.array([last_step, *range(1, MAX_PRIMARY_STEP + 1)], dtype=np.float64)
    # k beyond this reach either lands outside the histogram or is the quantisation of no possible value.
    reach = np.minimum(np.ceil((HISTOGRAM_REACH + 1) * last_step / steps), np.ceil(_MAX_ABS_VALUE / steps)) + 1
    sizes = (2 * reach + 2).astype(np.intp)
    hypothesis = np.repeat(np.arange(steps.size), sizes)
    starts = np.cumsum(sizes) - sizes
    quantised = (np.arange(sizes.sum()) - np.repeat(starts, sizes)) - np.repeat(reach, sizes)
    step = steps[hypothesis]
    thresholds = _least_quantised_to(quantised, step)
    # round(k * Q2 / Q2) is k: row 0 needs no mapping of its own.
    bins = np.round(quantised * step / last_step)
    interval = np.ones(quantised.size, dtype=bool)
    interval[starts + sizes - 1] = False
    counted = np.flatnonzero(interval & (np.abs(bins) <= HISTOGRAM_REACH))
    cells = hypothesis[counted] * (2 * HISTOGRAM_REACH + 1) + bins[counted].astype(np.intp) + HISTOGRAM_REACH
    cell_of_threshold = np.clip(np.round(2 * thresholds), -_CELL_REACH, _CELL_REACH).astype(np.intp) + _CELL_REACH
    threshold_cell = np.zeros(_CELLS, dtype=bool)
    threshold_cell[cell_of_threshold] = True
    return _PredictionPlan(thresholds, counted, cells, cell_of_threshold, threshold_cell)


# The least x with round(x / step) >= k lies within one representable number of (k - 1/2) * step, where x / step
# is k - 1/2 exactly (checked for every step up to 65,535 and every k it can give); two are searched.
_THRESHOLD_ULPS = 2


def _least_quantised_to(quantised: np.ndarray, step: np.ndarray) -> np.ndarray:
    """For each k and step, the least float64 x with round(x / step) >= k: the values below it quantise below k."""
    middle = (quantised - 0.5) * step  # exact: a half-integer times a small integer
    candidates = [middle]
    below = above = middle
    for _ in range(_THRESHOLD_ULPS):
        below, above = np.nextafter(below, -np.inf), np.nextafter(above, np.inf)
        candidates = [below, *candidates, above]
    trials = np.array(candidates)
    reached = np.round(trials / step) >= quantised
    if reached[0].any() or not reached[-1].all():
        raise ArithmeticError("a quantisation threshold lies outside the searched neighbourhood")
    return trials[reached.argmax(axis=0), np.arange(quantised.size)]


def _histograms(rows: np.ndarray) -> np.ndarray:
    """For each row, the normalised counts of the integer values -HISTOGRAM_REACH..HISTOGRAM_REACH (others
    ignored), all rows counted by one bincount."""
    # Values beyond the reach are clipped into one extra bin on each side, counted and then dropped.
    width = 2 * HISTOGRAM_REACH + 3
    bins = np.clip(rows, -HISTOGRAM_REACH - 1, HISTOGRAM_REACH + 1).astype(np.intp) + (HISTOGRAM_REACH + 1)
    bins += width * np.arange(rows.shape[0], dtype=np.intp)[:, np.newaxis]
    counts = np.bincount(bins.ravel(), minlength=width * rows.shape[0]).reshape(rows.shape[0], width)
    return _normalised(counts[:, 1:-1].astype(np.float64))


def _normalised(counts: np.ndarray) -> np.ndarray:
    """Each row of counts divided by its total (rows without counts stay zero)."""
    totals = counts.sum(axis=1, keepdims=True)
    return np.divide(counts, totals, out=counts.copy(), where=totals > 0)


def _closest_quality(steps: dict[int, int]) -> int | None:
    """The IJG quality whose luminance table is closest (least sum of differences, the highest among equals)."""
    if not steps:
        return None
    positions = list(steps)
    tables = IJG_TABLES["luminance"][:, positions]  # quality 1..100
    distances = np.abs(tables - np.array([steps[position] for position in positions])).sum(axis=1)
    return int(tables.shape[0] - np.argmin(distances[::-1]))
