"""The EXIF (IFD1) thumbnail compared, by content, with the main image it claims to show.

A camera renders its thumbnail from the same capture as the main image, in the same (sensor) orientation as the
main image's coded pixels, often letter- or pillar-boxed into 160x120. When the main image is replaced, spliced or
rotated by a program that keeps the EXIF block, the thumbnail still shows the picture as it was. The main image is
decoded with JPEG DCT scaling (Pillow's draft mode) to a few times the thumbnail's size, so the cost is bounded
whatever the file's size; both pictures are compared in grayscale on a coarse grid, after matching brightness and
contrast, which tolerates the camera's own resampling and the thumbnail's compression.
"""

from __future__ import annotations

import functools
import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from PIL import Image

from .jpeg_structure import JpegStructure, QuantTable, jpeg_bytes_structure
from .jpeg_tables import STANDARD_CHROMINANCE, STANDARD_LUMINANCE, ijg_scaled
from .pillow_open import image_opened_unchecked

# 2: a thumbnail or main image past the pixel limits is "too_large" whatever its size (1: past Pillow's own limits,
# "thumbnail_undecodable" or "main_undecodable"); every compared result is the same.
COMPARISON_VERSION = "exif-thumbnail/2"

# Decoding limits: a main image over this many coded pixels, or a thumbnail over these, is not compared. DCT scaling
# decodes at most 1/64 of the main image's pixels (Pillow's own decompression-bomb check is not asked, see
# pillow_open.py).
MAX_MAIN_PIXELS = 178_000_000
MAX_THUMBNAIL_BYTES = 1 << 20
MAX_THUMBNAIL_PIXELS = 1_000_000
# The thumbnail's content is compared on a grid whose longer side has this many cells: coarse enough that the
# camera's resampling filter and a pixel or two of misregistration do not count, fine enough that a pasted region
# of an eighth of the picture's width still fills a block.
GRID_LONG_SIDE = 48
BLOCK = 6
# A border row or column of the thumbnail counts as a letter-box bar when it is this dark and this even.
BAR_MEAN_MAX = 28.0
BAR_P95_MAX = 56.0
MIN_BAR = 2
# The registration search, tried below REGISTRATION_BELOW: either picture zoomed in by up to an eighth and shifted
# by 3% of its size each way.
REGISTRATION_BELOW = 0.98
REGISTRATION_ZOOMS = (1.0, 0.98, 0.95, 0.92, 0.88)
REGISTRATION_SHIFTS = (-0.03, 0.0, 0.03)
REGISTRATION_FINE_ZOOM = 0.015
REGISTRATION_FINE_SHIFTS = (-0.01, 0.0, 0.01)
# Below this standard deviation (grayscale levels) a picture is too flat for its content to be compared.
FLAT_STD = 4.0

_ROTATIONS = {
    "rotated 90° clockwise": Image.Transpose.ROTATE_270,
    "rotated 90° counter-clockwise": Image.Transpose.ROTATE_90,
    "rotated 180°": Image.Transpose.ROTATE_180,
    "mirrored left-right": Image.Transpose.FLIP_LEFT_RIGHT,
    "mirrored top-bottom": Image.Transpose.FLIP_TOP_BOTTOM,
}


@dataclass
class ContentMatch:
    """How well the main image, fitted into `content_box` of the thumbnail, matches the thumbnail there."""

    geometry: str  # full frame, letter-box bars detected, aspect-fit box, centre crop
    content_box: list[int]  # x0, y0, x1, y1 in thumbnail pixels
    correlation: float
    mean_abs_difference: float  # grayscale levels 0-255 after brightness/contrast matching
    max_block_difference: float  # the highest median difference over a block of BLOCK x BLOCK grid cells
    max_block_box: list[int]  # the worst block, in thumbnail pixels


@dataclass
class EncoderFamily:
    """What a JPEG's tables say about the encoder: IJG-scaled Annex K tables (libjpeg and everything built on it:
    Pillow, ImageMagick, GIMP...) at an estimated quality, or tables of the encoder's own; Huffman standard or
    optimised."""

    ijg_scaled: bool
    # Every table within one step of an IJG scaling: libjpeg's tables up to another library's rounding.
    ijg_like: bool
    estimated_quality: int | None
    standard_huffman: bool

    @property
    def label(self) -> str:
        tables = f"IJG-scaled tables (quality {self.estimated_quality})" if self.ijg_scaled else "non-IJG tables"
        return f"{tables}, {'standard' if self.standard_huffman else 'optimised'} Huffman"


