"""Calibrate the EXIF-thumbnail rules (EM-THUMB-...) on the calibration half of the camera originals and write the
result to forensics/rules/thumbnail_calibration.json; print the same measures for the held-out half.

Usage: .venv/bin/python benchmarks/thumbnail_calibration.py [--corpus DIR] [--originals DIR]... [--check]

Originals are the corpus files labelled camera-original and the JPEGs of any --originals folder that present as a
camera original to the engine itself (IFD0 Make, maker notes, no editor named in a software field: the corpus
README's criterion). Duplicates count once. SHA-256 first hex digit 0-7 is the calibration half, 8-f held out.
Thresholds are set from calibration originals whose coded size is the size their EXIF records (the rest were
resized or rotated after capture, so their thumbnail rightly no longer matches): the lowest correlation seen less
a margin, the largest block difference seen times a margin. A make "always writes a thumbnail" when at least
MIN_MAKE_FILES of its calibration originals of the DCF era (Exif 2.1 or later, the files EM-THUMB-004 judges) were
seen and every one carries an IFD1 thumbnail. --check prints
without writing.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import sys
from collections import defaultdict
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPOSITORY))

from forensics.analysers import analyse_files  # noqa: E402
from forensics.rules.facts import claimed_camera  # noqa: E402
from forensics.rules.metadata import exif_size_mismatch  # noqa: E402
from forensics.rules.thumbnail import CALIBRATION_FILE, make_key, thumbnail_required  # noqa: E402

DEFAULT_CORPUS = REPOSITORY.parent / "shared" / "corpus"
CORRELATION_MARGIN = 0.05
BLOCK_MARGIN = 1.25
MIN_MAKE_FILES = 3


def originals(corpus: Path, folders: list[Path]) -> list[Path]:
    files: list[Path] = []
    manifest = corpus / "manifest.csv"
    if manifest.is_file():
        with manifest.open(encoding="utf-8") as handle:
            files += [corpus / row["path"] for row in csv.DictReader(handle) if row["label"] == "camera-original"]
    for folder in folders:
        files += sorted(path for path in folder.rglob("*") if path.is_file())
    return [path for path in files if path.suffix.lower() in (".jpg", ".jpeg")]


def measure(paths: list[Path]) -> dict[str, list[dict]]:
    halves: dict[str, list[dict]] = {"calibration": [], "held-out": []}
    seen: set[str] = set()
    for path, result in zip(paths, analyse_files(paths), strict=True):
        if result.sha256 in seen or result.jpeg is None or not claimed_camera(result):
            continue
        if not result.jpeg.exif_maker_note_length:
            continue
        seen.add(result.sha256)
        comparison = result.exif_thumbnail
        match = comparison.match if comparison else None
        halves["calibration" if result.sha256[0] in "01234567" else "held-out"].append(
            {
                "file": path.name,
                "make": make_key(result),
                "thumbnail": result.jpeg.thumbnail is not None,
                "thumbnail_required": thumbnail_required(result),
                "size_as_recorded": not list(exif_size_mismatch(result)),
                "correlation": match.correlation if match else None,
                "block": match.max_block_difference if match else None,
            }
        )
    return halves


def calibrate(rows: list[dict]) -> dict:
    usable = [row for row in rows if row["size_as_recorded"] and row["correlation"] is not None]
    lowest = min(row["correlation"] for row in usable)
    largest = max(row["block"] for row in usable)
    for measure, highest_first in (("correlation", False), ("block", True)):
        ranked = sorted(usable, key=lambda row, measure=measure: row[measure], reverse=highest_first)[:3]
        print(f"calibration extremes of {measure}:", [(row["file"], row[measure]) for row in ranked])
    makes: dict[str, list[bool]] = defaultdict(list)
    for row in rows:
        if row["make"] and row["thumbnail_required"]:
            makes[row["make"]].append(row["thumbnail"])
    return {
        "derived_from": (
            f"{len(rows)} camera originals of the calibration half (SHA-256 0-7), {len(usable)} of them with a "
            "comparable thumbnail and the coded size their EXIF records; see benchmarks/thumbnail_calibration.py"
        ),
        "observed_lowest_correlation": lowest,
        "observed_largest_block_difference": largest,
        "correlation_min": math.floor((lowest - CORRELATION_MARGIN) * 100) / 100,
        "block_difference_max": math.ceil(largest * BLOCK_MARGIN),
        "makes_always_with_thumbnail": {
            make: len(flags) for make, flags in sorted(makes.items()) if len(flags) >= MIN_MAKE_FILES and all(flags)
        },
    }


def report(name: str, rows: list[dict], calibration: dict) -> None:
    usable = [row for row in rows if row["correlation"] is not None]
    as_recorded = [row for row in usable if row["size_as_recorded"]]
    below = [row for row in as_recorded if row["correlation"] < calibration["correlation_min"]]
    blocks = [row for row in as_recorded if row["block"] > calibration["block_difference_max"]]
    always = calibration["makes_always_with_thumbnail"]
    missing = [row for row in rows if not row["thumbnail"] and row["thumbnail_required"] and row["make"] in always]
    print(
        f"{name}: {len(rows)} originals, {len(usable)} compared ({len(as_recorded)} at their recorded size); "
        f"below the correlation threshold {len(below)}, over the block threshold {len(blocks)}, "
        f"thumbnail missing for an always-thumbnail make {len(missing)}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--originals", type=Path, action="append", default=[])
    parser.add_argument("--check", action="store_true", help="Print only; do not write the calibration file.")
    args = parser.parse_args()
    halves = measure(originals(args.corpus, args.originals))
    calibration = calibrate(halves["calibration"])
    print(json.dumps(calibration, indent=2))
    for name, rows in halves.items():
        report(name, rows, calibration)
    if not args.check:
        CALIBRATION_FILE.write_text(json.dumps(calibration, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
