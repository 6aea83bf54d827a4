"""Benchmark: how often the forensic engine flags manipulated camera files, and how often it wrongly flags genuine
ones, measured on camera originals that no threshold or device profile was built from.

Usage: .venv/bin/python benchmarks/forensic_accuracy.py [--corpus DIR] [--originals DIR]... [--jobs N]
       [--per-original N] [--calibration] [--keep DIR]

Camera originals come from the corpus (label camera-original in manifest.csv; default ../shared/corpus relative to
the project root) and from any --originals folder (searched recursively), where a file counts as a camera original
only when ExifTool sees IFD0 Make, maker notes, and no editor named in a software field or an XMP history, the
corpus README's criterion; such a JPEG whose pixel size differs from the size in its EXIF was resized or rotated by
unnamed software and is set aside as "derived" (the corpus's label), measured as a class of its own. A file the
corpus holds keeps the corpus's label. Duplicates (same SHA-256) count once. The first hex digit of an original's
SHA-256 puts it in the calibration half (0-7) or the held-out half (8-f); device profiles are built from the
calibration half (`manage.py device_profiles build`, when that command exists) and everything is measured on the
held-out half (`--calibration` measures the calibration half instead, for developers tuning rules).

Manipulated copies of the measured originals are made in a temporary folder by the recipes in
manipulation_recipes.py (Pillow, ImageMagick, ExifTool, jpegtran, libheif, FFmpeg); each JPEG original gets
--per-original recipes, assigned round-robin so every recipe is used about equally, and the assignment depends only
on the originals' SHA-256 values, so a run is repeatable. Everything goes through the engine as `manage.py analyse`
runs it, and a file counts as flagged when its verdict is not "ok". With 4 recipes per original (the default) and
about 60 measured originals that is about 300 files: 4 minutes with --jobs 2 on 2 cores (13 minutes while other
work loaded the same cores), about half making the copies and half analysing.

Videos are reported apart from the images. Camera-original videos are few (the corpus's are an iPhone and a Mac
recording, and the video device profiles were written from them), so every one is measured, whichever half its
SHA-256 puts it in: the video figures are not held-out figures. The video recipes (x264, x265 and mpeg4 re-encodes,
with the tags stripped or a phone's labels written back; remuxes, fast start, trims, joins, a model edit) are also
applied to --demo-clips camera-like clips made as `seed_demo` makes them, reported as classes of their own: those
clips are x264 encodes, so they are not camera originals. The container class is the corpus's damage suite
(label malformed): the share of each format that gets at least "attention" with a structural warning.

The last line is `RESULT heldout_min_rate=X` (`calibration_min_rate` with --calibration): the lowest of the
share of measured originals judged "ok" and the catch rate of every manipulation class that has a target. One
figure has to summarise both sides of the targets; the minimum cannot be raised by flagging everything (the
originals' share falls) nor by flagging nothing (the catch rates fall), and it points at the weakest class.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path

from manipulation_recipes import RECIPES, TARGETS, NotApplicable, Original, Recipe, found_as_is

REPOSITORY = Path(__file__).resolve().parent.parent
DEFAULT_CORPUS = REPOSITORY.parent / "shared" / "corpus"
KINDS = {"JPEG": "jpeg", "HEIC": "heic", "HEIF": "heic", "MOV": "video", "MP4": "video"}
DEFAULT_PER_ORIGINAL = 4
# Camera originals are measured for false positives and manipulated; camera files found already resized or rotated
# (the corpus's "derived") are measured as one more class that should be flagged.
LABELS = ("camera-original", "derived")
DERIVED_RECIPE = Recipe("found-resized-or-rotated", "resized-rotated (found)", ("jpeg",), "", found_as_is)


@dataclass(frozen=True)
class Candidate:
    original: Original
    source: str  # "corpus" or "extra"
    label: str  # "camera-original" or "derived" (see LABELS)


@dataclass(frozen=True)
class Made:
    recipe: Recipe
    original: Original
    path: Path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS, help=f"Default: {DEFAULT_CORPUS}")
    parser.add_argument("--originals", type=Path, action="append", default=[], help="More camera files (repeatable).")
    parser.add_argument("--calibration", action="store_true", help="Measure the calibration half instead.")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="Worker processes (default: all cores).")
    parser.add_argument("--per-original", type=int, default=DEFAULT_PER_ORIGINAL, help="Recipes per JPEG original.")
    parser.add_argument("--keep", type=Path, help="Write the manipulated copies here and keep them.")
    parser.add_argument("--demo-clips", type=int, default=2, help="Camera-like demo clips to manipulate (videos).")
    args = parser.parse_args()
    sys.path.insert(0, str(REPOSITORY))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "evidencemedia.settings.local")
    missing = [tool for tool in ("exiftool",) if shutil.which(tool) is None]
    if missing:
        print(f"Missing tools: {', '.join(missing)}", file=sys.stderr)
        return 2

    started = time.perf_counter()
    candidates = originals_collect(args.corpus, args.originals)
    if not candidates:
        print("No camera originals found: pass --corpus or --originals.", file=sys.stderr)
        return 2
    originals = [item for item in candidates if item.label == "camera-original"]
    calibration = [item for item in originals if item.original.sha256[0] in "01234567"]
    heldout = [item for item in originals if item.original.sha256[0] not in "01234567"]
    measured, half = (calibration, "calibration") if args.calibration else (heldout, "heldout")
    found_derived = [item for item in candidates if item.label == "derived" and (item.original.sha256[0] in
                     "01234567") == args.calibration]  # fmt: skip
    print(f"Camera files: {len(candidates)} ({count_by(candidates)}); camera originals: calibration half "
          f"{len(calibration)}, held-out half {len(heldout)}; measuring the {half} half, with its "
          f"{len(found_derived)} files found already resized or rotated")  # fmt: skip

    with tempfile.TemporaryDirectory(prefix="forensic-accuracy-") as scratch:
        profiles_prepare(calibration, Path(scratch))
        output_dir = args.keep or Path(scratch) / "manipulated"
        output_dir.mkdir(parents=True, exist_ok=True)
        videos = [item for item in originals if item.original.kind == "video"]
        manipulated = measured + [item for item in videos if item not in measured]
        manipulated += demo_clips_make(args.demo_clips, Path(scratch) / "demo-clips")
        made, skipped, failed = manipulations_make(manipulated, args.per_original, output_dir, args.jobs)
        print(f"Manipulated copies: {len(made)} made, {len(skipped)} recipes not applicable, {len(failed)} failed "
              f"({time.perf_counter() - started:.0f} s so far)")  # fmt: skip
        for name, reason in failed[:10]:
            print(f"  failed {name}: {reason}")
        measured_paths = [str(item.original.path) for item in measured + found_derived + videos]
        malformed = malformed_collect(args.corpus)
        analysis_started = time.perf_counter()
        records = analyse(measured_paths + [str(item.path) for item in made] + malformed, args.jobs)
        print(f"Analysed {len(records)} files in {time.perf_counter() - analysis_started:.0f} s")

    from forensics.rules import RULESET_VERSION

    print(f"\nRuleset {RULESET_VERSION}, {half} half, {time.perf_counter() - started:.0f} s")
    images = [item for item in measured if item.original.kind != "video"]
    original_ok = originals_report(images, records)
    video_ok = videos_report(videos, records)
    found = [Made(DERIVED_RECIPE, item.original, item.original.path) for item in found_derived]
    class_rates = manipulations_report(made + found, records)
    class_rates.update(malformed_report(malformed, records))
    rates = [original_ok, video_ok] + [class_rates[name] for name in TARGETS if name in class_rates]
    print(f"RESULT {half}_min_rate={min(rates):.3f}")
    return 0


# ---- collecting originals -----------------------------------------------------------------------------------------


def originals_collect(corpus: Path, extra_folders: list[Path]) -> list[Candidate]:
    """Camera originals and camera files found already resized or rotated ("derived"), from the corpus (by its
    labels) and the extra folders (by the criterion), once per SHA-256, sorted by SHA-256. A file the corpus holds
    under any label keeps the corpus's judgement."""
    corpus_rows = []
    manifest = corpus / "manifest.csv"
    if manifest.is_file():
        with manifest.open(encoding="utf-8") as handle:
            corpus_rows = list(csv.DictReader(handle))
    else:
        print(f"No corpus at {corpus} (expected {manifest}); using --originals only.")
    labelled = {row["sha256"] for row in corpus_rows}
    corpus_paths = {corpus / row["path"]: row["label"] for row in corpus_rows if row["label"] in LABELS}
    extra_paths = [path for folder in extra_folders for path in sorted(folder.rglob("*")) if path.is_file()]
    metadata = exiftool_summaries([*corpus_paths, *extra_paths])
    found: dict[str, Candidate] = {}
    for path in [*corpus_paths, *extra_paths]:
        tags = metadata.get(str(path.resolve()), {})
        kind = KINDS.get(str(tags.get("File:FileType", "")).upper())
        sha256 = file_sha256(path)
        label = corpus_paths.get(path) or (None if sha256 in labelled else camera_file_label(tags, kind))
        if kind is None or label is None:
            continue
        make, model = (str(tags.get(name, "")).strip() for name in ("IFD0:Make", "IFD0:Model"))
        source = "corpus" if path in corpus_paths else "extra"
        found.setdefault(sha256, Candidate(Original(path, sha256, kind, make, model), source, label))
    return sorted(found.values(), key=lambda item: item.original.sha256)


