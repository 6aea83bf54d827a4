"""django-q2 task glue: render, sign and store a requested report.

Safe to run twice: a finished report is left alone, and a run held by a live worker is not taken over. The
worker renews its lease on the run while it works; `reports_sweep`, scheduled every minute, queues again the runs
whose worker is gone.
"""

import base64
import logging

from cryptography import x509
from django.conf import settings
from django.utils import timezone

from cases.task_runs import TAKEN_OVER, failure_words, lease_kept, runs_to_requeue
from custody.timestamps import checkpoint_timestamp_obtain, tsa_trusted_roots

from .certificates import SigningCredentials, organisation_credentials
from .content import Anchor, anchor_make, report_context
from .models import Report
from .rendering import pdf_render
from .services import GENERATE_TASK, report_complete, report_fail, report_requeue, report_start
from .signing import pdf_sign

logger = logging.getLogger(__name__)


def report_generate(report_id: int) -> str:
    report = report_start(report_id=report_id)
    if report is None:
        return "skipped: finished or held by another worker"
    with lease_kept(report):
        try:
            # The checkpoint comes first so that the report can print the proofs of every event it lists.
            anchor = anchor_make(report.case)
            generated_at = timezone.now()
            credentials = organisation_credentials(report.case.organisation)
            context = report_context(report, anchor, generated_at) | trust_anchors_context(anchor, credentials)
            unsigned = pdf_render(report.kind, context)
            signed = pdf_sign(
                unsigned,
                credentials,
                reason=f"Evidence Media forensic report {report.public_id}",
                tsa_urls=settings.EVIDENCEMEDIA_TSA_URLS,
                tsa_roots=tsa_trusted_roots(),
            )
            recorded = report_complete(
                report=report,
                pdf=signed,
                generated_at=generated_at,
                checkpoint=anchor.checkpoint,
                evidence_ids=[str(section["item"].public_id) for section in context["sections"]],
            )
        except Exception as failure:  # recorded on the report and shown to the user, who can request another
            logger.exception("Report %s failed", report.public_id)
            recorded = report_fail(report=report, error=failure_words(failure))
            return "failed" if recorded else TAKEN_OVER
    return "done" if recorded else TAKEN_OVER


def trust_anchors_context(anchor: Anchor, credentials: SigningCredentials) -> dict:
    """What the report prints about its outside trust anchors: the anchor checkpoint's RFC 3161 time-stamp (obtained
    now if the checkpoint has none yet; the token itself in base64) and the certificate the report is signed with."""
    stamp = checkpoint_timestamp_obtain(checkpoint=anchor.checkpoint)
    certificate = x509.load_pem_x509_certificate(credentials.certificate_pem)
    return {
        "tsa_configured": bool(settings.EVIDENCEMEDIA_TSA_URLS),
        "checkpoint_timestamp": stamp,
        "checkpoint_timestamp_token": base64.b64encode(bytes(stamp.token)).decode("ascii") if stamp else "",
        "signing": {
            "subject": certificate.subject.rfc4514_string(),
            "issuer": certificate.issuer.rfc4514_string(),
            "self_signed": credentials.self_signed,
        },
    }


def reports_sweep() -> str:
    """Queue again every report whose worker is gone or whose task was lost (scheduled; safe to run twice)."""
    lapsed = runs_to_requeue(Report.objects.all(), func=GENERATE_TASK)
    requeued = sum(report_requeue(report_id=pk) for pk in lapsed)
    return f"{requeued} reports queued again"
