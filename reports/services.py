"""Every write to reports: requesting one, claiming it for a worker, completing, failing or re-queueing it, and
recording a download. Each owns its transaction and records its custody event where the ledger has one for it."""

import hashlib
from datetime import datetime

from django.core.files.base import ContentFile
from django.core.files.storage import storages
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_q.tasks import async_task

from cases.exceptions import Refused
from cases.models import AnalysisStatus, Case, EvidenceItem, Organisation
from cases.task_runs import Claim, exhausted_message, lease_length, run_claim, run_requeue, run_still_claimed
from custody.ledger import custody_event_record
from custody.models import Action, Checkpoint
from encryption.hierarchy import storage_name

from .models import Report, ReportKind, ReportStatus

PENDING_ANALYSIS = (AnalysisStatus.QUEUED, AnalysisStatus.RUNNING)
GENERATE_TASK = "reports.tasks.report_generate"


class AnalysisPending(Refused):
    status_code = 409

    def __init__(self, *, whole_case: bool):
        super().__init__(
            _(
                "The analysis of every item of this case has not finished yet; a report states the verdict, so "
                "generate it once the analysis is done."
            )
            if whole_case
            else _(
                "The analysis of this item has not finished yet; a report states the verdict, so generate it once "
                "the analysis is done."
            )
        )


def report_storage_key(*, organisation: Organisation, sha256: str) -> str:
    # A keyed hash of the PDF's SHA-256, like evidence: the report embeds a preview of the media it covers.
    return storage_name(organisation=organisation, sha256=sha256, suffix=".pdf")


def case_analysis_pending(case: Case) -> bool:
    """Whether an item of `case` is still queued or being analysed (a case report is refused until none is)."""
    return case.evidence.filter(analysis_status__in=PENDING_ANALYSIS).exists()


@transaction.atomic
def report_request(*, actor, case: Case, evidence: EvidenceItem | None = None) -> Report:
    """Queue an evidence report (when `evidence` is given) or a case report; generated after commit."""
    if evidence is not None and evidence.analysis_status in PENDING_ANALYSIS:
        raise AnalysisPending(whole_case=False)
    if evidence is None and case_analysis_pending(case):
        raise AnalysisPending(whole_case=True)
    report = Report.objects.create(
        kind=ReportKind.EVIDENCE if evidence is not None else ReportKind.CASE,
        case=case,
        evidence=evidence,
        requested_by=actor,
        lease_expires_at=timezone.now() + lease_length(),
    )
    _dispatch_after_commit(report)
    return report


@transaction.atomic
def report_start(*, report_id: int) -> Report | None:
    """Claim a queued report for this worker; None when it is finished or a live worker holds it."""
    _organisation_lock(report_id)
    related = ("case__organisation", "evidence__case", "evidence__received_by", "requested_by")
    # FOR UPDATE on the report row alone: the nullable evidence join cannot be locked on PostgreSQL.
    report = Report.objects.select_for_update(of=("self",)).select_related(*related).get(pk=report_id)
    claim = run_claim(report)
    if claim is Claim.EXHAUSTED:
        _fail(report, exhausted_message(report))
    return report if claim is Claim.CLAIMED else None


@transaction.atomic
def report_requeue(*, report_id: int) -> bool:
    """Queue again a report whose worker is gone (its lease lapsed) or whose task was lost; False when a worker
    or the queue holds it after all."""
    _organisation_lock(report_id)
    report = Report.objects.select_for_update().get(pk=report_id)
    if not run_requeue(report):
        return False
    _dispatch_after_commit(report)
    return True


@transaction.atomic
def report_complete(
    *, report: Report, pdf: bytes, generated_at: datetime, checkpoint: Checkpoint, evidence_ids: list[str]
) -> Report | None:
    """Store the signed PDF content-addressed and record its SHA-256 in the ledger as `report.generated`.

    `evidence_ids` are the items the PDF covers, so that verification can name them as they were at generation.
    None (nothing stored or written) when the run was taken over after this worker's lease lapsed.
    """
    _organisation_lock(report.pk)
    if not run_still_claimed(report):
        return None
    sha256 = hashlib.sha256(pdf).hexdigest()
    organisation = report.case.organisation
    key = report_storage_key(organisation=organisation, sha256=sha256)
    storage = storages["reports"]
    if not storage.exists(key):
        stored_as = storage.save(key, ContentFile(pdf))
        if stored_as != key:
            raise RuntimeError(f"Report storage stored {key!r} as {stored_as!r}; refusing a renamed copy.")
    report.sha256, report.size, report.storage_key = sha256, len(pdf), key
    report.generated_at, report.checkpoint = generated_at, checkpoint
    report.status, report.error = ReportStatus.DONE, ""
    report.save()
    custody_event_record(
        organisation=organisation,
        action=Action.REPORT_GENERATED,
        actor=report.requested_by,
        case=report.case,
        evidence=report.evidence,
        details={
            "report": str(report.public_id),
            "kind": report.kind,
            "evidence": evidence_ids,
            "sha256": sha256,
            "size": len(pdf),
            "generated_at": generated_at.isoformat(),
            "checkpoint": {"tree_size": checkpoint.tree_size, "root_hash": checkpoint.root_hash},
        },
    )
    return report


@transaction.atomic
def report_fail(*, report: Report, error: str) -> Report | None:
    """Record the failure; None (nothing written) when the run was taken over after this worker's lease lapsed."""
    _organisation_lock(report.pk)
    if not run_still_claimed(report):
        return None
    _fail(report, error)
    return report


def _dispatch_after_commit(report: Report) -> None:
    transaction.on_commit(lambda: async_task(GENERATE_TASK, report.pk, group="reports"))


def _organisation_lock(report_id: int) -> None:
    """Lock the report's organisation before the report row, in the one lock order of every writer."""
    Organisation.objects.lock(Report.objects.values_list("case__organisation_id", flat=True).get(pk=report_id))


def _fail(report: Report, error: str) -> None:
    report.status, report.error = ReportStatus.FAILED, error
    report.save(update_fields=["status", "error"])


@transaction.atomic
def report_download_record(*, report: Report, actor) -> None:
    """Record that `actor` received a copy of the report."""
    custody_event_record(
        organisation=report.case.organisation,
        action=Action.REPORT_DOWNLOADED,
        actor=actor,
        case=report.case,
        evidence=report.evidence,
        details={"report": str(report.public_id), "sha256": report.sha256},
    )