def exiftool_summaries(paths: list[Path]) -> dict[str, dict[str, object]]:
    """ExifTool's -G1 tags of every file, keyed by resolved path, maker-note tags reduced to a count."""
    summaries: dict[str, dict[str, object]] = {}
    for start in range(0, len(paths), 200):
        batch = paths[start : start + 200]
        with tempfile.NamedTemporaryFile("w", suffix=".args", encoding="utf-8") as arguments:
            arguments.write("\n".join(str(path) for path in batch))
            arguments.flush()
            completed = subprocess.run(
                ["exiftool", "-j", "-G0:1", "-a", "-q", "-q", "-charset", "filename=utf8", "-@", arguments.name],
                capture_output=True,
                timeout=600,
            )
        for entry in json.loads(completed.stdout or b"[]"):
            summary: dict[str, object] = {"MakerNotes": 0}
            for key, value in entry.items():
                groups = key.split(":")
                if groups[0] == "MakerNotes":
                    summary["MakerNotes"] = int(summary["MakerNotes"]) + 1
                else:  # "EXIF:IFD0:Make" as "IFD0:Make"; "File:FileType" (one group name for both) stays
                    summary[":".join(groups[-2:])] = value
            summaries[str(Path(entry["SourceFile"]).resolve())] = summary
    return summaries


