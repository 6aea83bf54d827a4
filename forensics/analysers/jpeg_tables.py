"""Reference JPEG tables (ITU-T T.81 Annex K) and the IJG quality scaling, to recognise library-encoded JPEGs."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# Annex K.1 tables in natural (row-major) order.
_LUMINANCE_NATURAL = (
    16, 11, 10, 16, 24, 40, 51, 61,
    12, 12, 14, 19, 26, 58, 60, 55,
    14, 13, 16, 24, 40, 57, 69, 56,
    14, 17, 22, 29, 51, 87, 80, 62,
    18, 22, 37, 56, 68, 109, 103, 77,
    24, 35, 55, 64, 81, 104, 113, 92,
    49, 64, 78, 87, 103, 121, 120, 101,
    72, 92, 95, 98, 112, 100, 103, 99,
)  # fmt: skip
_CHROMINANCE_NATURAL = (
    17, 18, 24, 47, 99, 99, 99, 99,
    18, 21, 26, 66, 99, 99, 99, 99,
    24, 26, 56, 99, 99, 99, 99, 99,
    47, 66, 99, 99, 99, 99, 99, 99,
    *([99] * 32),
)  # fmt: skip

# Position in natural order of the n-th coefficient in zig-zag order (DQT stores zig-zag order).
ZIGZAG_TO_NATURAL = (
    0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5,
    12, 19, 26, 33, 40, 48, 41, 34, 27, 20, 13, 6, 7, 14, 21, 28,
    35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51,
    58, 59, 52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63,
)  # fmt: skip

STANDARD_LUMINANCE = tuple(_LUMINANCE_NATURAL[i] for i in ZIGZAG_TO_NATURAL)
STANDARD_CHROMINANCE = tuple(_CHROMINANCE_NATURAL[i] for i in ZIGZAG_TO_NATURAL)

# Annex K.3 Huffman tables: (code-length counts, symbol values), keyed by (class, id): 0 = DC, 1 = AC.
STANDARD_HUFFMAN = {
    (0, 0): (bytes([0, 1, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0]), bytes(range(12))),
    (0, 1): (bytes([0, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0]), bytes(range(12))),
    (1, 0): (
        bytes([0, 2, 1, 3, 3, 2, 4, 3, 5, 5, 4, 4, 0, 0, 1, 0x7D]),
        bytes.fromhex(
            "01020300041105122131410613516107227114328191a1082342b1c11552d1f02433627282090a161718191a25262728"
            "292a3435363738393a434445464748494a535455565758595a636465666768696a737475767778797a83848586878889"
            "8a92939495969798999aa2a3a4a5a6a7a8a9aab2b3b4b5b6b7b8b9bac2c3c4c5c6c7c8c9cad2d3d4d5d6d7d8d9dae1e2"
            "e3e4e5e6e7e8e9eaf1f2f3f4f5f6f7f8f9fa"
        ),
    ),
    (1, 1): (
        bytes([0, 2, 1, 2, 4, 4, 3, 4, 7, 5, 4, 4, 0, 1, 2, 0x77]),
        bytes.fromhex(
            "000102031104052131061241510761711322328108144291a1b1c109233352f0156272d10a162434e125f11718191a26"
            "2728292a35363738393a434445464748494a535455565758595a636465666768696a737475767778797a828384858687"
            "88898a92939495969798999aa2a3a4a5a6a7a8a9aab2b3b4b5b6b7b8b9bac2c3c4c5c6c7c8c9cad2d3d4d5d6d7d8d9da"
            "e2e3e4e5e6e7e8e9eaf2f3f4f5f6f7f8f9fa"
        ),
    ),
}
_STANDARD_HUFFMAN_SET = set(STANDARD_HUFFMAN.values())


@dataclass(frozen=True)
class QualityEstimate:
    """How a quantisation table relates to the IJG-scaled Annex K table."""

    estimated_quality: int
    standard_ijg: bool


def ijg_scaled(base: tuple[int, ...], quality: int) -> tuple[int, ...]:
    """The table libjpeg writes for `quality` (1..100), clamped to the baseline range 1..255."""
    scale = 5000 // quality if quality < 50 else 200 - 2 * quality
    return tuple(min(255, max(1, (value * scale + 50) // 100)) for value in base)


# (quality 1..100, 64 zig-zag values) for each kind of table.
IJG_TABLES = {
    kind: np.array([ijg_scaled(base, quality) for quality in range(1, 101)], dtype=np.int64)
    for kind, base in (("luminance", STANDARD_LUMINANCE), ("chrominance", STANDARD_CHROMINANCE))
}


def estimate_quality(values: tuple[int, ...], table_id: int) -> QualityEstimate:
    """Closest IJG quality for a 64-value zig-zag table, and whether the table is exactly IJG-scaled.

    Table 0 is compared with the luminance table, the others with the chrominance one (libjpeg's layout). The
    closest is the one with the least sum of absolute differences (over the values given, at most 64), the
    highest quality among equals.
    """
    candidates = IJG_TABLES["luminance" if table_id == 0 else "chrominance"]
    compared = np.array(values[: candidates.shape[1]], dtype=np.int64)
    distances = np.abs(candidates[:, : compared.size] - compared).sum(axis=1)
    best_quality = int(candidates.shape[0] - np.argmin(distances[::-1]))
    return QualityEstimate(
        estimated_quality=best_quality, standard_ijg=tuple(candidates[best_quality - 1].tolist()) == tuple(values)
    )


def is_standard_huffman(counts: bytes, symbols: bytes) -> bool:
    """True when a DHT table is one of the four Annex K example tables (what camera firmware writes)."""
    return (bytes(counts), bytes(symbols)) in _STANDARD_HUFFMAN_SET
