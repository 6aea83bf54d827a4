"""django-q2 task glue: run the pure-Python engine on a stored evidence item and record the outcome.

Safe to run twice: a finished analysis is left alone, and a run held by a live worker is not taken over. The
worker renews its lease on the run while it works; `analyses_sweep`, scheduled every minute, queues again the runs
whose worker is gone.
"""

import logging
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings
from django.core.files.storage import storages

from cases.task_runs import TAKEN_OVER, lease_kept, runs_to_requeue

from .analysers.pipeline import analyse_file
from .models import Analysis
from .rules.engine import evaluate
from .services import ANALYSE_TASK, analysis_complete, analysis_fail, analysis_requeue, analysis_start

logger = logging.getLogger(__name__)


def analyse_evidence(analysis_id: int) -> str:
    analysis = analysis_start(analysis_id=analysis_id)
    if analysis is None:
        return "skipped: finished or held by another worker"
    item = analysis.evidence
    with lease_kept(analysis):
        try:
            with stored_file_path(item.storage_key) as path:
                result = analyse_file(
                    path,
                    declared_mime_type=item.declared_mime_type or None,
                    original_filename=item.original_filename,
                    expected_sha256=item.sha256,
                )
            evaluation = evaluate(result)
        except Exception as failure:  # the item, its hashes and custody stay intact; the error is shown
            logger.exception("Analysis %s of evidence %s failed", analysis.public_id, item.public_id)
            recorded = analysis_fail(analysis=analysis, error=f"{type(failure).__name__}: {failure}")
            return "failed" if recorded else TAKEN_OVER
        recorded = analysis_complete(analysis=analysis, result=result.to_dict(), evaluation=evaluation.to_dict())
    return evaluation.verdict_code if recorded else TAKEN_OVER


def analyses_sweep() -> str:
    """Queue again every analysis whose worker is gone or whose task was lost (scheduled; safe to run twice)."""
    lapsed = runs_to_requeue(Analysis.objects.all(), func=ANALYSE_TASK)
    requeued = sum(analysis_requeue(analysis_id=pk) for pk in lapsed)
    return f"{requeued} analyses queued again"


@contextmanager
def stored_file_path(key: str) -> Iterator[Path]:
    """A local path to stored evidence: the file itself on a filesystem backend, else a temporary copy."""
    storage = storages["evidence"]
    try:
        local = Path(storage.path(key))
    except NotImplementedError:
        local = None
    if local is not None:
        yield local
        return
    with tempfile.NamedTemporaryFile(dir=settings.FILE_UPLOAD_TEMP_DIR, suffix=".analysis") as copy:
        with storage.open(key, "rb") as stored:
            shutil.copyfileobj(stored, copy, length=1024 * 1024)
        copy.flush()
        yield Path(copy.name)