def camera_file_label(tags: dict[str, object], kind: str | None) -> str | None:
    """ "camera-original" for a file with IFD0 Make, maker notes, and no editor named in a software field or an XMP
    history; "derived" for such a JPEG whose pixel size differs from the size in its EXIF (resized or rotated
    by unnamed software, as the corpus labels them); None for anything else."""
    from forensics.rules.software_names import SOFTWARE_TAGS, editor_named

    if not str(tags.get("IFD0:Make", "")).strip() or not tags.get("MakerNotes"):
        return None
    for key, value in tags.items():
        tag = key.rpartition(":")[2]
        if tag.startswith("History") and "XMP" in key:
            return None
        if tag in SOFTWARE_TAGS and editor_named(str(value)):
            return None
    coded = (tags.get("File:ImageWidth"), tags.get("File:ImageHeight"))
    recorded = (tags.get("ExifIFD:ExifImageWidth"), tags.get("ExifIFD:ExifImageHeight"))
    if kind == "jpeg" and None not in recorded and coded != recorded:
        turned = any(word in str(tags.get("IFD0:Orientation", "")) for word in ("Rotate 90", "Rotate 270"))
        if not (turned and coded == recorded[::-1]):
            return "derived"
    return "camera-original"


def file_sha256(path: Path) -> str:
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def count_by(candidates: list[Candidate]) -> str:
    counts = Counter(f"{item.source} {item.original.kind} {item.label}" for item in candidates)
    return ", ".join(f"{number} {name}" for name, number in sorted(counts.items()))


# ---- device profiles ----------------------------------------------------------------------------------------------


