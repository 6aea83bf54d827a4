"""django-q2 task glue: run the pure-Python engine on a stored evidence item and record the outcome.

Safe to run twice: a finished analysis is left alone, and a run held by a live worker is not taken over. The
worker renews its lease on the run while it works; `analyses_sweep`, scheduled every minute, queues again the runs
whose worker is gone.
"""

import logging

from cases.task_runs import TAKEN_OVER, failure_words, lease_kept, runs_to_requeue
from encryption.plaintext import plaintext_copy, plaintext_sweep

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
            # The tools read a path: a private plaintext copy, removed as soon as they are done.
            with plaintext_copy(store="evidence", name=item.storage_key) as path:
                result = analyse_file(
                    path,
                    declared_mime_type=item.declared_mime_type or None,
                    original_filename=item.original_filename,
                    expected_sha256=item.sha256,
                )
            evaluation = evaluate(result)
        except Exception as failure:  # the item, its hashes and custody stay intact; the error is shown
            logger.exception("Analysis %s of evidence %s failed", analysis.public_id, item.public_id)
            recorded = analysis_fail(analysis=analysis, error=failure_words(failure))
            return "failed" if recorded else TAKEN_OVER
        recorded = analysis_complete(analysis=analysis, result=result.to_dict(), evaluation=evaluation.to_dict())
    return evaluation.verdict_code if recorded else TAKEN_OVER


def analyses_sweep() -> str:
    """Queue again every analysis whose worker is gone or whose task was lost, and remove the plaintext copies
    such a worker left (scheduled; safe to run twice)."""
    plaintext_sweep()
    lapsed = runs_to_requeue(Analysis.objects.all(), func=ANALYSE_TASK)
    requeued = sum(analysis_requeue(analysis_id=pk) for pk in lapsed)
    return f"{requeued} analyses queued again"
