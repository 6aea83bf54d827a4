"""`manage.py analyse [--json] PATH...`: run the forensic engine on files (directories are recursed) and print the
verdict and findings, without touching the database. A file whose bytes are not a media type the system accepts as
evidence gets no verdict, as an upload of it would be refused: "no obvious signs of tampering" would be said of a
text file, or of bytes no walker recognised, with nothing examined."""

from __future__ import annotations

import json
import multiprocessing
import os
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from cases.media_types import ACCEPTED, accepted_label_list
from forensics.analysers import AnalysisResult, analyse_files
from forensics.analysers.common import jsonable
from forensics.rules import Evaluation, evaluate


def analysis_record(path: str, result: AnalysisResult, evaluation: Evaluation) -> dict[str, Any]:
    """What `analyse --json` prints for one file: identity, verdict, findings, and what reproduces them."""
    return {
        "path": path,
        "sha256": result.sha256,
        "file_size": result.file_size,
        "detected_mime_type": result.detected_mime_type,
        "verdict": evaluation.verdict_code,
        "verdict_text": evaluation.verdict_sentence,
        "rule_set_version": evaluation.ruleset_version,
        "engine_version": result.engine_version,
        "analysed_at": result.analysed_at,
        "tool_versions": result.tool_versions,
        "findings": [
            {
                "rule": finding.rule_id,
                "severity": str(finding.severity),
                "category": str(finding.category),
                "title": finding.title,
                "explanation": finding.explanation,
                "evidence": jsonable(finding.evidence),
                "innocent_explanation": finding.innocent_explanation,
            }
            for finding in evaluation.findings
        ],
    }


def files_under(paths: list[str]) -> tuple[list[str], list[str]]:
    """The files named or found under the directories named, in a stable order, and a sentence for each path that
    cannot be read."""
    files: list[str] = []
    problems: list[str] = []

    def unreadable_directory(error: OSError) -> None:
        problems.append(f"Cannot read {error.filename}: {error.strerror or error}")

    for given in paths:
        if os.path.isdir(given):
            for root, directories, names in os.walk(given, onerror=unreadable_directory):
                directories.sort()
                files.extend(os.path.join(root, name) for name in sorted(names))
        elif os.path.exists(given):
            files.append(given)
        else:
            problems.append(f"Cannot read {given}: No such file or directory")
    return files, problems


CHUNK = 128  # files per unit of work at most: several ExifTool batches, and what one worker takes at a time
# With workers, at least this many chunks per worker, so that they finish together rather than one of them
# working alone on the last big chunk.
CHUNKS_PER_WORKER = 4


def files_analyse(files: list[str], jobs: int) -> Iterator[tuple[str, dict[str, Any] | None, str | None]]:
    """(path, the `--json` record, None) or (path, None, why it was not analysed), in the order of `files`.

    Files go through the engine in chunks (one ExifTool call per batch); with jobs > 1, worker processes, each
    with its own ExifTool, take chunks in turn.
    """
    size = CHUNK if jobs <= 1 else max(1, min(CHUNK, -(-len(files) // (jobs * CHUNKS_PER_WORKER))))
    chunks = [files[start : start + size] for start in range(0, len(files), size)]
    if jobs <= 1 or len(chunks) <= 1:
        for chunk in chunks:
            yield from chunk_analyse(chunk)
        return
    # spawn, not fork: the C2PA library's state does not survive a fork once the parent has used it (a forked
    # worker then reports every manifest unreadable), and this process may already have analysed files.
    with ProcessPoolExecutor(max_workers=jobs, mp_context=multiprocessing.get_context("spawn")) as pool:
        for outcomes in pool.map(chunk_analyse, chunks):
            yield from outcomes


def chunk_analyse(paths: list[str]) -> list[tuple[str, dict[str, Any] | None, str | None]]:
    """(path, record, None) per file analysed, (path, None, the sentence saying why not) per file that was not."""
    readable, outcomes = [], {}
    for path in paths:
        try:
            with open(path, "rb"):
                pass  # a file we cannot open would only give an analysis of nothing
            readable.append(path)
        except OSError as error:
            outcomes[path] = (path, None, f"Cannot read {path}: {error.strerror or error}")
    for path, result in zip(readable, analyse_files(readable), strict=True):
        if result.detected_mime_type in ACCEPTED:
            outcomes[path] = (path, analysis_record(path, result, evaluate(result)), None)
        else:
            outcomes[path] = (path, None, _not_media(path, result))
    return [outcomes[path] for path in paths]


def _not_media(path: str, result: AnalysisResult) -> str:
    seen = result.detected_mime_type or "an unknown type"
    if result.file_type is not None and result.file_type.magic_description:
        seen = f"{seen} ({result.file_type.magic_description})"
    return (
        f"Not analysed {path}: its bytes are {seen}, not a media type the system accepts as evidence "
        f"({accepted_label_list()}); no verdict is given."
    )


class Command(BaseCommand):
    help = (
        "Analyse media files with the forensic engine and print each verdict and its findings. Directories are "
        "searched recursively. Nothing is read from or written to the database."
    )
    # The engine is pure Python over files: no database, and no model or URL checks to run first.
    requires_system_checks = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("paths", nargs="+", metavar="PATH", help="Files or directories to analyse.")
        parser.add_argument(
            "--json", action="store_true", dest="as_json", help="Print one JSON object per file, one per line."
        )
        parser.add_argument(
            "--jobs", type=int, default=1, help="Analyse this many files at once in worker processes (default 1)."
        )

    def handle(self, *args, paths: list[str], as_json: bool, jobs: int, **options) -> None:
        files, problems = files_under(paths)
        show_progress = self.stderr.isatty() and len(files) > 1
        analysed = 0
        for number, (path, record, problem) in enumerate(files_analyse(files, jobs), start=1):
            if show_progress:
                self.stderr.write(f"\r\x1b[K[{number}/{len(files)}] {path}", ending="")
                self.stderr.flush()
            if record is None:
                problems.append(problem)
                continue
            self.stdout.write(_json_line(record) if as_json else _human(record))
            analysed += 1
        if show_progress:
            self.stderr.write("\r\x1b[K", ending="")
        for problem in problems:
            self.stderr.write(problem)
        if problems:
            raise CommandError(f"{len(problems)} path(s) not analysed; {analysed} file(s) analysed.")


def _json_line(record: dict[str, Any]) -> str:
    return json.dumps(record, ensure_ascii=False, allow_nan=False)


def _human(record: dict[str, Any]) -> str:
    lines = [
        record["path"],
        f"  SHA-256  {record['sha256']}",
        f"  Verdict  {record['verdict_text']} ({record['verdict']}), rule set {record['rule_set_version']}",
    ]
    for finding in record["findings"]:
        lines.append(f"  [{finding['severity']}] {finding['rule']} {finding['title']}")
        lines.append(f"      {finding['explanation']}")
    return "\n".join(lines) + "\n"