@dataclass
class ThumbnailComparison:
    # compared, flat, no_thumbnail, not_jpeg, thumbnail_undecodable, main_undecodable, too_large
    status: str
    detail: str | None = None
    thumbnail_size: list[int] | None = None
    main_size: list[int] | None = None  # coded pixel size of the main image
    match: ContentMatch | None = None
    # When the main image as coded does not match, the best of its rotations and mirror images, if it does.
    rotated_match: str | None = None
    rotated_correlation: float | None = None
    thumbnail_encoder: EncoderFamily | None = None
    main_encoder: EncoderFamily | None = None
    version: str = COMPARISON_VERSION


@dataclass
class _Pictures:
    thumbnail: Image.Image
    main: Image.Image


def thumbnail_compare(path: str | Path, jpeg: JpegStructure) -> ThumbnailComparison:
    """Compare the IFD1 thumbnail `jpeg` located with the main image; never raises on malformed input."""
    result = ThumbnailComparison(status="no_thumbnail")
    if jpeg.thumbnail is None:
        return result
    result.main_encoder = encoder_family(jpeg)
    pictures = _decode(Path(path), jpeg, result)
    if pictures is None:
        return result
    thumbnail, main = np.asarray(pictures.thumbnail, dtype=np.float64), pictures.main
    if thumbnail.std() < FLAT_STD:
        result.status, result.detail = "flat", "the thumbnail is one flat tone"
        return result
    result.match = _registered(thumbnail, main, max(_candidates(thumbnail, main), key=lambda m: m.correlation))
    result.status = "compared"
    if result.match.correlation < REGISTRATION_BELOW:
        # A program that rotates or mirrors the main image and keeps the EXIF block leaves the thumbnail as it was.
        turned = {
            name: max(match.correlation for match in _candidates(thumbnail, main.transpose(turn)))
            for name, turn in _ROTATIONS.items()
        }
        result.rotated_match = max(turned, key=turned.__getitem__)
        result.rotated_correlation = round(turned[result.rotated_match], 4)
    return result


def encoder_family(structure: JpegStructure) -> EncoderFamily | None:
    """The encoder family of a parsed JPEG, from its quantisation and Huffman tables (None without tables)."""
    tables: list[QuantTable] = structure.quant_tables
    if not tables:
        return None
    luminance = next((table for table in tables if table.table_id == 0), tables[0])
    return EncoderFamily(
        ijg_scaled=all(table.standard_ijg for table in tables),
        ijg_like=all(_near_ijg(table) for table in tables),
        estimated_quality=luminance.estimated_quality,
        standard_huffman=all(table.standard for table in structure.huffman_tables),
    )


def _near_ijg(table: QuantTable) -> bool:
    base = STANDARD_LUMINANCE if table.table_id == 0 else STANDARD_CHROMINANCE
    scaled = ijg_scaled(base, table.estimated_quality)
    return max(abs(a - b) for a, b in zip(table.values, scaled, strict=False)) <= 1


def _decode(path: Path, jpeg: JpegStructure, result: ThumbnailComparison) -> _Pictures | None:
    thumb = jpeg.thumbnail
    if not thumb.is_jpeg:
        result.status, result.detail = "not_jpeg", "the IFD1 thumbnail is not a JPEG stream"
        return None
    if thumb.length > MAX_THUMBNAIL_BYTES:
        result.status, result.detail = "too_large", f"the thumbnail claims {thumb.length:,} bytes"
        return None
    with path.open("rb") as handle:
        handle.seek(thumb.offset)
        data = handle.read(thumb.length)
    result.thumbnail_encoder = encoder_family(jpeg_bytes_structure(data))
    if jpeg.frame is not None:
        result.main_size = [jpeg.frame.width, jpeg.frame.height]
        if jpeg.frame.width * jpeg.frame.height > MAX_MAIN_PIXELS:
            result.status, result.detail = "too_large", f"the main image is {jpeg.frame.width}x{jpeg.frame.height}"
            return None
    try:
        thumbnail = image_opened_unchecked(io.BytesIO(data), "JPEG")
        if thumbnail.width * thumbnail.height > MAX_THUMBNAIL_PIXELS:
            result.status, result.detail = "too_large", f"the thumbnail is {thumbnail.width}x{thumbnail.height}"
            return None
        thumbnail = thumbnail.convert("L")
    except Exception as failure:  # hostile bytes: Pillow raises many kinds
        result.status, result.detail = "thumbnail_undecodable", f"{type(failure).__name__}: {failure}"
        return None
    result.thumbnail_size = [thumbnail.width, thumbnail.height]
    try:
        with image_opened_unchecked(path, "JPEG") as opened:
            result.main_size = [opened.width, opened.height]
            if opened.width * opened.height > MAX_MAIN_PIXELS:  # a frame our walk did not find
                result.status, result.detail = "too_large", f"the main image is {opened.width}x{opened.height}"
                return None
            # DCT scaling decodes at 1/2, 1/4 or 1/8 size: the smallest still at least twice the thumbnail.
            opened.draft("L", (2 * thumbnail.width, 2 * thumbnail.height))
            main = opened.convert("L")
    except Exception as failure:
        result.status, result.detail = "main_undecodable", f"{type(failure).__name__}: {failure}"
        return None
    return _Pictures(thumbnail, main)


