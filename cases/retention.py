"""Applying each organisation's retention policy: which items' media is due for deletion now, and the scheduled
job (and `purge_media` command) that deletes it through `evidence_media_delete`.

Nothing under legal hold and nothing whose analysis is not done is ever due; privacy first also waits for a
generated report covering the item, so the findings are on record before the bytes go.
"""

import logging
from dataclasses import dataclass
from datetime import timedelta

from django.db.models import Exists, OuterRef, Subquery
from django.utils import timezone

from forensics.models import Analysis
from reports.models import Report, ReportKind, ReportStatus

from .exceptions import MediaDeletionRefused
from .models import AnalysisStatus, EvidenceItem, Organisation, RetentionPolicy
from .services import evidence_media_delete

logger = logging.getLogger(__name__)

SCHEDULE_SYSTEM = "retention schedule"


@dataclass(frozen=True)
class DueDeletion:
    item: EvidenceItem
    reason: str


def retention_due(organisation: Organisation) -> list[DueDeletion]:
    """The items of `organisation` whose media its policy says to delete now, oldest first."""
    policy = organisation.retention_policy
    if policy == RetentionPolicy.KEEP:
        return []
    last_analysed = Analysis.objects.filter(evidence=OuterRef("pk"), status=AnalysisStatus.DONE).order_by(
        "-finished_at"
    )
    items = (
        EvidenceItem.objects.in_organisation(organisation)
        .media_held()
        .filter(case__legal_hold=False, analysis_status=AnalysisStatus.DONE)
        .annotate(analysed_at=Subquery(last_analysed.values("finished_at")[:1]))
        .filter(analysed_at__isnull=False)
        .select_related("case__organisation")
        .order_by("received_at", "id")
    )
    if policy == RetentionPolicy.AFTER_DAYS:
        days = organisation.retention_days
        items = items.filter(analysed_at__lte=timezone.now() - timedelta(days=days))
        return [
            DueDeletion(item, f"retention policy: {days} days after analysis (analysed {item.analysed_at:%Y-%m-%d})")
            for item in items
        ]
    done = Report.objects.filter(status=ReportStatus.DONE)
    # A case report covers the items its case held when it was generated, with the verdicts they had then.
    reported = Exists(done.filter(evidence=OuterRef("pk"))) | Exists(
        done.filter(kind=ReportKind.CASE, case=OuterRef("case"), generated_at__gte=OuterRef("analysed_at"))
    )
    return [
        DueDeletion(item, "retention policy: privacy first (analysis done and report generated)")
        for item in items.filter(reported)
    ]


def retention_apply(organisation: Organisation, *, system: str) -> list[EvidenceItem]:
    """Delete the media of every item due under the organisation's policy; return the items deleted.

    Each deletion is its own transaction, so one refusal (a hold placed meanwhile) does not undo the others.
    """
    deleted = []
    for due in retention_due(organisation):
        try:
            evidence_media_delete(item=due.item, reason=due.reason, system=system)
        except MediaDeletionRefused as refusal:
            logger.info("Retention skipped evidence %s: %s", due.item.public_id, refusal.message)
            continue
        deleted.append(due.item)
    return deleted


def retention_apply_all() -> int:
    """The scheduled job: apply every organisation's policy; return how many items' media was deleted."""
    return sum(
        len(retention_apply(organisation, system=SCHEDULE_SYSTEM))
        for organisation in Organisation.objects.exclude(retention_policy=RetentionPolicy.KEEP)
    )
