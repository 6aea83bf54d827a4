"""Benchmark: the whole forensic pipeline (`analyse_files` + `evaluate`, in-process, as `manage.py analyse` runs it)
over the shared corpus, against ExifTool alone (`exiftool -j -G1 -a`) over the same files in one batch process.

Usage: .venv/bin/python benchmarks/analyse_vs_exiftool.py [--corpus DIRECTORY]
The corpus defaults to ../shared/corpus relative to the project root. Both runs read the same files with a warm
page cache; the ratio is pipeline seconds / ExifTool seconds (the aim is at most 1.5). ExifTool is also timed with the
options the pipeline gives it (-validate and every group): that call alone is the floor of the pipeline's ratio.
"""

import argparse
import csv
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

REPOSITORY = Path(__file__).resolve().parent.parent
DEFAULT_CORPUS = REPOSITORY.parent / "shared" / "corpus"
TARGET_RATIO = 1.5
T = TypeVar("T")
REFERENCE_ARGS = ["-j", "-G1", "-a"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS, help=f"Default: {DEFAULT_CORPUS}")
    args = parser.parse_args()
    manifest = args.corpus / "manifest.csv"
    if not manifest.is_file():
        print(f"No corpus at {args.corpus} (expected {manifest}); pass --corpus DIRECTORY.", file=sys.stderr)
        return 2
    if shutil.which("exiftool") is None:
        print("exiftool is not installed.", file=sys.stderr)
        return 2
    with manifest.open(encoding="utf-8") as handle:
        files = [args.corpus / row["path"] for row in csv.DictReader(handle)]
    sys.path.insert(0, str(REPOSITORY))
    from forensics.analysers.exiftool_metadata import EXIFTOOL_ARGS

    total_bytes = sum(path.stat().st_size for path in files)
    for path in files:  # the same warm page cache for both contenders
        path.read_bytes()
    print(f"{len(files)} files, {total_bytes / 2**20:,.1f} MiB, from {args.corpus}")

    exiftool_seconds = exiftool_batch(files, REFERENCE_ARGS)
    (pipeline_seconds, per_analyser), pipeline_cores = busy_cores(lambda: pipeline(files))
    # The pipeline's own ExifTool call asks for more (-validate, every group): its floor, measured the same way.
    own_seconds = exiftool_batch(files, ["-j", *EXIFTOOL_ARGS])

    print(f"exiftool -j -G1 -a (one batch) : {exiftool_seconds:7.2f} s  {len(files) / exiftool_seconds:7.1f} files/s")
    print(
        f"exiftool as the pipeline asks  : {own_seconds:7.2f} s  {len(files) / own_seconds:7.1f} files/s"
        f"  ratio {own_seconds / exiftool_seconds:.2f}x  ({' '.join(EXIFTOOL_ARGS)})"
    )
    print(
        f"analyse_files + evaluate       : {pipeline_seconds:7.2f} s  {len(files) / pipeline_seconds:7.1f} files/s"
        f"  {pipeline_cores:.2f} of {os.cpu_count()} cores busy"
    )
    ratio = pipeline_seconds / exiftool_seconds
    verdict = "within" if ratio <= TARGET_RATIO else "outside"
    print(f"ratio (pipeline / ExifTool)    : {ratio:7.2f}x  ({verdict} the {TARGET_RATIO}x aim)")
    jobs = os.cpu_count() or 1
    parallel_seconds, parallel_cores = busy_cores(lambda: pipeline_parallel(files, jobs))
    print(
        f"analyse --jobs {jobs} (processes)  : {parallel_seconds:7.2f} s  {len(files) / parallel_seconds:7.1f} files/s"
        f"  ratio {parallel_seconds / exiftool_seconds:.2f}x  {parallel_cores:.2f} of {os.cpu_count()} cores busy"
    )
    # One process already keeps more than one core busy (its ExifTool, analyser threads, probe children): the
    # speed-up more workers can give is bounded by the cores it leaves idle.
    print(
        f"speed-up with {jobs} workers       : {pipeline_seconds / parallel_seconds:7.2f}x  (linear: {jobs}x; "
        f"at most {jobs / max(pipeline_cores, 1):.2f}x over the cores one process leaves idle)"
    )
    print("pipeline time by analyser (sum of per-file runs):")
    for name, seconds in sorted(per_analyser.items(), key=lambda item: -item[1]):
        print(f"  {name:<14} {seconds:7.2f} s")
    print(f"RESULT ratio={ratio:.2f}")
    return 0


def exiftool_batch(files: list[Path], options: list[str]) -> float:
    """Seconds for one ExifTool process to read every file with `options`; the list goes in an argument file."""
    with tempfile.NamedTemporaryFile("w", suffix=".args", encoding="utf-8") as arguments:
        arguments.write("\n".join(str(path) for path in files))
        arguments.flush()
        started = time.perf_counter()
        subprocess.run(
            ["exiftool", *options, "-@", arguments.name], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        return time.perf_counter() - started


def busy_cores(run: Callable[[], T]) -> tuple[T, float]:
    """`run`'s value, and how many cores the whole machine kept busy on average while it ran (from /proc/stat:
    user, nice, system and interrupt time; on an idle machine, the run's own processes and threads)."""
    before, started = _cpu_ticks(), time.perf_counter()
    value = run()
    elapsed = time.perf_counter() - started
    busy = (_cpu_ticks() - before) / os.sysconf("SC_CLK_TCK")
    return value, busy / elapsed


def _cpu_ticks() -> int:
    user, nice, system, _idle, _iowait, irq, softirq = (
        int(value) for value in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:8]
    )
    return user + nice + system + irq + softirq


def pipeline(files: list[Path]) -> tuple[float, dict[str, float]]:
    """Seconds for the whole engine over every file, and how the analysers' own durations add up."""
    from forensics.analysers import analyse_files
    from forensics.rules import evaluate

    per_analyser: dict[str, float] = defaultdict(float)
    started = time.perf_counter()
    for result in analyse_files(files):
        evaluate(result)
        for run in result.runs:
            per_analyser[run.name] += run.duration_ms / 1000
    return time.perf_counter() - started, per_analyser


def pipeline_parallel(files: list[Path], jobs: int) -> float:
    """Seconds for `manage.py analyse --jobs N` over every file (worker processes, each with its own ExifTool).

    ExifTool's batch above uses one core; this is what the command does with all of them.
    """
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "evidencemedia.settings.local")
    django.setup()
    from forensics.management.commands.analyse import files_analyse

    started = time.perf_counter()
    for _ in files_analyse([str(path) for path in files], jobs):
        pass
    return time.perf_counter() - started


if __name__ == "__main__":
    sys.exit(main())
