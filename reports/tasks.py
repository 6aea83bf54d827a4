"""django-q2 task glue: render, sign and store a requested report.

Safe to run twice: a finished report is left alone, and a run held by a live worker is not taken over.
"""

import logging

from django.utils import timezone

from .certificates import organisation_credentials
from .content import anchor_make, report_context
from .rendering import pdf_render
from .services import report_complete, report_fail, report_start
from .signing import pdf_sign

logger = logging.getLogger(__name__)


def report_generate(report_id: int) -> str:
    report = report_start(report_id=report_id)
    if report is None:
        return "skipped: finished or held by another worker"
    try:
        # The checkpoint comes first so that the report can print the proofs of every event it lists.
        anchor = anchor_make(report.case)
        generated_at = timezone.now()
        context = report_context(report, anchor, generated_at)
        unsigned = pdf_render(report.kind, context)
        signed = pdf_sign(
            unsigned,
            organisation_credentials(report.case.organisation),
            reason=f"Evidence Media forensic report {report.public_id}",
        )
        report_complete(
            report=report,
            pdf=signed,
            generated_at=generated_at,
            checkpoint=anchor.checkpoint,
            evidence_ids=[str(section["item"].public_id) for section in context["sections"]],
        )
    except Exception as failure:  # recorded on the report and shown to the user, who can request another
        logger.exception("Report %s failed", report.public_id)
        report_fail(report=report, error=f"{type(failure).__name__}: {failure}")
        return "failed"
    return "done"