def _candidates(thumbnail: np.ndarray, main: Image.Image) -> list[ContentMatch]:
    """The main image fitted to the thumbnail in each way cameras lay it out, each with how well it matches."""
    height, width = thumbnail.shape
    full = (0, 0, width, height)
    boxes = {"full frame": full}
    bars = _bar_box(thumbnail)
    if bars != full:
        boxes["letter-box bars detected"] = bars
    fit = _fit_box(width, height, main.width, main.height)
    if fit != full and fit != bars:
        boxes["aspect-fit box"] = fit
    matches = [_match(thumbnail, main, name, box) for name, box in boxes.items()]
    crop = _centre_crop(main, width, height)
    if crop is not None:
        matches.append(_match(thumbnail, crop, "centre crop of the main image", full))
    return matches


def _registered(thumbnail: np.ndarray, main: Image.Image, match: ContentMatch) -> ContentMatch:
    """The best match over small zooms and shifts between the two pictures, tried only when the plain layout does
    not already match well: some cameras render the thumbnail from a slightly different field than the main image
    (before an in-camera crop, or with a stabilisation margin). A coarse search, then a finer one around its best."""
    if match.correlation >= REGISTRATION_BELOW or match.geometry.startswith("centre crop"):
        return match
    content = tuple(match.content_box)
    whole = (0.0, 0.0, float(main.width), float(main.height))
    best = (match.correlation, 1.0, 0.0, 0.0, "none")
    # One side stays put while the other moves: the same resampled parts come up again and again.
    thumbnail_grid = functools.cache(lambda box: _thumbnail_grid(thumbnail, box))
    main_grid = functools.cache(lambda grid, box: _main_grid(main, grid, box))
    for zooms, shifts, sides in (
        (REGISTRATION_ZOOMS, REGISTRATION_SHIFTS, ("thumbnail", "main")),
        (None, None, None),
    ):
        if zooms is None:  # the finer pass, around the coarse pass's best
            _, zoom, shift_x, shift_y, side = best
            if side == "none":
                return match
            zooms = (zoom - REGISTRATION_FINE_ZOOM, zoom, min(1.0, zoom + REGISTRATION_FINE_ZOOM))
            shifts = [
                (shift_x + dx, shift_y + dy) for dx in REGISTRATION_FINE_SHIFTS for dy in REGISTRATION_FINE_SHIFTS
            ]
            sides = (side,)
        else:
            shifts = [(dx, dy) for dx in shifts for dy in shifts]
        for zoom in zooms:
            for shift_x, shift_y in shifts:
                for side in sides:
                    thumb_box, main_box = _registration_boxes(content, whole, zoom, shift_x, shift_y, side)
                    grid, thumb_part = thumbnail_grid(thumb_box)
                    score = _correlation(thumb_part, main_grid(grid, main_box))
                    if score > best[0]:
                        best = (score, zoom, shift_x, shift_y, side)
    thumb_box, main_box = _registration_boxes(content, whole, *best[1:])
    registered = main.crop(tuple(round(value) for value in main_box))
    return _match(thumbnail, registered, f"{match.geometry}, registered", thumb_box, inset=False)


def _registration_boxes(content, whole, zoom, shift_x, shift_y, side):
    if side == "thumbnail":
        return _zoomed(content, zoom, shift_x, shift_y), whole
    return content, _zoomed(whole, zoom, shift_x, shift_y)