def profiles_prepare(calibration: list[Candidate], scratch: Path) -> None:
    """Device profiles from the calibration half only, for the engine of this run (EVIDENCEMEDIA_DEVICE_PROFILES)."""
    manage = [sys.executable, str(REPOSITORY / "manage.py")]
    if subprocess.run([*manage, "help", "device_profiles"], capture_output=True).returncode != 0:
        print("Device profiles: `manage.py device_profiles` does not exist yet; the engine's own profiles are used.")
        return
    folder = scratch / "calibration-originals"
    folder.mkdir()
    for number, item in enumerate(calibration):
        (folder / f"{number:04d}{item.original.path.suffix}").symlink_to(item.original.path.resolve())
    output = scratch / "device-profiles.json"
    started = time.perf_counter()
    completed = subprocess.run(
        [*manage, "device_profiles", "build", str(folder), "--output", str(output)], capture_output=True, text=True
    )
    if completed.returncode != 0:
        print(f"Device profiles: build failed ({completed.stderr.strip()[-300:]}); the engine's own are used.")
        return
    os.environ["EVIDENCEMEDIA_DEVICE_PROFILES"] = str(output)
    print(f"Device profiles: built from the {len(calibration)} calibration originals "
          f"({time.perf_counter() - started:.0f} s).")  # fmt: skip


# ---- manipulating -------------------------------------------------------------------------------------------------


def manipulations_plan(measured: list[Candidate], per_original: int, output_dir: Path) -> list[tuple]:
    """(recipe, original, donor, output) for every copy to make: HEIC and video originals get every recipe of their
    kind; JPEG originals get `per_original` recipes each, round-robin over the recipe list in SHA-256 order."""
    originals = [item.original for item in measured]
    available = [recipe for recipe in RECIPES if all(shutil.which(tool) for tool in recipe.tools)]
    for recipe in RECIPES:
        if recipe not in available:
            print(f"Recipe {recipe.name} skipped: {', '.join(recipe.tools)} not all installed")
    jpeg_donors = [original for original in originals if original.kind == "jpeg"]
    plan, turn = [], 0
    for original in originals:
        recipes = [recipe for recipe in available if original.kind in recipe.kinds]
        if original.kind == "jpeg" and recipes:
            chosen = [recipes[(turn + step) % len(recipes)] for step in range(min(per_original, len(recipes)))]
            turn += per_original
        else:
            chosen = recipes
        donor = donor_for(original, jpeg_donors)
        for recipe in chosen:
            if original.make == DEMO_MAKE:  # not a camera original: its copies are reported as a class of their own
                recipe = replace(recipe, manipulation_class=f"{recipe.manipulation_class} (demo clip)")
            suffix = recipe.suffix or original.path.suffix.lower()
            plan.append((recipe, original, donor, output_dir / f"{original.sha256[:16]}-{recipe.name}{suffix}"))
    return plan


def donor_for(original: Original, donors: list[Original]) -> Original:
    """The next JPEG original after this one (in SHA-256 order) of another make, else the next one at all."""
    if not donors:
        return original
    position = next((index for index, donor in enumerate(donors) if donor.sha256 > original.sha256), 0)
    ordered = donors[position:] + donors[:position]
    others = [donor for donor in ordered if donor.sha256 != original.sha256] or [original]
    maker = original.make.split()[0].lower() if original.make else ""
    return next((donor for donor in others if donor.make and donor.make.split()[0].lower() != maker), others[0])


def manipulation_make(step: tuple) -> tuple[str, str | None]:
    name, original, donor, output = step
    recipe = next(recipe for recipe in RECIPES if recipe.name == name)
    try:
        recipe.make(original, donor, output)
    except NotApplicable as reason:
        return "not applicable", str(reason)
    except Exception as failure:
        output.unlink(missing_ok=True)
        return "failed", f"{type(failure).__name__}: {failure}"
    return ("made", None) if output.is_file() and output.stat().st_size else ("failed", "no output written")


def manipulations_make(measured: list[Candidate], per_original: int, output_dir: Path, jobs: int):
    plan = manipulations_plan(measured, per_original, output_dir)
    made, skipped, failed = [], [], []
    with ProcessPoolExecutor(max_workers=max(1, jobs)) as pool:
        for step, (status, reason) in zip(
            plan,
            pool.map(manipulation_make, [(recipe.name, *rest) for recipe, *rest in plan], chunksize=2),
            strict=True,
        ):
            recipe, original, _donor, output = step
            if status == "made":
                made.append(Made(recipe, original, output))
            elif status == "not applicable":
                skipped.append((recipe.name, reason))
            else:
                failed.append((f"{recipe.name} of {original.make} {original.model}", reason))
    return made, skipped, failed