def _zoomed(
    box: tuple[float, float, float, float], zoom: float, shift_x: float, shift_y: float
) -> tuple[int, int, int, int]:
    """`box` shrunk by `zoom` about its centre, then moved by the shifts (fractions of its size), kept inside."""
    x0, y0, x1, y1 = box
    width, height = x1 - x0, y1 - y0
    left = x0 + (width - width * zoom) / 2 + shift_x * width
    top = y0 + (height - height * zoom) / 2 + shift_y * height
    left = min(max(left, x0), x1 - width * zoom)
    top = min(max(top, y0), y1 - height * zoom)
    return (round(left), round(top), round(left + width * zoom), round(top + height * zoom))


def _bar_box(thumbnail: np.ndarray) -> tuple[int, int, int, int]:
    """The thumbnail's content box inside dark letter-box or pillar-box bars, detected on each side."""
    height, width = thumbnail.shape

    def bar(lines: np.ndarray, limit: int) -> int:
        count = 0
        for line in lines[:limit]:
            if line.mean() > BAR_MEAN_MAX or np.percentile(line, 95) > BAR_P95_MAX:
                break
            count += 1
        return count if count >= MIN_BAR else 0

    top = bar(thumbnail, height * 2 // 5)
    bottom = bar(thumbnail[::-1], height * 2 // 5)
    left = bar(thumbnail.T, width * 2 // 5)
    right = bar(thumbnail.T[::-1], width * 2 // 5)
    return (left, top, width - right, height - bottom)


def _fit_box(width: int, height: int, main_width: int, main_height: int) -> tuple[int, int, int, int]:
    """The centred box of the main image's aspect ratio fitted inside the thumbnail."""
    if main_width * height > main_height * width:
        inner = round(width * main_height / main_width)
        top = (height - inner) // 2
        return (0, top, width, top + inner)
    inner = round(height * main_width / main_height)
    left = (width - inner) // 2
    return (left, 0, left + inner, height)


def _centre_crop(main: Image.Image, width: int, height: int) -> Image.Image | None:
    """The main image cropped to the thumbnail's aspect ratio, for cameras that crop rather than box."""
    if abs(main.width * height - main.height * width) < max(width, height) * 2:
        return None
    if main.width * height > main.height * width:
        inner = round(main.height * width / height)
        left = (main.width - inner) // 2
        return main.crop((left, 0, left + inner, main.height))
    inner = round(main.width * height / width)
    top = (main.height - inner) // 2
    return main.crop((0, top, main.width, top + inner))


def _match(
    thumbnail: np.ndarray, main: Image.Image, geometry: str, box: tuple[int, int, int, int], *, inset: bool = True
) -> ContentMatch:
    x0, y0, x1, y1 = box
    # One pixel in from a bar's edge, where the thumbnail's compression rings; the main image loses the same share.
    inset = 1 if inset and box != (0, 0, thumbnail.shape[1], thumbnail.shape[0]) else 0
    x0, y0, x1, y1 = x0 + inset, y0 + inset, x1 - inset, y1 - inset
    margin_x = inset * main.width / max(1, x1 - x0 + 2 * inset)
    margin_y = inset * main.height / max(1, y1 - y0 + 2 * inset)
    a, b = _grids(
        thumbnail, main, (x0, y0, x1, y1), (margin_x, margin_y, main.width - margin_x, main.height - margin_y)
    )
    residual = np.abs(a - _brightness_matched(b, a))
    worst, worst_at = _worst_block(residual)
    cell_w, cell_h = (x1 - x0) / a.shape[1], (y1 - y0) / a.shape[0]
    return ContentMatch(
        geometry=geometry,
        content_box=[x0, y0, x1, y1],
        correlation=round(_correlation(a, b), 4),
        mean_abs_difference=round(float(residual.mean()), 2),
        max_block_difference=round(worst, 2),
        max_block_box=[
            x0 + round(worst_at[0] * cell_w),
            y0 + round(worst_at[1] * cell_h),
            x0 + round((worst_at[0] + BLOCK) * cell_w),
            y0 + round((worst_at[1] + BLOCK) * cell_h),
        ],
    )


def _grids(
    thumbnail: np.ndarray, main: Image.Image, thumb_box: tuple[int, int, int, int], main_box: tuple[float, ...]
) -> tuple[np.ndarray, np.ndarray]:
    """The thumbnail's `thumb_box` and the main image's `main_box`, both averaged onto the same coarse grid."""
    grid, thumb_part = _thumbnail_grid(thumbnail, thumb_box)
    return thumb_part, _main_grid(main, grid, main_box)


def _thumbnail_grid(thumbnail: np.ndarray, box: tuple[int, int, int, int]) -> tuple[tuple[int, int], np.ndarray]:
    """The coarse grid for the thumbnail's `box` (its longer side GRID_LONG_SIDE cells), and the box on it."""
    x0, y0, x1, y1 = box
    scale = GRID_LONG_SIDE / max(x1 - x0, y1 - y0)
    grid = (max(BLOCK, round((x1 - x0) * scale)), max(BLOCK, round((y1 - y0) * scale)))
    part = Image.fromarray(thumbnail[y0:y1, x0:x1].astype(np.uint8)).resize(grid, Image.Resampling.BOX)
    return grid, np.asarray(part, dtype=np.float64)


def _main_grid(main: Image.Image, grid: tuple[int, int], box: tuple[float, ...]) -> np.ndarray:
    return np.asarray(main.resize(grid, Image.Resampling.BOX, box=box), dtype=np.float64)


def _correlation(a: np.ndarray, b: np.ndarray) -> float:
    a, b = a - a.mean(), b - b.mean()
    denominator = float(np.sqrt((a * a).sum() * (b * b).sum()))
    return float((a * b).sum() / denominator) if denominator > 0 else 0.0


def _brightness_matched(source: np.ndarray, target: np.ndarray) -> np.ndarray:
    """`source` with the gain and offset that best fit it to `target` (least squares)."""
    variance = source.var()
    gain = float(((source - source.mean()) * (target - target.mean())).mean() / variance) if variance > 0 else 0.0
    return gain * (source - source.mean()) + target.mean()


def _worst_block(residual: np.ndarray) -> tuple[float, tuple[int, int]]:
    """The block with the highest median difference: a pasted region fills its block, while the thin lines a
    pixel of misregistration leaves along edges do not move a median. Blocks start every BLOCK // 2 cells; the
    first of equal blocks, row by row, is the one named."""
    step = BLOCK // 2
    windows = sliding_window_view(residual, (BLOCK, BLOCK))[::step, ::step]
    medians = np.median(windows.reshape(*windows.shape[:2], BLOCK * BLOCK), axis=-1)
    row, column = np.unravel_index(np.argmax(medians), medians.shape)
    worst = float(medians[row, column])
    return (worst, (int(column) * step, int(row) * step)) if worst > 0.0 else (0.0, (0, 0))


PANEL_SCALE = 2
DIFFERENCE_GAIN = 4


def comparison_picture(path: str | Path, jpeg: JpegStructure) -> Image.Image | None:
    """Side by side, for the examiner: the thumbnail, the main image scaled into the thumbnail's content box, and
    their difference after brightness matching, amplified DIFFERENCE_GAIN times (black: the same). None when the
    thumbnail cannot be compared. A visual aid: the rules judge the measures of `thumbnail_compare`, not this."""
    comparison = thumbnail_compare(path, jpeg)
    if comparison.status != "compared":
        return None
    pictures = _decode(Path(path), jpeg, ThumbnailComparison(status="compared"))
    if pictures is None:
        return None
    x0, y0, x1, y1 = comparison.match.content_box
    thumbnail = pictures.thumbnail
    fitted = Image.new("L", thumbnail.size, 0)
    fitted.paste(pictures.main.resize((x1 - x0, y1 - y0), Image.Resampling.BOX), (x0, y0))
    a = np.asarray(thumbnail, dtype=np.float64)[y0:y1, x0:x1]
    b = np.asarray(fitted, dtype=np.float64)[y0:y1, x0:x1]
    difference = np.zeros((thumbnail.height, thumbnail.width), dtype=np.uint8)
    difference[y0:y1, x0:x1] = np.clip(np.abs(a - _brightness_matched(b, a)) * DIFFERENCE_GAIN, 0, 255)
    panels = [thumbnail, fitted, Image.fromarray(difference)]
    width, height = thumbnail.width * PANEL_SCALE, thumbnail.height * PANEL_SCALE
    gap = 8
    sheet = Image.new("L", (3 * width + 2 * gap, height), 255)
    for index, panel in enumerate(panels):
        sheet.paste(panel.resize((width, height), Image.Resampling.NEAREST), (index * (width + gap), 0))
    return sheet