# ---- analysing and reporting -------------------------------------------------------------------------------------


def analyse(paths: list[str], jobs: int) -> dict[str, dict]:
    """The `analyse --json` record of every file, keyed by path (the same code path as `manage.py analyse`)."""
    import django

    django.setup()
    from forensics.management.commands.analyse import files_analyse

    records = {}
    for path, record, problem in files_analyse(paths, jobs):
        # Not analysed: unreadable, or not a media type the system accepts (an upload of it would be refused).
        records[path] = record or {"verdict": "not_analysed", "findings": [], "problem": problem}
    return records


def flagged_by(record: dict) -> list[str]:
    return [finding["rule"] for finding in record["findings"] if finding["severity"] != "info"]


def originals_report(measured: list[Candidate], records: dict[str, dict]) -> float:
    """Prints the false positives on the measured originals; returns the share judged "ok"."""
    print("\nCamera originals (false positives):")
    print(f"  {'set':<10} {'files':>5} {'ok':>5} {'attention':>10} {'compromised':>12}")
    groups = {"corpus": [], "extra": [], "combined": []}
    for item in measured:
        verdict = records[str(item.original.path)]["verdict"]
        groups[item.source].append(verdict)
        groups["combined"].append(verdict)
    for name, verdicts in groups.items():
        if not verdicts:
            continue
        counts = Counter(verdicts)
        print(f"  {name:<10} {len(verdicts):>5} {counts['ok']:>5} {share(counts['attention'], len(verdicts)):>10} "
              f"{share(counts['compromised'], len(verdicts)):>12}")  # fmt: skip
    firing: dict[tuple[str, str], list[tuple[Original, dict]]] = defaultdict(list)
    for item in measured:
        for finding in records[str(item.original.path)]["findings"]:
            firing[(finding["rule"], finding["severity"])].append((item.original, finding))
    print("  Rules firing on these originals (files; an example):")
    for (rule, severity), hits in sorted(firing.items(), key=lambda entry: (entry[0][1] == "info", -len(entry[1]))):
        original, finding = hits[0]
        evidence = json.dumps(finding["evidence"], ensure_ascii=False, default=str)[:160]
        print(f"    {rule:<14} {severity:<8} {len(hits):>4}  {original.make} {original.model}: {evidence}")
    flagged = [item for item in measured if records[str(item.original.path)]["verdict"] != "ok"]
    for item in flagged:
        rules = ", ".join(flagged_by(records[str(item.original.path)]))
        print(
            f"  flagged: {item.source} {item.original.sha256[:12]} {item.original.make} {item.original.model}: {rules}"
        )
    return 1 - len(flagged) / len(measured)


def manipulations_report(made: list[Made], records: dict[str, dict]) -> dict[str, float]:
    """Prints the catch rates per class and per recipe and the misses; returns the catch rate of each class."""
    by_class: dict[str, list[Made]] = defaultdict(list)
    by_recipe: dict[str, list[Made]] = defaultdict(list)
    for item in made:
        by_class[item.recipe.manipulation_class].append(item)
        by_recipe[item.recipe.name].append(item)
    caught = {str(item.path): records[str(item.path)]["verdict"] != "ok" for item in made}
    rates = {}
    print("\nCatch rate per class (verdict not ok):")
    for name in [*TARGETS, *sorted(set(by_class) - set(TARGETS))]:
        items = by_class.get(name, [])
        if not items:
            continue
        hits = sum(caught[str(item.path)] for item in items)
        rates[name] = hits / len(items)
        target = f"target {TARGETS[name]:.0%}" if name in TARGETS else "no target"
        print(f"  {name:<16} {hits:>4}/{len(items):<4} {share(hits, len(items)):>7}  {target}")
    print("\nCatch rate per recipe (the rules that caught it):")
    for recipe in (*RECIPES, DERIVED_RECIPE):
        items = by_recipe.get(recipe.name, [])
        if not items:
            continue
        hits = sum(caught[str(item.path)] for item in items)
        rules = Counter(rule for item in items for rule in set(flagged_by(records[str(item.path)])))
        top = ", ".join(f"{rule} {number}" for rule, number in rules.most_common(4))
        print(f"  {recipe.manipulation_class:<16} {recipe.name:<30} {hits:>3}/{len(items):<3} "
              f"{share(hits, len(items)):>7}  {top}")  # fmt: skip
    print("\nMissed (verdict ok):")
    for recipe in (*RECIPES, DERIVED_RECIPE):
        missed = [item for item in by_recipe.get(recipe.name, []) if not caught[str(item.path)]]
        if missed:
            cameras = "; ".join(sorted({f"{item.original.make} {item.original.model}".strip() for item in missed}))
            print(f"  {recipe.name:<30} {len(missed):>3}: {cameras[:200]}")
    return rates


# ---- videos and containers ----------------------------------------------------------------------------------------

DEMO_MAKE = "seed_demo"
CONTAINER_CLASS = "container damaged"


def demo_clips_make(count: int, folder: Path) -> list[Candidate]:
    """Camera-like clips as `seed_demo` makes them (cases.demo_media), of different lengths, to manipulate."""
    from cases.demo_media import generated_mp4_create

    folder.mkdir(parents=True, exist_ok=True)
    clips = []
    for number in range(count):
        path = generated_mp4_create(folder, f"VID_DEMO_{number:02d}.mp4", seconds=2 + number)
        clips.append(Candidate(Original(path, file_sha256(path), "video", DEMO_MAKE, "clip"), "demo", "demo-clip"))
    return clips


def videos_report(videos: list[Candidate], records: dict[str, dict]) -> float:
    """Prints the verdicts and video findings on the genuine camera videos; returns the share judged "ok"."""
    print(f"\nCamera-original videos (false positives; all {len(videos)} measured, not held out):")
    for item in videos:
        record = records[str(item.original.path)]
        video_rules = sorted({f["rule"] for f in record["findings"] if f["rule"].startswith("EM-VIDEO")})
        print(f"  {item.original.path.name:<30} {record['verdict']:<10} EM-VIDEO findings: {video_rules or 'none'}; "
              f"flagged by: {flagged_by(record) or 'nothing'}")  # fmt: skip
    if not videos:
        return 1.0
    return sum(records[str(item.original.path)]["verdict"] == "ok" for item in videos) / len(videos)


def malformed_collect(corpus: Path) -> list[str]:
    manifest = corpus / "manifest.csv"
    if not manifest.is_file():
        return []
    with manifest.open(encoding="utf-8") as handle:
        return [str(corpus / row["path"]) for row in csv.DictReader(handle) if row["label"] == "malformed"]


def malformed_report(malformed: list[str], records: dict[str, dict]) -> dict[str, float]:
    """Prints, per format (libmagic's MIME type), the share of the damage suite flagged with a structural warning,
    or refused as no accepted media type (as an upload of it would be)."""
    if not malformed:
        return {}
    by_format: dict[str, list[bool]] = defaultdict(list)
    for path in malformed:
        record = records[path]
        if record["verdict"] == "not_analysed":
            by_format["refused: not an accepted type"].append(True)
            continue
        structural = any(f["category"] == "structure" and f["severity"] != "info" for f in record["findings"])
        by_format[record["detected_mime_type"]].append(record["verdict"] != "ok" and structural)
    print(
        "\nContainer damage (corpus label malformed): at least attention with a structural warning, or refused, per "
        "format:"
    )
    for name, flags in sorted(by_format.items(), key=lambda entry: -len(entry[1])):
        print(f"  {name:<28} {sum(flags):>4}/{len(flags):<4} {share(sum(flags), len(flags)):>7}")
    flags = [flag for values in by_format.values() for flag in values]
    print(f"  {'all formats':<28} {sum(flags):>4}/{len(flags):<4} {share(sum(flags), len(flags)):>7}  target 95%")
    return {CONTAINER_CLASS: sum(flags) / len(flags)}


def share(part: int, whole: int) -> str:
    return f"{part / whole:.1%}" if whole else "-"


if __name__ == "__main__":
    sys.exit(main())
